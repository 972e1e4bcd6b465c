"""Fault 1: both Celery workers SIGKILLed (whole process groups) while a refit and a batch run.

Two workers take the two tasks: one refits the campaign on 80 results, the other computes a batch
(it fits its own model, as none is stored yet). Each task is seen running in the store (the refit
lock names its worker; the job is 'running' on its worker) and both workers are killed at once.
Then only the first worker is started again, with the same hostname: at its connection it puts
back what it held, and once its heartbeat has run for KILN_WORKER_DEAD_AFTER_S it finds the
other worker dead and puts back that one's task too. Without this, Celery's Redis transport
would redeliver them after its visibility timeout, an hour.
"""

from __future__ import annotations

import pytest
from faultkit import (
    Live,
    add_worker,
    child,
    live_workers,
    restart,
    sigkill_group,
    wait_until,
    worker_name,
)

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services.store import Keys

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_killed_workers_tasks_are_redelivered_once_and_nothing_is_lost(live: Live) -> None:
    stack, store, api = live
    first = child(stack, "worker")
    second = add_worker(stack, "fault-b")
    names = {worker_name(first): first, worker_name(second): second}
    wait_until(lambda: live_workers(store) >= set(names), 90, "both workers beat")

    body = latp_campaign("worker-killed")
    body["strategy"] = {**body["strategy"], "auto_batch": False}  # the one batch is ours
    cid = api.campaign(body)
    seed = VirtualLatpLab(seed=3).seed_grid()
    api.ok(api.post(f"/campaigns/{cid}/results", json=seed), 201)  # enqueues the refit
    job_id = api.ok(api.post(f"/campaigns/{cid}/proposals", json={}), 202)["id"]

    def both_running() -> tuple[str, str] | None:
        refitting = store.locks.owners(cid)["refit"]
        batching = (
            store.jobs.worker(job_id) if store.jobs.get(job_id)["state"] == "running" else None
        )
        if refitting and batching:
            return refitting.partition("@")[0], batching.partition("@")[0]
        return None

    refitter, batcher = wait_until(
        both_running, 60, "a refit and a batch running together", every=0.01
    )
    assert {refitter, batcher} == set(names), "each worker runs one of the two tasks"
    for process in names.values():
        sigkill_group(process)
    # Killed mid-task: nothing was stored by either.
    assert store.jobs.get(job_id)["state"] == "running"
    assert store.proposals.latest_batch(cid) is None and store.models.get(cid) is None

    restart(stack, first)  # same command, same hostname; the other stays dead
    done = wait_until(
        lambda: store.jobs.get(job_id)["state"] == "done" and store.models.get(cid),
        150,
        "the batch stored and the model fitted after the kill",
    )
    assert done
    # The batch appears once, under its job's id; the model saw every result.
    assert store.redis.lrange(Keys.batches(cid), 0, -1) == [job_id]
    batch = api.ok(api.get(f"/campaigns/{cid}/proposals/latest"), 200)
    assert batch["batch_id"] == job_id and len(batch["proposals"]) == body["strategy"]["batch_size"]
    assert api.job(job_id)["result"]["batch_id"] == job_id
    assert store.models.get(cid)["data_version"] == len(seed)
    # No result lost or doubled.
    stored = api.results(cid)
    assert sorted(r["sample_id"] for r in stored) == sorted(r["sample_id"] for r in seed)
    # The dead worker was found and forgotten; what it held went back to the queue.
    dead = worker_name(second)
    assert dead not in live_workers(store)
    assert not any(w.startswith(dead) for w in store.redis.zrange(Keys.workers, 0, -1))

    # The loop goes on: more results are fitted by the restarted worker.
    more = [
        {**r, "sample_id": f"after-{i}"}
        for i, r in enumerate(VirtualLatpLab(seed=4).seed_grid()[:3])
    ]
    api.ok(api.post(f"/campaigns/{cid}/results", json=more), 201)
    wait_until(
        lambda: (store.models.get(cid) or {}).get("data_version") == len(seed) + len(more),
        120,
        "the model refitted on the new results",
    )
