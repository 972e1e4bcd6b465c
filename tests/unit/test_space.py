"""Search spaces: definitions, validation, grids, sampling and encoding."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import kiln
from kiln.errors import OutsideSpaceError, SpaceError, SpaceTooLargeError
from kiln.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from kiln.space import SearchSpace

DATA = Path(kiln.__file__).parent / "data" / "latp_table1_search_space.json"

DESIGN_PAYLOAD = {
    "parameters": [
        {"name": "acid_wt_pct", "kind": "continuous", "low": -22.5, "high": 7.5, "step": 1.25,
         "unit": "wt%", "hard_low": -30.0, "hard_high": 15.0},
        {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100, "step": 25,
         "unit": "degC"},
        {"name": "time_min", "kind": "discrete", "values": [10, 20, 30, 60, 120, 240, 480, 540],
         "unit": "min"},
        {"name": "atmosphere", "kind": "categorical", "values": ["air", "argon"]},
    ],
    "version": 3,
}  # fmt: skip


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace.from_dict(DESIGN_PAYLOAD)


def table1_space(iteration: str) -> SearchSpace:
    """The study's Table 1 space for ``iterations_1_2`` or ``iterations_3_4``."""
    table = json.loads(DATA.read_text())
    t = table[iteration]
    return SearchSpace.from_dict(
        {
            "parameters": [
                {"name": "acid_wt_pct", "kind": "discrete", "values": t["acid_wt_pct"]},
                {"name": "temperature_c", "kind": "continuous", **t["temperature_c"]},
                {"name": "time_min", "kind": "discrete", "values": t["time_min"]},
            ]
        }
    )


# ------------------------------------------------------------------------------ definitions
def test_round_trip(space: SearchSpace) -> None:
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert space.to_dict() == DESIGN_PAYLOAD
    assert space.names == ["acid_wt_pct", "temperature_c", "time_min", "atmosphere"]
    assert space.version == 3
    assert space.dim == 5


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p["parameters"][1].update(high=700), "parameters[1].high"),
        (lambda p: p["parameters"][0].update(step=0), "parameters[0].step"),
        (lambda p: p["parameters"][0].update(hard_low=-10), "parameters[0].hard_low"),
        (lambda p: p["parameters"][0].update(hard_high=0), "parameters[0].hard_high"),
        (lambda p: p["parameters"][2].update(values=[]), "parameters[2].values"),
        (lambda p: p["parameters"][2].update(values=[1, float("nan")]), "parameters[2].values[1]"),
        (lambda p: p["parameters"][3].update(values=["air", "air"]), "parameters[3].values"),
        (lambda p: p["parameters"][3].update(kind="ordinal"), "parameters[3].kind"),
        (lambda p: p["parameters"][3].update(low=1), "parameters[3].low"),
        (lambda p: p["parameters"][1].pop("low"), "parameters[1].low"),
        (lambda p: p["parameters"][1].update(name="acid_wt_pct"), "parameters[1].name"),
        (lambda p: p["parameters"][1].update(high="hot"), "parameters[1].high"),
        (lambda p: p.update(parameters=[]), "parameters"),
        (lambda p: p.update(version=0), "version"),
    ],
)
def test_bad_definitions_name_the_field(mutate, field: str) -> None:
    payload = json.loads(json.dumps(DESIGN_PAYLOAD))
    mutate(payload)
    with pytest.raises(SpaceError) as info:
        SearchSpace.from_dict(payload)
    assert info.value.field == field


def test_null_optional_fields_are_absent() -> None:
    payload = {"parameters": [
        {"name": "t", "kind": "continuous", "low": 0, "high": 1, "step": None, "unit": None,
         "hard_low": None, "hard_high": None},
        {"name": "gas", "kind": "categorical", "values": ["air"], "unit": None, "low": None},
    ]}  # fmt: skip
    space = SearchSpace.from_dict(payload)
    assert space.to_dict()["parameters"][0] == {"name": "t", "kind": "continuous", "low": 0,
                                                "high": 1}  # fmt: skip
    with pytest.raises(SpaceError) as info:
        SearchSpace.from_dict({"parameters": [{"name": "t", "kind": "continuous", "low": None,
                                               "high": 1}]})  # fmt: skip
    assert info.value.field == "parameters[0].low"


