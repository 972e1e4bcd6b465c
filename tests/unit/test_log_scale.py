"""Numeric parameters on a log scale: validation, JSON, encoding, sampling, constraints, the
model reader and the summaries that show them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kiln import campaign as rules
from kiln import encoding
from kiln.constraints.checks import ConstraintSet
from kiln.errors import CampaignError, OutsideSpaceError, SpaceError
from kiln.lab import VirtualLatpLab
from kiln.model.fitted import fit_model
from kiln.model.reader import SLICE_POINTS, ModelReader
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter, DiscreteParameter, parameter_from_dict
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln_client.cli.analysis import summary_lines
from kiln_client.cli.campaigns import describe_campaign

GRID = [10, 30, 60, 480, 540]
TEMPERATURE = {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100}
TIME = {"name": "time_min", "kind": "continuous", "low": 10, "high": 540, "unit": "min"}


def space_of(*params: dict[str, Any], constraints: Any = None) -> SearchSpace:
    return SearchSpace.from_dict({"parameters": list(params), "constraints": constraints})


def log(param: dict[str, Any]) -> dict[str, Any]:
    return {**param, "scale": "log"}


# ------------------------------------------------------------------------------ encoding
def test_a_log_parameter_encodes_ln_x_and_its_grid_decodes_exactly() -> None:
    space = space_of(
        log(TIME), {"name": "listed", "kind": "discrete", "values": GRID, "scale": "log"}
    )
    points = [{"time_min": t, "listed": t} for t in GRID]
    X = space.encode(points)
    expected = [math.log(t / 10) / math.log(54) for t in GRID]
    assert np.allclose(X, np.column_stack([expected, expected]), rtol=0, atol=1e-15)
    assert X[0, 0] == 0.0 and X[-1, 0] == 1.0
    middle = space.encode([{"time_min": math.sqrt(10 * 540), "listed": 10}])[0, 0]
    assert middle == pytest.approx(0.5, abs=1e-12)
    assert [space.decode(row) for row in X] == points


def test_a_linear_encoding_is_the_old_formula_bit_for_bit() -> None:
    space = space_of(
        TEMPERATURE, {**TIME, "scale": "linear"}, {**TIME, "name": "stepped", "step": 5}
    )
    rng = np.random.default_rng(3)
    points = [*space.sample(200, rng), {"temperature_c": 700, "time_min": 600, "stepped": 5}]
    X = space.encode(points)
    for j, p in enumerate(space.parameters):
        assert isinstance(p, ContinuousParameter)
        x = np.array([pt[p.name] for pt in points], dtype=float)
        assert np.array_equal(X[:, j], (x - p.low) / p.span)
    u = rng.uniform(-0.2, 1.2, size=(50, 3))
    for row in u:
        assert space.decode(row) == {
            p.name: p.snap(p.low + float(row[j]) * p.span) for j, p in enumerate(space.parameters)
        }


@pytest.mark.parametrize("value", [0, -5, 0.0])
def test_a_value_that_is_not_positive_cannot_be_encoded_on_a_log_scale(value: float) -> None:
    space = space_of(log(TIME))
    with pytest.raises(OutsideSpaceError, match="must be > 0 on a log scale") as caught:
        space.encode([{"time_min": 20}, {"time_min": value}])
    assert caught.value.parameter == "time_min"


def test_a_result_at_zero_is_refused_on_a_log_scale_even_within_the_range_tolerance() -> None:
    space = space_of(log({**TIME, "low": 1e-10}))
    assert space.validate({"time_min": 1e-10}) == []
    with pytest.raises(OutsideSpaceError, match="must be > 0 on a log scale"):
        space.validate({"time_min": 0})  # within the float tolerance of low, but no ln


def test_old_values_outside_a_log_range_map_outside_the_unit_cube() -> None:
    space = space_of(log(TIME))
    X = space.encode([{"time_min": 5}, {"time_min": 1080}])[:, 0]
    assert X[0] < 0 < 1 < X[1]
    assert encoding.from_unit(space["time_min"], X) == pytest.approx([5, 1080])


def test_a_log_length_scale_is_a_factor() -> None:
    space = space_of(TEMPERATURE, log(TIME))
    out = space.length_scales_in_units([0.5, 0.5])
    assert out["temperature_c"] == pytest.approx(150)
    assert out["time_min"] == pytest.approx(math.sqrt(54))  # (540 / 10) ** 0.5
    assert space.length_scale_factors() == ["time_min"]
    assert space_of(TEMPERATURE, TIME).length_scale_factors() == []


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({**TIME, "scale": "cubic"}, "scale", "unknown"),
        (log({**TIME, "low": 0}), "low", "not positive"),
        (log({**TIME, "low": -10}), "low", "not positive"),
        (log({**TIME, "hard_low": 0}), "hard_low", "not positive"),
        ({"name": "t", "kind": "discrete", "values": [0, 10], "scale": "log"}, "values", "positive"),
        ({"name": "t", "kind": "discrete", "values": [5], "hard_low": -1, "scale": "log"}, "hard_low", "positive"),
        ({"name": "gas", "kind": "categorical", "values": ["air"], "scale": "log"}, "scale", "not allowed"),
        ({"name": "gas", "kind": "categorical", "values": ["air"], "scale": "linear"}, "scale", "not allowed"),
    ],
)  # fmt: skip
def test_a_bad_scale_names_the_field(payload: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SpaceError, match=words) as caught:
        parameter_from_dict(payload, path="parameters[2]")
    assert caught.value.field == f"parameters[2].{field}"


def test_scale_round_trips_and_linear_is_stored_as_absent() -> None:
    for payload in (log(TIME), {"name": "t", "kind": "discrete", "values": GRID, "scale": "log"}):
        param = parameter_from_dict(payload)
        assert param.to_dict()["scale"] == "log"
        assert parameter_from_dict(param.to_dict()) == param
    linear = parameter_from_dict({**TIME, "scale": "linear"})
    assert linear.to_dict() == parameter_from_dict(TIME).to_dict() == TIME | {"kind": "continuous"}
    assert "scale" not in linear.to_dict()
    assert linear == ContinuousParameter(**{k: v for k, v in TIME.items() if k != "kind"})
    assert DiscreteParameter("t", GRID, scale=None).to_dict() == {
        "name": "t",
        "kind": "discrete",
        "values": GRID,
    }


# ------------------------------------------------------------------------------ sampling
def test_a_log_parameter_without_a_step_is_sampled_log_uniformly() -> None:
    space = space_of(log(TIME), TEMPERATURE)
    times = np.array([p["time_min"] for p in space.sample(20_000, np.random.default_rng(0))])
    assert times.min() >= 10 and times.max() <= 540
    below_middle = float(np.mean(times < math.sqrt(10 * 540)))
    assert below_middle == pytest.approx(0.5, abs=0.02)  # linear sampling: 0.12
    assert float(np.mean(times < 60)) == pytest.approx(math.log(6) / math.log(54), abs=0.02)


def test_a_log_parameter_with_a_step_samples_its_grid() -> None:
    space = space_of(log({**TIME, "step": 10, "high": 100}))
    drawn = {p["time_min"] for p in space.sample(2_000, np.random.default_rng(0))}
    assert drawn == set(range(10, 101, 10))


# --------------------------------------------------------------------------- constraints
FORBIDDEN = {"kind": "forbidden", "when": {"temperature_c": {">=": 1050}, "time_min": {">": 120}}}
LINEAR = {"kind": "linear", "terms": {"temperature_c": 1, "time_min": 1}, "op": "<=", "rhs": 1200}


def test_constraints_on_a_log_parameter_hold_where_they_hold_on_a_linear_one() -> None:
    points = space_of(TEMPERATURE, log(TIME)).sample(5_000, np.random.default_rng(1))
    points += [{"temperature_c": 1050, "time_min": 120}, {"temperature_c": 1010, "time_min": 200}]
    for constraints in ([FORBIDDEN], [LINEAR], [FORBIDDEN, LINEAR]):
        on_log = space_of(TEMPERATURE, log(TIME), constraints=constraints)
        on_linear = space_of(TEMPERATURE, TIME, constraints=constraints)
        mask = on_log.constraints.mask(on_log.encode(points))
        assert np.array_equal(mask, on_linear.constraints.mask(on_linear.encode(points)))
        assert 0 < mask.sum() < len(points)
    assert on_log.constraints.mask(on_log.encode(points[-2:])).tolist() == [True, False]


def test_an_equality_is_solved_for_a_log_parameter_in_its_own_units() -> None:
    equal = {
        "kind": "linear",
        "terms": {"temperature_c": 0.5, "time_min": 1},
        "op": "==",
        "rhs": 800,
    }
    space = space_of({**TEMPERATURE, "step": 25}, log(TIME), constraints=[equal])
    candidates = space.candidates(np.random.default_rng(0), n_samples=200)
    assert candidates
    for p in candidates:
        assert 0.5 * p["temperature_c"] + p["time_min"] == pytest.approx(800, abs=1e-6)
    cs: ConstraintSet = space.constraints
    assert cs.mask_points(candidates).all()


# ---------------------------------------------------------------------------------- model
@pytest.fixture(scope="module")
def reader() -> ModelReader:
    space = space_of(
        {"name": "acid_wt_pct", "kind": "continuous", "low": -22.5, "high": 7.5},
        TEMPERATURE,
        log({**TIME, "high": 480}),
    )
    objective = Objective.from_dict(
        {"name": "conductivity", "goal": "maximize", "transform": "log10"}
    )
    fitted = fit_model(space, objective, VirtualLatpLab(seed=0).seed_grid(), n_restarts=1)
    summary = fitted.summary()["hyperparameters"]
    assert summary["length_scale_factors"] == ["time_min"]
    unit = summary["length_scales_unit_cube"][2]
    assert summary["length_scales"]["time_min"] == pytest.approx(48**unit)
    return ModelReader.from_state(fitted.to_dict())


def test_a_slice_along_a_log_parameter_is_evenly_spaced_in_ln(reader: ModelReader) -> None:
    data = reader.slice("temperature_c", "time_min", Strategy())
    times = data["y"]["values"]
    assert len(times) == SLICE_POINTS and times[0] == 10 and times[-1] == pytest.approx(480)
    assert np.allclose(np.diff(np.log(times)), math.log(48) / (SLICE_POINTS - 1))
    measured = {(o["x"], o["y"]) for o in data["observations"]}
    grid = {(g["parameters"]["temperature_c"], g["parameters"]["time_min"])
            for g in VirtualLatpLab(seed=0).seed_grid()}  # fmt: skip
    assert measured == grid  # the stored encoding decodes to the measured times


# ------------------------------------------------------------------------------- campaign
def stored() -> dict[str, Any]:
    body = {"name": "c", "parameters": [log(TIME)], "objective": {"name": "y", "goal": "maximize"}}
    return {"id": "c1", **rules.campaign_definition(body)}


def test_a_patch_keeps_the_scale_and_refuses_to_change_it() -> None:
    campaign = stored()
    assert campaign["parameters"][0]["scale"] == "log"
    widened, changed = rules.campaign_update(campaign, {"parameters": [{**TIME, "low": 5}]})
    assert changed and widened["parameters"][0] == log({**TIME, "low": 5, "kind": "continuous"})
    for body, field in (
        ({**TIME, "scale": "linear"}, "parameters.0.scale"),
        (log({**TIME, "low": 0}), "parameters.0.low"),
    ):
        with pytest.raises(CampaignError) as caught:
            rules.campaign_update(campaign, {"parameters": [body]})
        assert list(caught.value.errors) == [field]


def test_the_cli_says_log_scale_and_prints_a_factor() -> None:
    lines = describe_campaign({"parameters": [log(TIME), TEMPERATURE]}).splitlines()
    assert lines[0].endswith("10 .. 540 min, log scale")
    assert "log scale" not in lines[1]
    summary = {
        "hyperparameters": {
            "length_scales": {"time_min": 2.5, "temperature_c": 120.0},
            "length_scale_factors": ["time_min"],
        }
    }
    assert "length scales: time_min x2.5, temperature_c 120" in summary_lines(summary)
