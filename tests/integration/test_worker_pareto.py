"""Worker tasks of a multi-objective campaign (issue 16), called directly against a real Redis:
a refit fits and stores one model per objective, a batch proposes by EHVI from them.

As tests/integration/test_worker_tasks.py does for one objective.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from celery import Celery
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.worker import GRID_POINTS, first_refit, grid_conductivity, run_task

import kiln.multiobjective.propose as moo_propose
from kiln.campaign import campaign_definition, space_of
from kiln.multiobjective.pareto import pareto_mask
from kiln_services import task_names
from kiln_services.store import Store
from kiln_services.worker import pareto, refits
from kiln_services.worker.factory import make_celery
from kiln_services.worker.settings import WorkerSettings

CAMPAIGN = campaign_definition(
    {
        "name": "grid-moo",
        "parameters": GRID_PARAMETERS,
        "objectives": [
            {**CONDUCTIVITY, "threshold": 1e-6},
            {
                "name": "relative_density",
                "unit": "1",
                "goal": "maximize",
                "transform": "none",
                "threshold": 0.8,
            },
        ],
        "measurements": [{"name": "phase_purity", "unit": "1"}],
        "strategy": {"batch_size": 3},
    }
)


def truth(t: float, minutes: float) -> dict[str, float]:
    """Conductivity peaks at 950 degC, density rises with temperature: a real trade-off."""
    conductivity = grid_conductivity(t, minutes)
    density = 0.8 + 0.18 * (t - 800) / 300 - 0.02 * math.log(minutes) / 6
    return {"conductivity": conductivity, "relative_density": density}


def row(i: int, t: float, minutes: float, **drop: bool) -> dict[str, Any]:
    objectives = {k: v for k, v in truth(t, minutes).items() if not drop.get(k)}
    return {
        "sample_id": f"s{i}",
        "parameters": {"temperature_c": t, "time_min": minutes},
        "objectives": objectives,
        "measurements": {"phase_purity": 0.6 + (t - 800) / 1000},
        "status": "ok",
    }


SEED = [row(i, t, m) for i, (t, m) in enumerate(GRID_POINTS)]


@pytest.fixture
def cid(store: Store) -> str:
    return store.campaigns.create(CAMPAIGN)["id"]


def propose(app: Celery, store: Store, cid: str, **overrides: Any) -> dict[str, Any]:
    job, _ = store.jobs.create("proposals", cid, {"overrides": overrides})
    return run_task(app, task_names.PROPOSE, job["id"])


def test_a_refit_stores_one_model_per_objective_and_starts_a_batch(
    celery_app: Celery, store: Store, cid: str
) -> None:
    outcome = first_refit(celery_app, store, cid, SEED)
    assert outcome["model_version"] == 1 and outcome["data_version"] == len(SEED)
    model = store.models.get(cid, with_state=True)
    summary = model["summary"]
    assert [o["name"] for o in summary["objectives"]] == ["conductivity", "relative_density"]
    assert all(o["n_observations"] == len(SEED) and "kernel" in o for o in summary["objectives"])
    assert summary["data_sha256"] and "feasibility" in summary
    assert model["state"]["kind"] == "pareto" and json.dumps(model["state"])
    assert pareto.load_models(model["state"]).n_observations == len(SEED)
    assert outcome["auto_batch_job"] and store.jobs.get(outcome["auto_batch_job"])


def test_a_batch_reuses_the_stored_models_and_predicts_every_objective(
    celery_app: Celery, store: Store, cid: str
) -> None:
    store.results.append(cid, SEED)
    run_task(celery_app, task_names.REFIT, cid)
    batch = propose(celery_app, store, cid)
    assert len(batch["proposals"]) == 3 and batch["fallback"] is None
    assert batch["acquisition"] == "ehvi" and batch["model_version"] == 1
    assert set(batch["reference_point"]) == {"conductivity", "relative_density"}
    assert batch["reference_point"]["relative_density"] == pytest.approx(0.8)
    for proposal in batch["proposals"]:
        assert proposal["predicted_mean"] is None and proposal["predicted_std"] is None
        assert set(proposal["predicted"]) == {"conductivity", "relative_density"}
        conductivity = proposal["predicted"]["conductivity"]
        assert conductivity["mean"] > 0 and conductivity["std"] >= 0
        assert proposal["probability_feasible"] is None  # no outcome constraints
        assert proposal["acquisition_value"] is not None
        models = proposal["provenance"]["objectives"]
        assert [m["name"] for m in models] == ["conductivity", "relative_density"]
        assert all(m["kernel"] and m["hyperparameters"] for m in models)

    # The next batch treats these as pending: never the same point twice.
    second = propose(celery_app, store, cid)
    points = {tuple(sorted(p["parameters"].items())) for p in batch["proposals"]}
    assert not points & {tuple(sorted(p["parameters"].items())) for p in second["proposals"]}


def test_a_result_missing_one_objective_trains_the_others(store: Store, cid: str) -> None:
    rows = [*SEED, row(20, 975, 120, relative_density=True), row(21, 1025, 30, conductivity=True)]
    store.results.append(cid, rows)
    _, version = refits.fit_and_store(store, store.campaigns.get(cid))
    summary = store.models.get(cid)["summary"]
    assert version == 1
    assert [o["n_observations"] for o in summary["objectives"]] == [len(SEED) + 1] * 2


def test_a_refit_after_a_few_results_starts_from_the_stored_models(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts: list[bool] = []
    restarts: list[int | None] = []
    real = pareto.fit_pareto_models

    def recorded(*args: Any, **kwargs: Any) -> Any:
        starts.append(kwargs.get("start") is not None)
        restarts.append(kwargs.get("n_restarts"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pareto, "fit_pareto_models", recorded)
    store.results.append(cid, SEED)
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, [row(20, 975, 120)])
    _, version = refits.fit_and_store(store, store.campaigns.get(cid))
    campaign = {**store.campaigns.get(cid), "space_version": 2}  # as after a PATCH of the ranges
    store.results.append(cid, [row(21, 1025, 30)])
    refits.fit_and_store(store, campaign)
    assert starts == [False, True, False] and version == 2
    assert restarts == [None, refits.EXPLORE_RESTARTS, None]  # warm: fewer restarts


def test_an_outcome_constraint_weights_the_batch_by_its_probability(
    celery_app: Celery, store: Store
) -> None:
    constrained = {**CAMPAIGN, "outcome_constraints": [
        {"name": "phase_purity", "op": ">=", "value": 0.85}
    ]}  # fmt: skip
    cid = store.campaigns.create(constrained)["id"]
    store.results.append(cid, SEED)
    run_task(celery_app, task_names.REFIT, cid)
    summary = store.models.get(cid)["summary"]
    assert summary["outcome_constraints"][0]["model"] == "measurement"
    batch = propose(celery_app, store, cid)
    probabilities = [p["probability_feasible"] for p in batch["proposals"]]
    assert all(p is not None and 0 <= p <= 1 for p in probabilities), probabilities
    # phase purity rises with temperature (>= 0.85 from 1050 degC): the whole batch goes hot
    # (without the constraint it proposed 950, 1100, 1100 degC).
    assert min(p["parameters"]["temperature_c"] for p in batch["proposals"]) >= 1050


def test_without_data_a_batch_space_fills_without_predictions(
    celery_app: Celery, store: Store, cid: str
) -> None:
    batch = propose(celery_app, store, cid)
    assert len(batch["proposals"]) == 3 and batch["fallback"]
    assert batch["model_version"] is None
    assert all(p["predicted"] is None for p in batch["proposals"])


def test_a_pool_campaign_proposes_open_rows_with_their_ids(
    celery_app: Celery, store: Store
) -> None:
    rows = [{"temperature_c": t, "time_min": m} for t in (850, 900, 975, 1025) for m in (30, 120)]
    cid = store.campaigns.create({**CAMPAIGN, "candidates": rows})["id"]
    store.results.append(cid, SEED)
    run_task(celery_app, task_names.REFIT, cid)
    batch = propose(celery_app, store, cid)
    assert len(batch["proposals"]) == 3
    for proposal in batch["proposals"]:
        assert rows[proposal["candidate"]] == proposal["parameters"]
        assert set(proposal["predicted"]) == {"conductivity", "relative_density"}


def test_a_single_objective_batch_is_weighted_by_its_outcome_constraints(
    celery_app: Celery, store: Store
) -> None:
    single = campaign_definition({
        "name": "grid-one", "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY,
        "measurements": [{"name": "phase_purity", "unit": "1"}],
        "outcome_constraints": [{"name": "phase_purity", "op": ">=", "value": 0.85}],
        "strategy": {"batch_size": 3},
    })  # fmt: skip
    cid = store.campaigns.create(single)["id"]
    rows = [
        {
            **{k: v for k, v in r.items() if k != "objectives"},
            "objective": r["objectives"]["conductivity"],
        }
        for r in SEED
    ]
    store.results.append(cid, rows)
    run_task(celery_app, task_names.REFIT, cid)
    batch = propose(celery_app, store, cid)
    constraints = batch["proposals"][0]["provenance"]["outcome_constraints"]
    assert constraints[0]["name"] == "phase_purity" and constraints[0]["model"] == "measurement"
    # Unconstrained, UCB goes to the conductivity peak (950 degC); phase purity >= 0.85 needs
    # 1050 degC or more (it rises with temperature), so the batch moves up.
    assert min(p["parameters"]["temperature_c"] for p in batch["proposals"]) >= 1000
    assert all(p["predicted_mean"] is not None for p in batch["proposals"])


def test_failed_syntheses_train_the_feasibility_classifier_that_weights_the_batch(
    celery_app: Celery, store: Store, cid: str
) -> None:
    failed = [
        {"sample_id": f"f{i}", "parameters": {"temperature_c": t, "time_min": 480.0},
         "status": "failed"}
        for i, t in enumerate((1050, 1075, 1100))
    ]  # fmt: skip
    store.results.append(cid, [*SEED, *failed])
    run_task(celery_app, task_names.REFIT, cid)
    feasibility = store.models.get(cid)["summary"]["feasibility"]
    assert feasibility is not None and feasibility["n_failed"] == 3
    assert feasibility["n_succeeded"] == len(SEED)
    batch = propose(celery_app, store, cid)
    assert batch["proposals"][0]["provenance"]["feasibility"]["n_failed"] == 3


def test_new_outcome_constraints_refit_the_models_on_the_same_data(store: Store, cid: str) -> None:
    store.results.append(cid, SEED)
    assert refits.fit_and_store(store, store.campaigns.get(cid))[1] == 1
    constraint = {"name": "phase_purity", "op": ">=", "value": 0.85}
    campaign = {**store.campaigns.get(cid), "outcome_constraints": [constraint]}  # as a PATCH
    assert refits.fit_and_store(store, campaign)[1] == 2
    assert refits.fit_and_store(store, campaign)[1] == 2  # fitted for them: not again
    entry = store.models.get(cid)["summary"]["outcome_constraints"][0]
    assert entry["name"] == "phase_purity" and entry["model"] == "measurement"


def test_a_furnace_shared_batch_groups_its_proposals(celery_app: Celery, store: Store) -> None:
    shared = {"parameters": ["temperature_c"], "groups": 2}
    definition = campaign_definition({
        "name": "grid-moo-furnace", "parameters": GRID_PARAMETERS,
        "objectives": CAMPAIGN["objectives"],
        "strategy": {"batch_size": 4, "batch_shared": shared},
    })  # fmt: skip
    cid = store.campaigns.create(definition)["id"]
    store.results.append(cid, SEED)
    run_task(celery_app, task_names.REFIT, cid)
    batch = propose(celery_app, store, cid)
    groups: dict[int, set[float]] = {}
    for proposal in batch["proposals"]:
        groups.setdefault(proposal["group"], set()).add(proposal["parameters"]["temperature_c"])
        assert set(proposal["predicted"]) == {"conductivity", "relative_density"}
    assert len(batch["proposals"]) == 4 and 1 <= len(groups) <= 2
    assert all(len(temperatures) == 1 for temperatures in groups.values()), groups


@pytest.fixture
def bounded_app(redis_url: str) -> Iterator[Celery]:
    """A worker's app started with KILN_MAX_TRAINING_POINTS=20."""
    settings = WorkerSettings.from_env({"KILN_MAX_TRAINING_POINTS": "20"})
    app = make_celery(redis_url, settings)
    app.loader.import_default_modules()
    yield app
    app.close()