def test_table1_spaces_are_expressible() -> None:
    s12 = table1_space("iterations_1_2")
    s34 = table1_space("iterations_3_4")
    assert s12.grid_size() == 5 * 7 * 12
    assert s34.grid_size() == 9 * 13 * 22
    best = {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450}
    assert s34.contains(best) and not s12.contains(best)
    assert not s34.contains({**best, "temperature_c": 1010})
    assert s34.validate({**best, "temperature_c": 1010}) == ["temperature_c not on the step grid"]
    assert best in s34.grid()
    assert (
        json.dumps(s34.grid()[-1]) == '{"acid_wt_pct": 7.5, "temperature_c": 1100, "time_min": 540}'
    )


# ------------------------------------------------------------------------------------ grid
def test_grid_values_are_clean_in_json() -> None:
    acid = ContinuousParameter("acid", -22.5, 7.5, step=1.25)
    values = acid.grid_values()
    assert len(values) == 25
    assert -11.25 in values and values[-1] == 7.5
    assert json.dumps(values[9]) == "-11.25"
    temp = ContinuousParameter("t", 800, 1100, step=25)
    assert json.dumps(temp.grid_values()[8]) == "1000"
    tenth = ContinuousParameter("x", 0, 1, step=0.1)
    assert (
        json.dumps(tenth.grid_values()) == "[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]"
    )
    assert (
        json.dumps(ContinuousParameter("y", 0.3, 0.9, step=0.3).grid_values()) == "[0.3, 0.6, 0.9]"
    )


