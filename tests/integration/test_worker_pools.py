"""The worker's batches on a campaign with a candidate pool, tasks called directly on a real Redis.

Proposals come only from open rows and carry their row id; results close rows (through their
proposal or by equal values); a used-up pool says so without failing the job.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from celery import Celery

import kiln.propose
from kiln_services import task_names
from kiln_services.store import Store
from kiln_services.worker.factory import make_celery
from kiln_services.worker.settings import WorkerSettings

TEMPS = [800.0, 862.5, 905.0, 950.0, 1010.0, 1100.0]
TIMES = [10.0, 30.0, 60.0, 480.0]
ROWS = [{"temperature_c": t, "time_min": m} for t in TEMPS for m in TIMES]  # 24 rows, off-step
CAMPAIGN = {
    "name": "pool",
    "parameters": [
        {"name": "temperature_c", "kind": "continuous", "low": 800.0, "high": 1100.0, "step": 25.0},
        {"name": "time_min", "kind": "discrete", "values": TIMES},
    ],
    "objective": {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"},
    "strategy": {"batch_size": 5, "auto_batch": False, "proposal_ttl_s": 3600},
    "candidates": ROWS,
}  # fmt: skip


def truth(p: dict) -> float:
    return 1e-4 * math.exp(
        -(((p["temperature_c"] - 950) / 120) ** 2) - ((math.log(p["time_min"]) - 4) / 2) ** 2
    )


def batch(app: Celery, store: Store, cid: str) -> dict:
    job, _ = store.jobs.create("proposals", cid, {"overrides": {}})
    out = app.tasks[task_names.PROPOSE](job["id"])
    assert store.jobs.get(job["id"])["state"] == "done"
    return out


def test_batches_come_from_open_rows_until_the_pool_is_used_up(
    celery_app: Celery, store: Store
) -> None:
    campaign = store.campaigns.create(CAMPAIGN)
    cid = campaign["id"]
    seeded = [0, 5, 10, 15, 20, 23]
    # Initial results without proposals: equal values close their rows (1000 and 1000.0 alike).
    store.results.append(
        cid,
        [
            {"sample_id": f"s{i}", "parameters": dict(ROWS[i]), "objective": truth(ROWS[i]),
             "status": "ok"}
            for i in seeded
        ],
    )  # fmt: skip
    celery_app.tasks[task_names.REFIT](cid)
    used = set(seeded)
    seen_exhausted = False
    for round_ in range(10):
        out = batch(celery_app, store, cid)
        ids = [p["candidate"] for p in out["proposals"]]
        assert len(ids) == len(set(ids))
        assert not set(ids) & used, round_
        for p in out["proposals"]:
            assert p["parameters"] == ROWS[p["candidate"]]  # the row itself, never a grid point
        if not ids:
            assert out["exhausted"] is True
            assert out["fallback"].startswith("pool_exhausted")
            break
        seen_exhausted |= out["exhausted"]
        used |= set(ids)
        # Measured at a slightly different set-point, naming the proposal: still that row.
        store.results.append(
            cid,
            [
                {"sample_id": f"r{round_}-{k}",
                 "parameters": {**p["parameters"], "temperature_c": p["parameters"]["temperature_c"] + 1},
                 "objective": truth(p["parameters"]), "status": "ok", "proposal_id": p["id"]}
                for k, p in enumerate(out["proposals"])
            ],
        )  # fmt: skip
        celery_app.tasks[task_names.REFIT](cid)
    assert used == set(range(len(ROWS)))
    assert seen_exhausted  # the last non-empty batch was short (24 - 6 = 18 = 5 + 5 + 5 + 3)
    measured, pending = store.candidates.statuses(cid, store.campaigns.get(cid))
    assert measured == set(range(len(ROWS))) and pending == set()


def test_removed_rows_are_withdrawn_and_never_proposed(celery_app: Celery, store: Store) -> None:
    cid = store.campaigns.create(CAMPAIGN)["id"]
    rng = np.random.default_rng(1)
    seeded = [int(i) for i in rng.choice(len(ROWS), 6, replace=False)]
    store.results.append(
        cid,
        [
            {"sample_id": f"s{i}", "parameters": ROWS[i], "objective": truth(ROWS[i]),
             "status": "ok"}
            for i in seeded
        ],
    )  # fmt: skip
    first = batch(celery_app, store, cid)
    removed = [p["candidate"] for p in first["proposals"][:2]]
    changed = store.candidates.remove(cid, removed, "lot used up")
    assert changed["withdrawn_proposals"] == [p["id"] for p in first["proposals"][:2]]
    second = batch(celery_app, store, cid)
    ids = {p["candidate"] for p in second["proposals"]}
    assert not ids & (set(removed) | set(seeded))
    assert not ids & {p["candidate"] for p in first["proposals"][2:]}  # still pending
    assert second["space_version"] == 2


def test_a_campaign_without_a_pool_has_no_candidate_ids(celery_app: Celery, store: Store) -> None:
    cid = store.campaigns.create({k: v for k, v in CAMPAIGN.items() if k != "candidates"})["id"]
    store.results.append(
        cid,
        [
            {"sample_id": f"s{i}", "parameters": r, "objective": truth(r), "status": "ok"}
            for i, r in enumerate(ROWS[::5])
        ],
    )
    out = batch(celery_app, store, cid)
    assert len(out["proposals"]) == 5
    assert all("candidate" not in p for p in out["proposals"])


def test_above_the_training_limit_a_pool_batch_reuses_the_model_despite_failed_rows(
    redis_url: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_celery(redis_url, WorkerSettings.from_env({"KILN_MAX_TRAINING_POINTS": "10"}))
    app.loader.import_default_modules()
    cid = store.campaigns.create(CAMPAIGN)["id"]
    # Failed syntheses first: they close their rows but train nothing (nor choose the subset).
    results = [
        {"sample_id": f"s{i}", "parameters": dict(ROWS[i]), "status": "failed"}
        if i < 4
        else {"sample_id": f"s{i}", "parameters": dict(ROWS[i]), "objective": truth(ROWS[i]),
              "status": "ok"}
        for i in range(18)
    ]  # fmt: skip
    store.results.append(cid, results)
    app.tasks[task_names.REFIT](cid)
    model = store.models.get(cid)
    assert (model["summary"]["training"]["used"], model["summary"]["training"]["of"]) == (10, 14)
    fits: list[int] = []
    real = kiln.propose.fit_observations
    monkeypatch.setattr(
        kiln.propose, "fit_observations", lambda *a, **k: fits.append(1) or real(*a, **k)
    )
    out = batch(app, store, cid)
    app.close()
    assert fits == [] and out["model_version"] == model["model_version"]
    assert {p["candidate"] for p in out["proposals"]} <= set(range(18, 24))


def test_a_pool_batch_reuses_a_model_fitted_with_measurement_errors(
    celery_app: Celery, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result's objective_sd reaches the pool batch as it reached the refit, so the batch
    reuses the stored model (before: it refitted, without the errors)."""
    cid = store.campaigns.create(CAMPAIGN)["id"]
    results = [
        {"sample_id": f"s{i}", "parameters": dict(ROWS[i]), "objective": truth(ROWS[i]),
         "status": "ok", **({"objective_sd": 0.2 * truth(ROWS[i])} if i % 2 else {})}
        for i in range(12)
    ]  # fmt: skip
    store.results.append(cid, results)
    celery_app.tasks[task_names.REFIT](cid)
    model = store.models.get(cid)
    fits: list[int] = []
    real = kiln.propose.fit_observations
    monkeypatch.setattr(
        kiln.propose, "fit_observations", lambda *a, **k: fits.append(1) or real(*a, **k)
    )
    out = batch(celery_app, store, cid)
    assert fits == [] and out["model_version"] == model["model_version"]
