"""Worker tasks called directly (not eager mode) against a real Redis: refit, propose, coalescing.

The end-to-end tests run a real worker process; these check what each task does to the store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import redis
from celery import Celery
from celery.exceptions import Retry
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN, intake_app
from support.worker import GRID_POINTS, first_refit, grid_conductivity, run_task

import kiln.propose
from kiln.observations import ParsedObservations
from kiln_services import task_names
from kiln_services.store import Keys, Store
from kiln_services.worker import heartbeat, refits
from kiln_services.worker.factory import make_celery
from kiln_services.worker.settings import WorkerSettings

CAMPAIGN = {
    "name": "grid",
    "parameters": GRID_PARAMETERS,
    "objective": CONDUCTIVITY,
    "strategy": {
        "acquisition": "ucb", "kappa": 1.96, "xi": 0.01, "batch_size": 3,
        "batch_method": "kriging_believer", "auto_batch": True, "proposal_ttl_s": 3600,
    },
    "space_version": 1,
}  # fmt: skip


def row(i: int, t: float, minutes: float, **extra: object) -> dict:
    return {"sample_id": f"s{i}", "parameters": {"temperature_c": t, "time_min": minutes},
            "objective": grid_conductivity(t, minutes), "status": "ok", **extra}  # fmt: skip


SEED = [row(i, t, m) for i, (t, m) in enumerate(GRID_POINTS)]


@pytest.fixture
def cid(store: Store) -> str:
    return store.campaigns.create(CAMPAIGN)["id"]


def queued(client: redis.Redis, name: str) -> list[dict]:
    messages = [json.loads(raw) for raw in client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)]
    return [m for m in messages if m["headers"]["task"] == name]


def test_celery_app_is_json_only_late_ack_prefetch_one(celery_app: Celery) -> None:
    conf = celery_app.conf
    assert conf.task_serializer == conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_routes[task_names.BENCHMARK]["queue"] == task_names.BENCHMARKS_QUEUE
    assert {task_names.REFIT, task_names.PROPOSE} <= set(celery_app.tasks)


def test_refit_stores_json_model_and_starts_the_first_batch(
    celery_app: Celery, store: Store, cid: str, redis_client: redis.Redis
) -> None:
    outcome = first_refit(celery_app, store, cid, SEED)
    assert outcome["rounds"] == 1 and outcome["data_version"] == len(SEED)
    model = store.models.get(cid, with_state=True)
    assert model["data_version"] == len(SEED) and model["model_version"] == 1
    assert model["summary"]["n_observations"] == len(SEED)
    assert "kernel" in model["summary"] and json.dumps(model["state"])
    assert redis_client.exists(Keys.refit_queued(cid)) == 0
    assert redis_client.exists(Keys.refit_lock(cid)) == 0
    # auto_batch: no batch yet and there is data, so the refit asked for one (once).
    job_id = outcome["auto_batch_job"]
    assert job_id and store.jobs.get(job_id)["state"] == "queued"
    assert [m["headers"]["id"] for m in queued(redis_client, task_names.PROPOSE)] == [job_id]
    assert run_task(celery_app, task_names.REFIT, cid)["auto_batch_job"] is None


def test_propose_stores_one_batch_even_when_redelivered(
    celery_app: Celery, store: Store, cid: str
) -> None:
    store.results.append(cid, SEED)
    run_task(celery_app, task_names.REFIT, cid)
    job, _ = store.jobs.create("proposals", cid, {"overrides": {"batch_size": 4}})
    batch = run_task(celery_app, task_names.PROPOSE, job["id"])
    assert batch["batch_id"] == job["id"] and len(batch["proposals"]) == 4
    first = batch["proposals"][0]
    assert first["status"] == "pending" and first["model_version"] == 1
    assert first["data_version"] == len(SEED) and first["space_version"] == 1
    assert first["predicted_mean"] > 0 and first["predicted_std"] > 0
    assert first["acquisition_value"] is not None
    assert batch["acquisition"] == "ucb" and batch["batch_method"] == "kriging_believer"
    done = store.jobs.get(job["id"])
    assert done["state"] == "done" and done["result"]["batch_id"] == job["id"]

    # A redelivery (worker killed after storing) changes nothing.
    store.redis.hset(Keys.job(job["id"]), "state", "running")
    again = run_task(celery_app, task_names.PROPOSE, job["id"])
    assert again["batch_id"] == job["id"]
    assert (
        store.redis.llen(Keys.batches(cid)) == 1 and store.campaigns.counts(cid)["proposals"] == 4
    )

    # The next batch treats these as pending: never the same point twice.
    second_job, _ = store.jobs.create("proposals", cid, {"overrides": {"batch_size": 4}})
    second = run_task(celery_app, task_names.PROPOSE, second_job["id"])
    points = {tuple(sorted(p["parameters"].items())) for p in batch["proposals"]}
    assert not points & {tuple(sorted(p["parameters"].items())) for p in second["proposals"]}


def test_propose_without_data_falls_back_to_space_filling(
    celery_app: Celery, store: Store, cid: str
) -> None:
    job, _ = store.jobs.create("proposals", cid, {"overrides": {}})
    batch = run_task(celery_app, task_names.PROPOSE, job["id"])
    assert len(batch["proposals"]) == 3 and batch["fallback"]
    assert batch["model_version"] is None


def test_propose_failure_is_recorded_on_the_job(celery_app: Celery, store: Store, cid: str) -> None:
    job, _ = store.jobs.create("proposals", cid, {"overrides": {"batch_method": "telepathy"}})
    run_task(celery_app, task_names.PROPOSE, job["id"])
    failed = store.jobs.get(job["id"])
    assert failed["state"] == "failed" and "telepathy" in failed["error"]
    assert store.proposals.latest_batch(cid) is None


def test_auto_batch_waits_until_the_latest_batch_is_measured(
    celery_app: Celery, store: Store, cid: str, redis_client: redis.Redis
) -> None:
    store.results.append(cid, SEED)
    first = run_task(celery_app, task_names.REFIT, cid)["auto_batch_job"]
    batch = run_task(celery_app, task_names.PROPOSE, first)
    pending = batch["proposals"]
    store.results.append(cid, [row(100, **_tm(pending[0]), proposal_id=pending[0]["id"])])
    assert run_task(celery_app, task_names.REFIT, cid)["auto_batch_job"] is None  # 2 still pending
    store.results.append(cid, [row(100 + k, **_tm(p)) for k, p in enumerate(pending) if k])
    assert store.proposals.pending(cid) == []
    follow_up = run_task(celery_app, task_names.REFIT, cid)["auto_batch_job"]
    assert follow_up.startswith(f"auto-{cid}-after-") and first not in follow_up
    assert len(follow_up) == len(f"auto-{cid}-after-") + 16  # short however many batches came
    assert run_task(celery_app, task_names.REFIT, cid)["auto_batch_job"] is None  # made once
    assert len(queued(redis_client, task_names.PROPOSE)) == 2


def _tm(proposal: dict) -> dict:
    return {
        "t": proposal["parameters"]["temperature_c"],
        "minutes": proposal["parameters"]["time_min"],
    }


def test_refit_is_skipped_while_another_holds_the_lock(
    celery_app: Celery, store: Store, cid: str
) -> None:
    store.results.append(cid, SEED)
    token = store.locks.acquire_refit(cid)
    assert token is not None
    with pytest.raises(Retry):  # the task comes back later, in case the holder died
        run_task(celery_app, task_names.REFIT, cid)
    assert store.models.get(cid) is None
    store.locks.release_refit(cid, token)
    assert run_task(celery_app, task_names.REFIT, cid)["model_version"] == 1


def test_a_model_fitted_on_this_exact_data_is_not_refit(
    celery_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.results.append(cid, SEED)
    assert run_task(celery_app, task_names.REFIT, cid)["model_version"] == 1

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("refit of unchanged data")

    monkeypatch.setattr(refits, "fit_model", no_fit)
    assert run_task(celery_app, task_names.REFIT, cid)["model_version"] == 1


def test_refit_runs_again_when_data_arrives_while_it_fits(
    celery_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.results.append(cid, SEED[:5])
    real_fit = refits.fit_model
    calls: list[int] = []

    def fit_while_results_arrive(space, objective, observations, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(observations))
        if len(calls) == 1:
            store.results.append(cid, SEED[5:])  # a post lands mid-fit
        return real_fit(space, objective, observations, **kwargs)

    monkeypatch.setattr(refits, "fit_model", fit_while_results_arrive)
    outcome = run_task(celery_app, task_names.REFIT, cid)
    assert calls == [5, len(SEED)] and outcome["rounds"] == 2
    assert store.models.get(cid)["data_version"] == len(SEED)


def test_burst_of_posts_with_a_worker_in_between_enqueues_few_refits(
    celery_app: Celery, redis_url: str, store: Store, redis_client: redis.Redis
) -> None:
    app = intake_app(redis_url)
    client = app.test_client()
    body = {k: v for k, v in CAMPAIGN.items() if k != "space_version"}
    body["strategy"] = {**body["strategy"], "auto_batch": False}
    cid = client.post("/api/v1/campaigns", json=body, headers=ADMIN).get_json()["id"]
    temps = [800.0 + 25 * k for k in range(13)]
    times = [10.0, 30.0, 60.0, 120.0, 480.0]

    def post(i: int) -> None:
        t, m = temps[i % 13], times[(i // 13) % 5]
        response = client.post(
            f"/api/v1/campaigns/{cid}/results",
            json={
                "sample_id": f"b{i}",
                "parameters": {"temperature_c": t, "time_min": m},
                "objective": grid_conductivity(t, m),
            },
            headers=ADMIN,
        )
        assert response.status_code == 201

    for i in range(50):
        post(i)
    assert len(queued(redis_client, task_names.REFIT)) == 1
    # A worker picks the refit up while the other 50 arrive.
    worker = threading.Thread(target=run_task, args=(celery_app, task_names.REFIT, cid))
    worker.start()
    for i in range(50, 100):
        post(i)
    worker.join()
    refits = len(queued(redis_client, task_names.REFIT))
    assert 1 < refits <= 3
    # Whatever was queued last sees everything.
    run_task(celery_app, task_names.REFIT, cid)
    assert store.models.get(cid)["data_version"] == 100


def test_heartbeat_thread_marks_the_worker_live(celery_app: Celery, store: Store) -> None:
    sender = SimpleNamespace(app=celery_app, hostname="celery@test")
    heartbeat.start_heartbeat(sender=sender)
    try:
        deadline = 50
        while not store.workers.live() and deadline:
            threading.Event().wait(0.05)
            deadline -= 1
        assert store.workers.live() == ["celery@test"]
    finally:
        heartbeat.stop_heartbeat()
    assert store.workers.live() == []


def benchmark_job(store: Store, cid: str, **overrides: object) -> str:
    params = {"strategies": ["random", "ucb"], "n_inits": [2, 50], "repeats": 3, "noise_sd": 0.02,
              "kappa": 1.96, "xi": 0.01, "seed": 0, "chunk_size": 4, **overrides}  # fmt: skip
    return store.jobs.create("benchmarks", cid, params)[0]["id"]


def test_benchmarks_fan_out_in_chunks_and_the_last_chunk_summarises(
    celery_app: Celery, store: Store, cid: str, redis_client: redis.Redis
) -> None:
    store.results.append(cid, SEED)
    job_id = benchmark_job(store, cid)
    planned = run_task(celery_app, task_names.BENCHMARK, job_id)
    assert planned["chunks"] == 2  # 2 strategies x 3 repeats at n=2 (50 >= pool size is dropped)
    progress = store.jobs.get(job_id)["progress"]
    estimate = progress.pop("estimated_seconds")  # 3 ucb repeats, one timed (random costs ~0)
    assert isinstance(estimate, float) and estimate > 0
    assert progress == {"done": 0, "total": 6, "chunks_done": 0, "chunks_total": 2}
    messages = [json.loads(m) for m in redis_client.lrange(task_names.BENCHMARKS_QUEUE, 0, -1)]
    assert sorted(m["headers"]["argsrepr"] for m in messages) == [
        f"['{job_id}', {i}]" for i in (0, 1)
    ]
    store.results.append(cid, [row(50, 1075, 480)])  # arrives meanwhile; the plan pins the data
    run_task(celery_app, task_names.BENCHMARK, job_id, 1)
    progress = store.jobs.get(job_id)["progress"]
    assert progress == {
        "done": 2, "total": 6, "chunks_done": 1, "chunks_total": 2, "estimated_seconds": estimate
    }  # fmt: skip
    assert store.jobs.get(job_id)["state"] == "running"
    run_task(celery_app, task_names.BENCHMARK, job_id, 0)
    done = store.jobs.get(job_id)
    assert done["state"] == "done", done["error"]
    result = done["result"]
    assert result["pool_size"] == len(SEED) and result["n_inits"] == [2]
    assert set(result["table"]) == {"random", "ucb"}
    assert result["table"]["ucb"]["2"]["runs"] == 3
    assert result["recommended"]["strategy"] in {"random", "ucb"}
    assert done["progress"] == {
        "done": 6, "total": 6, "chunks_done": 2, "chunks_total": 2, "estimated_seconds": estimate
    }  # fmt: skip
    # A redelivered chunk after completion changes nothing.
    run_task(celery_app, task_names.BENCHMARK, job_id, 0)
    assert store.jobs.get(job_id)["result"] == result


def test_benchmarks_need_data(celery_app: Celery, store: Store, cid: str) -> None:
    job_id = benchmark_job(store, cid)
    run_task(celery_app, task_names.BENCHMARK, job_id)
    failed = store.jobs.get(job_id)
    assert failed["state"] == "failed" and "at least 2" in failed["error"]


def _record_fits(monkeypatch: pytest.MonkeyPatch, fail_warm: bool = False) -> list[dict]:
    """Record how refits.fit calls kiln's fit_model (warm or cold); optionally fail warm fits."""
    calls: list[dict] = []
    real = refits.fit_model

    def recorded(*args: object, **kwargs: object) -> object:
        n = len(args[2]) if len(args) > 2 else None  # type: ignore[arg-type]
        calls.append({"warm": kwargs.get("warm_start") is not None, "n": n, **kwargs})
        if fail_warm and kwargs.get("warm_start") is not None:
            raise refits.KilnError("warm start refused")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(refits, "fit_model", recorded)
    return calls


