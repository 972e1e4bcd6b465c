"""The core entry points: fit_model and propose, including every degenerate input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import kiln.propose as propose_module
from kiln.errors import (
    InvalidObservationError,
    ModelFitError,
    NoObservationsError,
    OutsideSpaceError,
)
from kiln.model.fitted import FittedModel, fit_model
from kiln.objective import Objective
from kiln.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from kiln.propose import Batch, propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln.training import select_training_set

OBJ = Objective("conductivity", unit="S/cm")


def latp_space(version: int = 1) -> SearchSpace:
    return SearchSpace(
        [
            DiscreteParameter("acid_wt_pct", [-22.5, -18.75, -15.0, -11.25, -7.5, -3.75, 0.0,
                                              3.75, 7.5], hard_low=-30.0),
            ContinuousParameter("temperature_c", 800, 1100, step=25),
            DiscreteParameter("time_min", [10, 30, 60, 120, 240, 480, 540]),
        ],
        version=version,
    )  # fmt: skip


def truth(a: float, t: float, m: float) -> float:
    log10 = -3.0 - ((a + 9) / 12) ** 2 - ((t - 1000) / 150) ** 2 - ((math.log(m) - 6) / 2) ** 2
    return 10.0**log10


def seed_observations(noise: float = 0.1, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for a in (-22.5, -7.5, 7.5):
        for t in (800, 950, 1100):
            for m in (10, 480):
                value = truth(a, t, m) * 10 ** (noise * rng.normal())
                out.append(
                    {"sample_id": f"S{len(out)}",
                     "parameters": {"acid_wt_pct": a, "temperature_c": t, "time_min": m},
                     "objective": value}
                )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def observations() -> list[dict]:
    return seed_observations()


@pytest.fixture(scope="module")
def batch(observations) -> Batch:
    return propose(latp_space(), OBJ, observations, [], Strategy())


def _keys(space: SearchSpace, points) -> list[tuple]:
    return [space.key(p) for p in points]


# ------------------------------------------------------------------------------- propose
def test_a_normal_batch(batch: Batch, observations) -> None:
    space = latp_space()
    assert len(batch.proposals) == 6
    assert batch.fallback is None and not batch.exhausted
    keys = _keys(space, [p.parameters for p in batch.proposals])
    assert len(set(keys)) == 6
    assert not set(keys) & set(_keys(space, [o["parameters"] for o in observations]))
    for p in batch.proposals:
        assert space.contains(p.parameters)
        assert p.predicted_mean is not None and p.predicted_mean > 0
        assert p.predicted_std is not None and p.predicted_std > 0
        assert p.acquisition_value is not None and math.isfinite(p.acquisition_value)
    # UCB values of a believer batch never increase along the batch
    values = [p.acquisition_value for p in batch.proposals]
    assert values == sorted(values, reverse=True)
    payload = json.loads(json.dumps(batch.to_dict()))
    assert payload["proposals"][0]["parameters"] == batch.proposals[0].parameters
    assert payload["model"]["space_version"] == 1
    assert "model" not in batch.to_dict(include_model=False)


def test_batch_is_seeded(observations, batch: Batch) -> None:
    again = propose(latp_space(), OBJ, observations, [], Strategy())
    assert [p.parameters for p in again.proposals] == [p.parameters for p in batch.proposals]


def test_pending_points_are_fantasies_first(observations, batch: Batch) -> None:
    first = batch.proposals[0].parameters
    with_pending = propose(latp_space(), OBJ, observations, [first], Strategy(), model=batch.model)
    params = [p.parameters for p in with_pending.proposals]
    assert first not in params
    # believing the pending point first is exactly what the batch did after its first pick
    assert params[:5] == [p.parameters for p in batch.proposals[1:]]
    # pending points may also be given as proposal objects
    wrapped = propose(latp_space(), OBJ, observations, [{"parameters": first}], Strategy(),
                      model=batch.model)  # fmt: skip
    assert [p.parameters for p in wrapped.proposals] == params


@pytest.mark.parametrize("method", ["constant_liar_min", "constant_liar_mean", "constant_liar_max"])
@pytest.mark.parametrize("acquisition", ["ei", "pi"])
def test_other_strategies(observations, batch: Batch, method: str, acquisition: str) -> None:
    strategy = Strategy(acquisition=acquisition, batch_method=method, batch_size=4)
    out = propose(latp_space(), OBJ, observations, [], strategy, model=batch.model)
    assert len({latp_space().key(p.parameters) for p in out.proposals}) == 4
    assert all(p.acquisition_value is not None for p in out.proposals)


def test_random_acquisition(observations, batch: Batch) -> None:
    strategy = Strategy(acquisition="random", batch_size=5)
    a = propose(latp_space(), OBJ, observations, [], strategy, model=batch.model, random_state=4)
    b = propose(latp_space(), OBJ, observations, [], strategy, model=batch.model, random_state=4)
    assert [p.parameters for p in a.proposals] == [p.parameters for p in b.proposals]
    assert all(p.acquisition_value is None and p.predicted_mean for p in a.proposals)


def test_a_matching_model_is_reused_and_a_stale_one_refitted(
    observations, batch: Batch, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert batch.model is not None
    rebuilt = FittedModel.from_dict(json.loads(json.dumps(batch.model.to_dict())))
    calls = []
    real_fit = propose_module.fit_observations
    monkeypatch.setattr(
        propose_module, "fit_observations", lambda *a, **k: calls.append(1) or real_fit(*a, **k)
    )
    out = propose(latp_space(), OBJ, observations, [], Strategy(), model=rebuilt)
    assert calls == [] and out.model is rebuilt
    assert [p.parameters for p in out.proposals] == [p.parameters for p in batch.proposals]
    propose(latp_space(), OBJ, observations[:-1], [], Strategy(), model=rebuilt)
    propose(latp_space(version=2), OBJ, observations, [], Strategy(), model=rebuilt)
    assert calls == [1, 1]


def many_observations(n: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    points = latp_space().sample(n, rng)
    return [
        {"sample_id": f"M{i}", "parameters": p,
         "objective": truth(p["acid_wt_pct"], p["temperature_c"], p["time_min"])
         * 10 ** (0.1 * rng.normal())}
        for i, p in enumerate(points)
    ]  # fmt: skip


def test_with_a_training_limit_a_model_fitted_on_its_subset_is_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = many_observations(40)
    subset = select_training_set(data, OBJ, limit=20, seed=3).observations
    model = fit_model(latp_space(), OBJ, subset)

    def no_fit(*args: object, **kwargs: object) -> FittedModel:
        raise AssertionError("the batch fitted a model")

    monkeypatch.setattr(propose_module, "fit_observations", no_fit)
    bounded = {"training_limit": 20, "training_seed": 3}
    out = propose(latp_space(), OBJ, data, [], Strategy(), model=model, **bounded)
    assert out.model is model and out.fallback is None
    measured = _keys(latp_space(), [o["parameters"] for o in data])
    assert not set(_keys(latp_space(), [p.parameters for p in out.proposals])) & set(measured)
    with pytest.raises(AssertionError, match="fitted"):  # every result: not the stored model's
        propose(latp_space(), OBJ, data, [], Strategy(), model=model)
    with pytest.raises(AssertionError, match="fitted"):  # another seed: another subset
        propose(latp_space(), OBJ, data, [], Strategy(), model=model, training_limit=20,
                training_seed=4)  # fmt: skip


def test_with_a_training_limit_the_fit_sees_exactly_the_subset() -> None:
    data = [*many_observations(40), {"parameters": many_observations(1)[0]["parameters"],
                                      "status": "failed"}]  # fmt: skip
    subset = select_training_set(data, OBJ, limit=20, seed=3).observations
    out = propose(latp_space(), OBJ, data, [], Strategy(), training_limit=20, training_seed=3)
    assert out.model is not None and out.fallback is None
    assert out.model.sample_ids == [o["sample_id"] for o in subset]
    expected = latp_space().encode([o["parameters"] for o in subset])
    assert np.array_equal(out.model.surrogate.X_train_, expected)
    # EI's incumbent, the best target the model holds, is the best of every result.
    best = max(o["objective"] for o in data if "objective" in o)
    assert out.model.best_observed["objective"] == best
    everything = propose(latp_space(), OBJ, data, [], Strategy())
    assert everything.model is not None and everything.model.n_observations == 40


def test_fit_model_warm_start_reaches_the_cold_optimum(observations) -> None:
    earlier = fit_model(latp_space(), OBJ, observations[:-2])
    cold = fit_model(latp_space(), OBJ, observations)
    warm = fit_model(latp_space(), OBJ, observations, warm_start=earlier, n_restarts=0)
    assert warm.surrogate.log_marginal_likelihood_ == pytest.approx(
        cold.surrogate.log_marginal_likelihood_, abs=1e-3
    )
    assert warm.best_predicted["parameters"] == cold.best_predicted["parameters"]
    assert warm.best_predicted["mean"] == pytest.approx(cold.best_predicted["mean"], rel=1e-3)
    # a model of another encoding (here: one parameter fewer) is no start; the fit goes cold
    narrow = SearchSpace(latp_space().parameters[:2])
    other = fit_model(
        narrow, OBJ, [{**o, "parameters": dict(list(o["parameters"].items())[:2])}
                      for o in observations]
    )  # fmt: skip
    assert fit_model(latp_space(), OBJ, observations, warm_start=other).n_observations == len(
        observations
    )


# ------------------------------------------------------------------------ degenerate input
def test_no_observations_space_fills() -> None:
    out = propose(latp_space(), OBJ, [], [], Strategy())
    assert out.fallback == "space_filling: no observations" and out.model is None
    assert len(out.proposals) == 6 and not out.exhausted
    assert all(p.predicted_mean is None and p.acquisition_value is None for p in out.proposals)
    params = [p.parameters for p in out.proposals]
    assert len(set(_keys(latp_space(), params))) == 6
    # maximin spreads out: the first picks are corners of the space, far apart
    X = latp_space().encode(params[:2])
    assert np.linalg.norm(X[0] - X[1]) > 1.0
    again = propose(latp_space(), OBJ, [], [], Strategy())
    assert [p.parameters for p in again.proposals] == params


def test_one_observation_space_fills(observations) -> None:
    out = propose(latp_space(), OBJ, observations[:1], observations[1:2], Strategy())
    assert out.fallback == "space_filling: one observation"
    params = [p.parameters for p in out.proposals]
    assert observations[0]["parameters"] not in params
    assert observations[1]["parameters"] not in params


def test_all_targets_equal_space_fills(observations) -> None:
    flat = [{**o, "objective": 1e-4} for o in observations[:5]]
    out = propose(latp_space(), OBJ, flat, [], Strategy())
    assert out.fallback == "space_filling: all targets equal"
    assert len(out.proposals) == 6
    assert not set(_keys(latp_space(), [p.parameters for p in out.proposals])) & set(
        _keys(latp_space(), [o["parameters"] for o in flat])
    )


def test_a_failed_fit_space_fills(observations, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ModelFitError("the kernel matrix is not positive definite")

    monkeypatch.setattr(propose_module, "fit_observations", broken)
    out = propose(latp_space(), OBJ, observations, [], Strategy())
    assert out.fallback is not None and out.fallback.startswith("space_filling: model fit failed")
    assert len(out.proposals) == 6


@pytest.mark.parametrize(
    ("value", "needle"),
    [(float("nan"), "not finite"), (float("inf"), "not finite"), (0.0, "not positive"),
     (-1e-4, "not positive"), (None, "not a number"), ("1e-3", "not a number")],
)  # fmt: skip
def test_bad_objective_values_name_the_observation(observations, value, needle: str) -> None:
    bad = [*observations[:3], {**observations[3], "objective": value}]
    for call in (lambda: propose(latp_space(), OBJ, bad, [], Strategy()),
                 lambda: fit_model(latp_space(), OBJ, bad)):  # fmt: skip
        with pytest.raises(InvalidObservationError) as info:
            call()
        assert info.value.field == "observations[3].objective"
        assert needle in info.value.reason


def test_unencodable_parameters_are_domain_errors(observations) -> None:
    bad = [*observations[:3], {"parameters": {"acid_wt_pct": 0.0, "time_min": 10}, "objective": 1}]
    with pytest.raises(OutsideSpaceError) as info:
        propose(latp_space(), OBJ, bad, [], Strategy())
    assert info.value.parameter == "temperature_c" and "observation 3" in info.value.reason
    with pytest.raises(OutsideSpaceError, match="pending proposal 0"):
        propose(latp_space(), OBJ, observations, [{"acid_wt_pct": 0.0}], Strategy())
    with pytest.raises(InvalidObservationError, match="observations\\[0\\]"):
        propose(latp_space(), OBJ, ["not an observation"], [], Strategy())


def test_duplicate_points_train_and_are_not_proposed(observations) -> None:
    dup = observations + [{**o, "objective": o["objective"] * 1.2} for o in observations[:6]]
    out = propose(latp_space(), OBJ, dup, [], Strategy())
    assert out.fallback is None and len(out.proposals) == 6
    assert out.model is not None and out.model.n_observations == len(dup)
    assert not set(_keys(latp_space(), [p.parameters for p in out.proposals])) & set(
        _keys(latp_space(), [o["parameters"] for o in dup])
    )


def test_points_outside_the_space_still_train(observations) -> None:
    outside = {"parameters": {"acid_wt_pct": -26.25, "temperature_c": 1000, "time_min": 480},
               "objective": 2e-6}  # fmt: skip
    space = latp_space()
    assert space.validate(outside["parameters"]) == [
        "acid_wt_pct outside current range [-22.5, 7.5]"
    ]
    out = propose(space, OBJ, [*observations, outside], [], Strategy())
    assert out.model is not None and out.model.n_observations == len(observations) + 1
    assert out.model.surrogate.X_train_[:, 0].min() < 0
    assert all(space.contains(p.parameters) for p in out.proposals)


def test_failed_syntheses_are_skipped(observations) -> None:
    failed = {"parameters": observations[0]["parameters"], "status": "failed"}
    model = fit_model(latp_space(), OBJ, [*observations, failed], random_state=0)
    assert model.n_observations == len(observations)
    with pytest.raises(NoObservationsError):
        fit_model(latp_space(), OBJ, [failed])


def test_a_space_with_one_candidate() -> None:
    space = SearchSpace([DiscreteParameter("x", [1.0]), CategoricalParameter("c", ["a"])])
    empty = propose(space, OBJ, [], [], Strategy(batch_size=6))
    assert [p.parameters for p in empty.proposals] == [{"x": 1.0, "c": "a"}]
    assert empty.exhausted
    obs = [{"parameters": {"x": 1.0, "c": "a"}, "objective": 1e-3},
           {"parameters": {"x": 1.0, "c": "a"}, "objective": 2e-3}]  # fmt: skip
    measured = propose(space, OBJ, obs, [], Strategy(batch_size=6))
    assert len(measured.proposals) == 1 and measured.exhausted
    pending = propose(space, OBJ, obs, [{"x": 1.0, "c": "a"}], Strategy(batch_size=6))
    assert pending.proposals == [] and pending.exhausted


# ---------------------------------------------------------------------- other spaces
def test_continuous_space_without_steps_is_sampled_and_polished() -> None:
    space = SearchSpace([ContinuousParameter("x", 0.0, 2.0), ContinuousParameter("y", -1, 1)])
    rng = np.random.default_rng(1)
    obs = [{"parameters": {"x": float(x), "y": float(y)},
            "objective": float(np.exp(-((x - 1.3) ** 2) - y**2))}
           for x, y in zip(rng.uniform(0, 2, 15), rng.uniform(-1, 1, 15), strict=True)]  # fmt: skip
    out = propose(space, OBJ, obs, [], Strategy(batch_size=3, kappa=0.5))
    assert len(out.proposals) == 3 and out.fallback is None
    for p in out.proposals:
        assert 0.0 <= p.parameters["x"] <= 2.0 and -1.0 <= p.parameters["y"] <= 1.0
    # the polished first pick beats every sampled candidate's acquisition
    assert out.model is not None
    candidates = space.candidates(np.random.default_rng(0))
    mu, sd = out.model.surrogate.predict(space.encode(candidates))
    assert out.proposals[0].acquisition_value >= float(np.max(mu + 0.5 * sd)) - 1e-9


def test_huge_stepped_space_proposals_stay_on_steps() -> None:
    space = SearchSpace(
        [ContinuousParameter(n, 0, 10, step=0.01) for n in ("a", "b", "c")]
        + [CategoricalParameter("gas", ["air", "argon"])]
    )
    assert not space.is_enumerable()
    rng = np.random.default_rng(2)
    obs = []
    for point in space.sample(12, rng):
        value = math.exp(-((point["a"] - 3) ** 2) / 8) * (2 if point["gas"] == "air" else 1)
        obs.append({"parameters": point, "objective": value})
    out = propose(space, OBJ, obs, [], Strategy(batch_size=3))
    assert len(out.proposals) == 3
    for p in out.proposals:
        assert space.contains(p.parameters), p.parameters
        assert json.dumps(p.parameters["a"]) == json.dumps(round(p.parameters["a"], 2))


def test_minimise_goal(observations) -> None:
    obj = Objective("resistance", goal="minimize")
    model = fit_model(latp_space(), obj, observations)
    lowest = min(observations, key=lambda o: o["objective"])
    assert model.best_observed["objective"] == lowest["objective"]
    assert model.best_predicted["mean"] < float(np.median([o["objective"] for o in observations]))


# ----------------------------------------------------------------------------- fit_model
def test_fit_model_summary(observations, batch: Batch) -> None:
    model = batch.model
    assert model is not None
    summary = json.loads(json.dumps(model.summary()))
    assert set(summary) >= {"kernel", "hyperparameters", "log_marginal_likelihood",
                            "n_observations", "best_observed", "best_predicted"}  # fmt: skip
    assert "Matern" in summary["kernel"]
    assert summary["n_observations"] == len(observations)
    scales = summary["hyperparameters"]["length_scales"]
    unit = summary["hyperparameters"]["length_scales_unit_cube"]
    assert scales["temperature_c"] == pytest.approx(unit[1] * 300)
    assert scales["acid_wt_pct"] == pytest.approx(unit[0] * 30)
    best = max(observations, key=lambda o: o["objective"])
    assert summary["best_observed"] == {"parameters": best["parameters"],
                                        "objective": best["objective"],
                                        "sample_id": best["sample_id"]}  # fmt: skip
    predicted = summary["best_predicted"]
    assert latp_space().contains(predicted["parameters"])
    assert predicted["mean"] > 0 and predicted["std"] > 0
    mean, _ = model.predict([predicted["parameters"]])
    assert mean[0] == pytest.approx(predicted["mean"])


def test_fitted_model_round_trip(batch: Batch) -> None:
    model = batch.model
    assert model is not None
    rebuilt = FittedModel.from_dict(json.loads(json.dumps(model.to_dict())))
    grid = latp_space().grid()
    a_mean, a_std = model.predict(grid)
    b_mean, b_std = rebuilt.predict(grid)
    assert np.max(np.abs(a_mean - b_mean)) < 1e-12
    assert np.max(np.abs(a_std - b_std)) < 1e-12
    assert rebuilt.summary() == model.summary()
    with pytest.raises(ModelFitError):
        FittedModel.from_dict({"space": latp_space().to_dict()})


def test_fit_model_without_observations() -> None:
    with pytest.raises(NoObservationsError, match="post measured results"):
        fit_model(latp_space(), OBJ, [])


def test_fit_model_bounds_one_hot_columns_apart_from_numeric_ones() -> None:
    from kiln.model.surrogate import CATEGORICAL_LENGTH_SCALE_BOUNDS, LENGTH_SCALE_BOUNDS

    space = SearchSpace.from_dict(
        {
            "parameters": [
                {"name": "t", "kind": "continuous", "low": 0.0, "high": 1.0},
                {"name": "gas", "kind": "categorical", "values": ["air", "n2"]},
            ]
        }
    )
    rng = np.random.default_rng(2)
    points = space.sample(12, rng)
    obs = [{"parameters": p, "objective": 1.0 + p["t"] + (p["gas"] == "air")} for p in points]
    model = fit_model(space, OBJ, obs, n_restarts=1)
    np.testing.assert_array_equal(
        model.surrogate.length_scale_bounds_,
        [LENGTH_SCALE_BOUNDS, CATEGORICAL_LENGTH_SCALE_BOUNDS, CATEGORICAL_LENGTH_SCALE_BOUNDS],
    )
    again = FittedModel.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(
        again.surrogate.length_scale_bounds_, model.surrogate.length_scale_bounds_
    )