def test_grid_enumerates_every_combination(space: SearchSpace) -> None:
    grid = space.grid()
    assert len(grid) == space.grid_size() == 25 * 13 * 8 * 2
    assert len({space.key(p) for p in grid}) == len(grid)
    assert all(space.contains(p) for p in grid[:: len(grid) // 50])
    assert {
        "acid_wt_pct": -11.25,
        "temperature_c": 1000,
        "time_min": 480,
        "atmosphere": "argon",
    } in grid


def test_grid_size_guard() -> None:
    space = SearchSpace(
        [ContinuousParameter("x", 0, 1, step=1e-3), ContinuousParameter("y", 0, 1, step=1e-3)]
    )
    assert space.grid_size() == 1001 * 1001
    with pytest.raises(SpaceTooLargeError, match="1002001"):
        space.grid()
    assert not space.is_enumerable()
    assert next(space.iter_grid()) == {"x": 0, "y": 0}
    unstepped = SearchSpace([ContinuousParameter("x", 0, 1)])
    assert unstepped.grid_size() is None
    with pytest.raises(SpaceTooLargeError, match="without a step"):
        unstepped.grid()


# ------------------------------------------------------------------------------ validation
def _point(**changes):
    p = {"acid_wt_pct": -7.5, "temperature_c": 1000, "time_min": 480, "atmosphere": "air"}
    p.update(changes)
    return p


def test_validate_accepts_a_grid_point(space: SearchSpace) -> None:
    assert space.validate(_point()) == []
    assert space.contains(_point())


@pytest.mark.parametrize(
    ("point", "parameter", "needle"),
    [
        ({**_point(), "pressure": 1.0}, "pressure", "unknown parameter"),
        ({k: v for k, v in _point().items() if k != "time_min"}, "time_min", "missing"),
        (_point(temperature_c=float("nan")), "temperature_c", "finite"),
        (_point(temperature_c=float("inf")), "temperature_c", "finite"),
        (_point(temperature_c="1000"), "temperature_c", "must be a number"),
        (_point(temperature_c=True), "temperature_c", "must be a number"),
        (_point(atmosphere="vacuum"), "atmosphere", "'vacuum' is not one of"),
        (_point(atmosphere=1), "atmosphere", "must be one of"),
        (_point(acid_wt_pct=-31.0), "acid_wt_pct", "-31 is outside the hard limits [-30, 15]"),
        (_point(temperature_c=1150), "temperature_c", "1150 is outside the range [800, 1100]"),
        (_point(time_min=600), "time_min", "600 is outside the range [10, 540]"),
    ],
)
def test_validate_says_which_parameter_and_why(space, point, parameter: str, needle: str) -> None:
    with pytest.raises(OutsideSpaceError) as info:
        space.validate(point)
    assert info.value.parameter == parameter
    assert needle in info.value.reason


def test_validate_flags_values_inside_hard_limits(space: SearchSpace) -> None:
    flags = space.validate(_point(acid_wt_pct=-26.25))
    assert flags == ["acid_wt_pct outside current range [-22.5, 7.5]"]
    assert not space.contains(_point(acid_wt_pct=-26.25))
    assert space.validate(_point(temperature_c=1010)) == ["temperature_c not on the step grid"]
    assert space.validate(_point(time_min=45)) == ["time_min not on listed values"]


# ------------------------------------------------------------------------------ sampling
def test_sample_respects_steps_and_is_seeded(space: SearchSpace) -> None:
    a = space.sample(500, np.random.default_rng(1))
    b = space.sample(500, np.random.default_rng(1))
    assert a == b
    assert all(space.contains(p) for p in a)
    assert {p["atmosphere"] for p in a} == {"air", "argon"}


def test_candidates_grid_or_samples() -> None:
    small = table1_space("iterations_3_4")
    assert len(small.candidates(np.random.default_rng(0))) == 2574
    free = SearchSpace([ContinuousParameter("x", 0, 1), DiscreteParameter("d", [1, 2, 3])])
    cands = free.candidates(np.random.default_rng(0), n_samples=300)
    assert len(cands) == 300
    assert all(0 <= c["x"] <= 1 and c["d"] in (1, 2, 3) for c in cands)
    coarse = SearchSpace([ContinuousParameter("x", 0, 1, step=0.5)])
    assert coarse.candidates(np.random.default_rng(0), max_grid=2, n_samples=100) != []
    assert len(coarse.candidates(np.random.default_rng(0), max_grid=2, n_samples=100)) <= 3


# ------------------------------------------------------------------------------ encoding
def test_encode_unit_cube_and_one_hot(space: SearchSpace) -> None:
    X = space.encode(
        [
            _point(acid_wt_pct=-22.5, temperature_c=1100, time_min=10, atmosphere="argon"),
            _point(acid_wt_pct=-7.5, temperature_c=950, time_min=540),
        ]
    )
    np.testing.assert_allclose(X, [[0, 1, 0, 0, 1], [0.5, 0.5, 1, 1, 0]])
    outside = space.encode([_point(acid_wt_pct=-37.5)])
    assert outside[0, 0] == pytest.approx(-0.5)


def test_decode_snaps_back(space: SearchSpace) -> None:
    p = _point(acid_wt_pct=-11.25, temperature_c=1025, time_min=240, atmosphere="argon")
    row = space.encode([p])[0]
    assert space.decode(row) == p
    assert space.decode(row + np.array([0.013, 0.02, 0.01, 0.0, 0.0]))["acid_wt_pct"] == -11.25
    assert space.decode(np.array([2.0, -1.0, 0.5, 0.1, 0.9])) == {
        "acid_wt_pct": 7.5, "temperature_c": 800, "time_min": 240, "atmosphere": "argon"}  # fmt: skip


def test_length_scales_in_units(space: SearchSpace) -> None:
    out = space.length_scales_in_units([0.1, 0.5, 0.25, 2.0, 3.0])
    assert out["acid_wt_pct"] == pytest.approx(3.0)
    assert out["temperature_c"] == pytest.approx(150.0)
    assert out["time_min"] == pytest.approx(132.5)
    assert out["atmosphere"] == {"air": 2.0, "argon": 3.0}


def test_single_value_parameters_encode_without_dividing_by_zero() -> None:
    space = SearchSpace([DiscreteParameter("d", [5]), CategoricalParameter("c", ["only"]),
                         ContinuousParameter("x", 2.0, 2.0)])  # fmt: skip
    X = space.encode(space.grid())
    assert X.tolist() == [[0.0, 1.0, 0.0]]
    assert all(math.isfinite(v) for v in X.ravel())