def test_a_refit_after_a_few_results_starts_from_the_stored_model(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refits, "COLD_REFIT_MAX_POINTS", 0)  # the regime of large campaigns
    calls = _record_fits(monkeypatch)
    store.results.append(cid, SEED)
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, [row(20, 975, 120)])  # 9 results, the model saw 8 of them
    _, version = refits.fit_and_store(store, store.campaigns.get(cid))
    # 9 results are 12.5 % more than the cold fit saw: the warm start explores with restarts
    explore = (True, refits.EXPLORE_RESTARTS)
    assert [(c["warm"], c.get("n_restarts")) for c in calls] == [(False, None), explore]
    assert version == 2 and store.models.get(cid)["data_version"] == 9


def test_a_small_campaign_refits_warm_and_cold_and_keeps_the_better_likelihood(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _record_fits(monkeypatch)
    fitted: list[float] = []
    real = refits.fit_model

    def spy(*args: object, **kwargs: object) -> object:
        model = real(*args, **kwargs)  # type: ignore[arg-type]
        fitted.append(model.surrogate.log_marginal_likelihood_)  # type: ignore[attr-defined]
        return model

    monkeypatch.setattr(refits, "fit_model", spy)
    store.results.append(cid, SEED)
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, [row(20, 975, 120)])  # 9 <= COLD_REFIT_MAX_POINTS
    refits.fit_and_store(store, store.campaigns.get(cid))
    assert [(c["warm"], c.get("n_restarts")) for c in calls] == [
        (False, None),
        (True, 0),
        (False, None),
    ]
    stored = store.models.get(cid)["summary"]["log_marginal_likelihood"]
    assert stored == pytest.approx(max(fitted[1:]))


