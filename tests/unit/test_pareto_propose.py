"""propose_pareto (issue 16): candidates, constraints, pending points, pools, outcome constraints,
feasibility, fallbacks, and the models it returns (round trip, reuse, summary)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from kiln.campaign import campaign_definition, objectives_of, space_of
from kiln.multiobjective.fitted import ParetoModels, fit_pareto_models
from kiln.multiobjective.outcomes import OutcomeConstraint
from kiln.multiobjective.propose import ParetoBatch, propose_pareto
from kiln.multiobjective.training import select_pareto_training_set
from kiln.pool import CandidatePool
from kiln.strategy import Strategy

STEP = 0.05
EHVI = Strategy(acquisition="ehvi", batch_size=6)


def toy_campaign(**extra: Any) -> dict[str, Any]:
    """x, y on a 21 x 21 grid; f1 rises with x, f2 falls with x; both prefer y near 0.7."""
    return campaign_definition(
        {
            "name": "toy",
            "parameters": [
                {"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0, "step": STEP},
                {"name": "y", "kind": "continuous", "low": 0.0, "high": 1.0, "step": STEP},
            ],
            "objectives": [
                {"name": "f1", "transform": "none"},
                {"name": "f2", "transform": "none"},
            ],
            "measurements": [{"name": "q"}],
            **extra,
        }
    )


def truth(x: float, y: float) -> dict[str, float]:
    bump = -((y - 0.7) ** 2)
    return {"f1": x + bump, "f2": 1 - x**2 + bump}


def results(n: int = 14, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x, y = (float(v) for v in np.round(rng.integers(0, 21, 2) * STEP, 10))
        out.append(
            {
                "sample_id": f"R{i}",
                "parameters": {"x": x, "y": y},
                "objectives": truth(x, y),
                "measurements": {"q": x},  # the region x > 0.4 breaks q <= 0.4
            }
        )
    return out


@pytest.fixture(scope="module")
def campaign() -> dict[str, Any]:
    return toy_campaign()


@pytest.fixture(scope="module")
def batch(campaign: dict[str, Any]) -> ParetoBatch:
    return propose_pareto(space_of(campaign), objectives_of(campaign), results(), [], EHVI)


def xs(batch: ParetoBatch) -> list[float]:
    return [p.parameters["x"] for p in batch.proposals]


def test_a_batch_predicts_every_objective(batch: ParetoBatch) -> None:
    assert batch.fallback is None and not batch.exhausted
    assert len(batch.proposals) == 6
    keys = {tuple(p.parameters.values()) for p in batch.proposals}
    assert len(keys) == 6  # no repeats
    measured = {tuple(r["parameters"].values()) for r in results()}
    assert not keys & measured
    for p in batch.proposals:
        d = p.to_dict()
        assert set(d) == {"parameters", "predicted", "acquisition_value", "probability_feasible"}
        assert set(d["predicted"]) == {"f1", "f2"}
        assert all(v["std"] >= 0 for v in d["predicted"].values())
        assert d["acquisition_value"] >= 0 and d["probability_feasible"] is None
    assert batch.reference_point_derived == {"f1": True, "f2": True}
    assert all(isinstance(v, float) for v in batch.reference_point.values())
    payload = json.loads(json.dumps(batch.to_dict()))
    assert payload["models"]["kind"] == "pareto" and len(payload["proposals"]) == 6


def test_the_batch_is_seeded_and_given_models_are_reused(
    campaign: dict[str, Any], batch: ParetoBatch
) -> None:
    space, objectives = space_of(campaign), objectives_of(campaign)
    again = propose_pareto(space, objectives, results(), [], EHVI, models=batch.models)
    assert again.models is batch.models  # matched: not refitted
    assert [p.to_dict() for p in again.proposals] == [p.to_dict() for p in batch.proposals]
    more = propose_pareto(space, objectives, results(15), [], EHVI, models=batch.models)
    assert more.models is not batch.models and more.models is not None
    assert more.models.n_observations == 15


def test_with_a_training_limit_models_fitted_on_its_subset_are_reused(
    campaign: dict[str, Any],
) -> None:
    space, objectives = space_of(campaign), objectives_of(campaign)
    data = results(40, seed=1)
    subset = select_pareto_training_set(data, objectives, limit=20, seed=3).observations
    models = fit_pareto_models(space, objectives, subset)
    bounded = {"training_limit": 20, "training_seed": 3}
    batch = propose_pareto(space, objectives, data, [], EHVI, models=models, **bounded)
    assert batch.models is models and batch.fallback is None  # matched: not refitted
    unbounded = propose_pareto(space, objectives, data, [], EHVI, models=models)
    assert unbounded.models is not None and unbounded.models.n_observations == 40
    other = propose_pareto(
        space, objectives, data, [], EHVI, models=models, training_limit=20, training_seed=4
    )
    assert other.models is not models and other.models is not None
    assert other.models.n_observations == 20  # refitted, on its own subset


def test_pending_points_are_never_proposed_again(
    campaign: dict[str, Any], batch: ParetoBatch
) -> None:
    pending = [p.parameters for p in batch.proposals[:3]]
    nxt = propose_pareto(space_of(campaign), objectives_of(campaign), results(), pending, EHVI)
    keys = {tuple(p.parameters.values()) for p in nxt.proposals}
    assert not keys & {tuple(p.values()) for p in pending}
    assert len(keys) == 6


def test_space_constraints_are_honoured() -> None:
    forbidden = {"kind": "forbidden", "when": {"x": {">": 0.5}}}
    campaign = toy_campaign(constraints=[forbidden])
    out = propose_pareto(space_of(campaign), objectives_of(campaign), results(), [], EHVI)
    assert len(out.proposals) == 6
    assert all(x <= 0.5 for x in xs(out))


def test_an_outcome_constraint_steers_away_from_the_infeasible_region(
    campaign: dict[str, Any], batch: ParetoBatch
) -> None:
    # unconstrained, the front's high-x half is explored
    assert max(xs(batch)) > 0.6
    limit = (OutcomeConstraint("q", "<=", 0.4),)
    out = propose_pareto(
        space_of(campaign), objectives_of(campaign), results(), [], EHVI, outcome_constraints=limit
    )
    assert max(xs(out)) <= 0.5
    for p in out.proposals:
        assert 0.0 <= p.probability_feasible <= 1.0
    assert min(p.probability_feasible for p in out.proposals) > 0.2
    assert out.models is not None and out.models.measurement_models["q"] is not None


def test_an_outcome_constraint_on_an_objective_reuses_its_model(campaign: dict[str, Any]) -> None:
    limit = (OutcomeConstraint("f2", ">=", 0.8),)  # 1 - x^2 >= 0.8: x <= ~0.45
    out = propose_pareto(
        space_of(campaign), objectives_of(campaign), results(), [], EHVI, outcome_constraints=limit
    )
    assert out.models is not None and out.models.measurement_models == {}
    assert max(xs(out)) <= 0.55


def test_feasibility_multiplies_the_acquisition(campaign: dict[str, Any]) -> None:
    class LowX:
        def probability(self, X: np.ndarray) -> np.ndarray:
            return np.where(np.atleast_2d(X)[:, 0] <= 0.3, 1.0, 1e-6)

    out = propose_pareto(
        space_of(campaign),
        objectives_of(campaign),
        results(),
        [],
        EHVI,
        feasibility=LowX(),  # type: ignore[arg-type]
    )
    assert max(xs(out)) <= 0.3


def test_a_pool_limits_the_batch_to_its_open_rows(campaign: dict[str, Any]) -> None:
    space = space_of(campaign)
    rows = [r["parameters"] for r in results(30, seed=4)]
    rows = [dict(t) for t in {tuple(sorted(r.items())) for r in rows}]
    pool = CandidatePool.from_rows(space, rows)
    measured = results()[:4]
    out = propose_pareto(
        space, objectives_of(campaign), measured + results(10, 1), [], EHVI, pool=pool
    )
    assert all(p.candidate is not None for p in out.proposals)
    for p in out.proposals:
        assert p.parameters == pool.rows[p.candidate]
        assert p.to_dict()["candidate"] == p.candidate
    closed = {tuple(sorted(r["parameters"].items())) for r in measured + results(10, 1)}
    assert not {tuple(sorted(p.parameters.items())) for p in out.proposals} & closed


@pytest.mark.parametrize(
    ("observations", "needle"),
    [
        ([], "space_filling: no observations"),
        (results(1), "space_filling: one observation"),
        (
            [{**r, "objectives": {"f1": 1.0, "f2": r["objectives"]["f2"]}} for r in results(5)],
            "space_filling: model fit failed",
        ),
    ],
)
def test_space_filling_without_a_usable_model(
    campaign: dict[str, Any], observations: list[dict[str, Any]], needle: str
) -> None:
    out = propose_pareto(space_of(campaign), objectives_of(campaign), observations, [], EHVI)
    assert out.fallback is not None and out.fallback.startswith(needle)
    assert out.models is None and len(out.proposals) == 6
    for p in out.proposals:
        assert p.predicted is None and p.acquisition_value is None
        assert p.probability_feasible is None
    forced = propose_pareto(
        space_of(campaign), objectives_of(campaign), results(), [], EHVI, fallback="told so"
    )
    assert forced.fallback == "told so" and forced.models is None


def test_random_and_parego_batches(campaign: dict[str, Any]) -> None:
    space, objectives = space_of(campaign), objectives_of(campaign)
    rnd = propose_pareto(space, objectives, results(), [], Strategy(acquisition="random"))
    assert all(p.acquisition_value is None and p.predicted for p in rnd.proposals)
    par = propose_pareto(space, objectives, results(), [], Strategy(acquisition="parego"))
    assert len(par.proposals) == 6 and all(p.acquisition_value is not None for p in par.proposals)


def test_a_result_missing_an_objective_trains_the_other(campaign: dict[str, Any]) -> None:
    data = results()
    data[0] = {**data[0], "objectives": {"f1": data[0]["objectives"]["f1"]}}
    data.append({"parameters": {"x": 0.5, "y": 0.5}, "status": "failed"})
    models = fit_pareto_models(space_of(campaign), objectives_of(campaign), data)
    assert [m.n_observations for m in models.models] == [14, 13]
    assert models.n_observations == 14


@pytest.mark.parametrize("acquisition", ["ehvi", "random"])
def test_shared_batches_share_values_within_each_group(
    campaign: dict[str, Any], acquisition: str
) -> None:
    shared = Strategy.from_dict(
        {"acquisition": acquisition, "batch_shared": {"parameters": ["y"], "groups": 2}}
    )
    space, objectives = space_of(campaign), objectives_of(campaign)
    out = propose_pareto(space, objectives, results(), [], shared)
    assert out.fallback is None and len(out.proposals) == 6
    groups = [p.group for p in out.proposals]
    assert sorted(set(groups)) == [0, 1]
    for g in (0, 1):
        ys = {p.parameters["y"] for p in out.proposals if p.group == g}
        assert len(ys) == 1
    assert len({tuple(p.parameters.values()) for p in out.proposals}) == 6
    assert out.proposals[0].to_dict()["group"] == 0
    if acquisition == "ehvi":  # the model's groups sit where both objectives peak (y near 0.7)
        assert all(abs(p.parameters["y"] - 0.7) <= 0.25 for p in out.proposals)
    empty = propose_pareto(space, objectives, [], [], shared)
    assert empty.fallback == "space_filling: no observations"
    assert sorted({p.group for p in empty.proposals}) == [0, 1]


def test_models_round_trip_as_json(campaign: dict[str, Any]) -> None:
    space, objectives = space_of(campaign), objectives_of(campaign)
    limits = (OutcomeConstraint("q", "<=", 0.4), OutcomeConstraint("f1", ">=", 0.2))
    models = fit_pareto_models(space, objectives, results(), outcome_constraints=limits)
    back = ParetoModels.from_dict(json.loads(json.dumps(models.to_dict())))
    X = space.encode([{"x": 0.1, "y": 0.3}, {"x": 0.9, "y": 0.7}])
    for a, b in zip(models.predict_model(X), back.predict_model(X), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(models.probability_feasible(X), back.probability_feasible(X))
    p = back.constraint_probabilities(X)
    assert p.shape == (2, 2) and p[0, 0] > 0.9 and p[1, 0] < 0.1
    assert back.matches(space, objectives, results(), limits)
    assert not back.matches(space, objectives, results(15), limits)
    assert not back.matches(space, objectives, results(), limits[:1])
    summary = back.summary()
    assert [o["name"] for o in summary["objectives"]] == ["f1", "f2"]
    single = models.models[0].summary()
    assert set(summary["objectives"][0]) == {"name", *single}
    assert [c["model"] for c in summary["outcome_constraints"]] == ["measurement", "objective"]
    assert summary["outcome_constraints"][0]["summary"]["n_observations"] == 14
    assert back.n_observations == 14


def test_outcome_constraints_weight_a_single_objective_batch() -> None:
    from kiln.multiobjective.constrained import outcome_feasibility
    from kiln.objective import Objective
    from kiln.propose import propose

    single = campaign_definition(
        {
            "name": "one",
            "parameters": toy_campaign()["parameters"],
            "objective": {"name": "f1", "transform": "none"},
            "measurements": [{"name": "q"}],
        }
    )
    space, objectives = space_of(single), objectives_of(single)
    data = [{**r, "objective": r["objectives"]["f1"], "objectives": None} for r in results()]
    data = [{k: v for k, v in r.items() if v is not None} for r in data]
    free = propose(space, Objective("f1", transform="none"), data, [], Strategy())
    assert max(p.parameters["x"] for p in free.proposals) > 0.6  # f1 rises with x
    weights = outcome_feasibility(space, objectives, data, (OutcomeConstraint("q", "<=", 0.4),))
    assert outcome_feasibility(space, objectives, data, ()) is None
    held = propose(
        space, Objective("f1", transform="none"), data, [], Strategy(), feasibility=weights
    )  # type: ignore[arg-type]
    assert max(p.parameters["x"] for p in held.proposals) <= 0.5


def test_shared_batches_on_sampled_candidates() -> None:
    campaign = campaign_definition(
        {
            "name": "sampled",
            "parameters": [
                {"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0},
                {"name": "y", "kind": "continuous", "low": 0.0, "high": 1.0},
            ],
            "objectives": [
                {"name": "f1", "transform": "none"},
                {"name": "f2", "transform": "none"},
            ],
            "strategy": {"batch_size": 4, "batch_shared": {"parameters": ["y"], "groups": 1}},
        }
    )
    strategy = Strategy.from_dict(campaign["strategy"])
    out = propose_pareto(space_of(campaign), objectives_of(campaign), results(), [], strategy)
    assert out.fallback is None and len(out.proposals) == 4
    assert len({p.parameters["y"] for p in out.proposals}) == 1
    assert len({p.parameters["x"] for p in out.proposals}) == 4
    assert all(p.candidate is None and p.group == 0 for p in out.proposals)