def _forty_results() -> list[dict[str, Any]]:
    grid = [(t, m) for t in range(800, 1101, 25) for m in (10.0, 30.0, 60.0, 120.0, 480.0)]
    return [row(i, t, m) for i, (t, m) in enumerate(grid[:40])]


def _record_batch_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many results each fit inside a batch (propose_pareto's own fit) trained on."""
    fits: list[int] = []
    real = moo_propose.fit_pareto_models

    def recorded(*args: Any, **kwargs: Any) -> Any:
        fits.append(len(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(moo_propose, "fit_pareto_models", recorded)
    return fits


def test_above_the_training_limit_the_models_fit_a_subset_the_batch_reuses(
    bounded_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = _forty_results()
    store.results.append(cid, results)
    run_task(bounded_app, task_names.REFIT, cid)
    model = store.models.get(cid, with_state=True)
    training = model["summary"]["training"]
    assert (training["used"], training["of"]) == (20, 40) and model["data_version"] == 40
    assert training["best"] + training["recent"] + training["sampled"] == 20
    assert [o["n_observations"] for o in model["summary"]["objectives"]] == [20, 20]
    models = pareto.load_models(model["state"])
    trained = models.models[0].surrogate.X_train_
    assert trained.shape[0] == 20
    # The measured front of all 40 results is among the 20 (the best share is 5).
    objectives = models.objectives
    values = [[r["objectives"][n] for n in objectives.names] for r in results]
    front = np.flatnonzero(pareto_mask(objectives.to_model(np.array(values))))
    encoded = store_space(store, cid).encode([results[i]["parameters"] for i in front])
    assert all((trained == x).all(axis=1).any() for x in encoded)

    fits = _record_batch_fits(monkeypatch)
    batch = propose(bounded_app, store, cid)
    assert fits == []  # the stored models, not a refit on all 40 inside the batch
    assert batch["model_version"] == 1 and batch["fallback"] is None
    assert len(batch["proposals"]) == 3
    stored = [o["hyperparameters"] for o in model["summary"]["objectives"]]
    used = [o["hyperparameters"] for o in batch["proposals"][0]["provenance"]["objectives"]]
    assert used == stored


def test_without_a_stored_model_a_batch_fits_on_the_bounded_subset(
    bounded_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.results.append(cid, _forty_results())
    fits = _record_batch_fits(monkeypatch)
    batch = propose(bounded_app, store, cid)
    assert fits == [20] and batch["model_version"] is None and batch["fallback"] is None


def store_space(store: Store, cid: str) -> Any:
    return space_of(store.campaigns.get(cid))