def test_a_warm_refit_explores_again_once_the_results_grew_by_a_tenth(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refits, "COLD_REFIT_MAX_POINTS", 0)  # the regime of large campaigns
    calls = _record_fits(monkeypatch)
    grid = [(t, m) for t in range(800, 1101, 25) for m in (10.0, 30.0, 60.0)][:22]
    rows = [row(i, t, m) for i, (t, m) in enumerate(grid)]
    store.results.append(cid, rows[:20])
    refits.fit_and_store(store, store.campaigns.get(cid))  # cold: explored at 20 results
    for i in (20, 21):  # 21 results: 5 % more, warm only; 22: 10 % more, warm with restarts
        store.results.append(cid, [rows[i]])
        refits.fit_and_store(store, store.campaigns.get(cid))
    assert [(c["warm"], c.get("n_restarts")) for c in calls] == [
        (False, None),
        (True, 0),
        (True, refits.EXPLORE_RESTARTS),
    ]
    assert store.models.get(cid, with_state=True)["state"]["explored_at"] == 22


def test_a_large_import_or_a_new_space_fits_cold(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _record_fits(monkeypatch)
    store.results.append(cid, SEED[:4])
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, SEED[4:])  # the model saw 4 of 8: too few to start from
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, [row(20, 975, 120)])
    campaign = {**store.campaigns.get(cid), "space_version": 2}  # as after a PATCH of the ranges
    refits.fit_and_store(store, campaign)
    assert [c["warm"] for c in calls] == [False, False, False]


def test_a_failed_warm_fit_falls_back_to_a_cold_one(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _record_fits(monkeypatch, fail_warm=True)
    store.results.append(cid, SEED)
    refits.fit_and_store(store, store.campaigns.get(cid))
    store.results.append(cid, [row(20, 975, 120)])
    _, version = refits.fit_and_store(store, store.campaigns.get(cid))
    assert [c["warm"] for c in calls] == [False, True, False]
    assert version == 2


def test_a_campaign_larger_than_the_training_limit_fits_a_bounded_subset(
    store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _record_fits(monkeypatch)
    limit = WorkerSettings.from_env({"KILN_MAX_TRAINING_POINTS": "12"}).max_training_points
    grid = [(t, m) for t in range(800, 1101, 25) for m in (10.0, 30.0, 60.0)]
    store.results.append(cid, [row(i, t, m) for i, (t, m) in enumerate(grid)])
    _, version = refits.fit_and_store(store, store.campaigns.get(cid), limit)
    model = store.models.get(cid)
    assert version == 1 and model["data_version"] == len(grid) == 39
    assert calls[0]["n"] == 12 and model["summary"]["n_observations"] == 12
    assert model["summary"]["training"]["used"] == 12
    assert model["summary"]["training"]["of"] == 39
    best = max(store.results.all(cid), key=lambda r: r["objective"])
    assert model["summary"]["best_observed"]["sample_id"] == best["sample_id"]


@pytest.fixture
def bounded_app(redis_url: str) -> Iterator[Celery]:
    """A worker's app started with KILN_MAX_TRAINING_POINTS=20."""
    app = make_celery(redis_url, WorkerSettings.from_env({"KILN_MAX_TRAINING_POINTS": "20"}))
    app.loader.import_default_modules()
    yield app
    app.close()


def _forty_results() -> list[dict]:
    grid = [(t, m) for t in range(800, 1101, 25) for m in (10.0, 30.0, 60.0, 120.0, 480.0)]
    return [row(i, t, m) for i, (t, m) in enumerate(grid[:40])]


def _record_batch_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many results each fit inside a batch (kiln.propose's own fit) trained on."""
    fits: list[int] = []
    real = kiln.propose.fit_observations

    def recorded(
        space: object, objective: object, data: ParsedObservations, **kw: object
    ) -> object:
        fits.append(len(data.points))
        return real(space, objective, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(kiln.propose, "fit_observations", recorded)
    return fits


def _batch(app: Celery, store: Store, cid: str) -> dict:
    job, _ = store.jobs.create("proposals", cid, {"overrides": {}})
    return run_task(app, task_names.PROPOSE, job["id"])


def test_above_the_training_limit_a_batch_reuses_the_model_fitted_on_the_subset(
    bounded_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.results.append(cid, _forty_results())
    run_task(bounded_app, task_names.REFIT, cid)
    model = store.models.get(cid)
    training = model["summary"]["training"]
    assert (training["used"], training["of"]) == (20, 40) and model["data_version"] == 40
    assert model["summary"]["n_observations"] == 20
    fits = _record_batch_fits(monkeypatch)
    batch = _batch(bounded_app, store, cid)
    assert fits == []  # the stored model, not a refit on all 40 inside the batch
    assert batch["model_version"] == model["model_version"] == 1 and batch["fallback"] is None
    assert len(batch["proposals"]) == 3
    origin = batch["proposals"][0]["provenance"]
    assert origin["hyperparameters"] == model["summary"]["hyperparameters"]
    measured = {(r["parameters"]["temperature_c"], r["parameters"]["time_min"])
                for r in store.results.all(cid)}  # fmt: skip
    picks = {(p["parameters"]["temperature_c"], p["parameters"]["time_min"])
             for p in batch["proposals"]}  # fmt: skip
    assert not picks & measured  # measured points outside the subset are avoided too


def test_without_a_stored_model_a_single_objective_batch_fits_on_the_bounded_subset(
    bounded_app: Celery, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.results.append(cid, _forty_results())
    fits = _record_batch_fits(monkeypatch)
    batch = _batch(bounded_app, store, cid)
    assert fits == [20] and batch["model_version"] is None and batch["fallback"] is None
