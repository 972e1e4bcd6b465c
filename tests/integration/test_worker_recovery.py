"""Recovery from dead workers and from poison data, on a real Redis (no worker process).

The end-to-end proofs are in tests/faults; these check the parts: owned locks, recorded
deliveries put back through kombu's own restore, stale workers, failed refits and failed
automatic batches.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from celery import Celery

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services import task_names
from kiln_services.store import Keys, Store
from kiln_services.worker import batches, recovery, refits


@pytest.fixture
def cid(store: Store) -> str:
    return str(store.campaigns.create(latp_campaign("recovery"))["id"])


def deliver_and_die(app: Celery, queue: str) -> str:
    """Take one message as a worker would (unacknowledged) and vanish; its delivery tag."""
    connection = app.connection_for_read()
    channel: Any = connection.default_channel
    message = channel.basic_get(queue, no_ack=False)
    assert message is not None
    tag = str(message.delivery_tag)
    channel.qos._delivered.clear()  # a SIGKILLed worker restores nothing on its way out
    connection.release()
    return tag


def test_locks_name_their_owner_and_a_dead_owners_locks_are_released(
    store: Store, cid: str
) -> None:
    other = store.campaigns.create(latp_campaign("other"))["id"]
    mine = store.locks.acquire_refit(cid, 60_000, owner="w1@host")
    batch = store.locks.acquire_propose(cid, 60_000, owner="w1@host")
    theirs = store.locks.acquire_refit(other, 60_000, owner="w10@host")
    assert mine and batch and theirs
    assert store.locks.owners(cid) == {"refit": "w1@host", "propose": "w1@host"}
    assert store.locks.release_all_of("w1@host") == 2
    assert store.locks.owners(cid) == {"refit": None, "propose": None}
    assert store.locks.owners(other)["refit"] == "w10@host"  # a prefix of another name is not it
    assert store.locks.release_all_of("") == 0
    assert store.locks.release_refit(other, theirs)


def test_a_dead_workers_message_goes_back_to_its_queue_once(
    celery_app: Celery, store: Store
) -> None:
    celery_app.send_task(task_names.REFIT, args=["c1"], queue=task_names.PROPOSALS_QUEUE)
    tag = deliver_and_die(celery_app, task_names.PROPOSALS_QUEUE)
    assert store.redis.llen(task_names.PROPOSALS_QUEUE) == 0
    assert store.redis.hexists("unacked", tag)
    store.deliveries.track("dead@host", tag)
    store.workers.heartbeat("dead@host")
    store.redis.zadd(Keys.workers, {"dead@host": 1})  # its last beat: long ago

    assert store.workers.stale(60) == ["dead@host"]
    assert recovery.reap_dead_workers(celery_app, store, "me@host") == ["dead@host"]
    queued = store.redis.lrange(task_names.PROPOSALS_QUEUE, 0, -1)
    assert len(queued) == 1 and json.loads(queued[0])["headers"]["task"] == task_names.REFIT
    assert not store.redis.hexists("unacked", tag)
    assert store.workers.stale(60) == [] and store.deliveries.of("dead@host") == set()
    # A second restore of the same tag (another worker, late) delivers nothing twice.
    assert recovery.put_back(celery_app, [tag]) == 0
    assert store.redis.llen(task_names.PROPOSALS_QUEUE) == 1


def test_acknowledged_deliveries_are_forgotten(celery_app: Celery, store: Store) -> None:
    store.deliveries.track("me@host", "gone-tag")
    recovery.prune(celery_app, store, "me@host")
    assert store.deliveries.of("me@host") == set()


def test_identical_targets_record_the_failed_refit_and_the_batch_says_why(
    store: Store, cid: str
) -> None:
    sent: list[list[Any]] = []
    rows = [{**r, "objective": 2e-4} for r in VirtualLatpLab(seed=1).seed_grid()[:4]]
    store.results.append(cid, rows)
    outcome = refits.refit_campaign(store, cid, lambda *a: sent.append(list(a)), owner="w@h")
    assert outcome["model_version"] is None
    failure = store.models.failure(cid)
    assert failure is not None and failure["data_version"] == 4
    assert "targets are equal" in failure["reason"]
    job_id = outcome["auto_batch_job"]
    batch = batches.propose_for_job(store, job_id, owner="w@h")
    assert batch["fallback"].startswith("space_filling: model fit failed")
    assert store.jobs.worker(job_id) == "w@h" and store.jobs.get(job_id)["state"] == "done"

    # A different value: a model again, and the failure is forgotten.
    better = {**VirtualLatpLab(seed=1).seed_grid()[5], "sample_id": "better"}
    store.results.append(cid, [better])
    assert refits.refit_campaign(store, cid, lambda *a: None)["model_version"] == 1
    assert store.models.failure(cid) is None


def test_a_failed_automatic_batch_is_sent_again_on_new_data(store: Store, cid: str) -> None:
    sent: list[str] = []

    def send(name: str, args: list[Any], queue: str, task_id: str | None) -> None:
        sent.append(args[0])

    store.results.append(cid, VirtualLatpLab(seed=2).seed_grid()[:6])
    campaign = store.campaigns.get(cid)
    job_id = refits.maybe_auto_batch(store, campaign, send)
    assert job_id is not None and sent == [job_id]
    store.jobs.failed(job_id, "unexpected ValueError: a crash")
    # The same state asks for the same job: failed, so it is queued and sent again.
    assert refits.maybe_auto_batch(store, campaign, send) == job_id
    assert sent == [job_id, job_id] and store.jobs.get(job_id)["state"] == "queued"
    # Queued (or running) already: not sent twice.
    assert refits.maybe_auto_batch(store, campaign, send) is None


def test_the_kombu_internals_recovery_relies_on_are_there() -> None:
    # Fails loudly on a kombu upgrade that drops them (the worker would then refuse to start).
    recovery.check_transport()


def test_a_kombu_without_them_is_refused_naming_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kombu.transport import redis as transport

    monkeypatch.delattr(transport.QoS, "restore_by_tag")
    with pytest.raises(RuntimeError, match=r"kombu\.transport\.redis\.QoS\.restore_by_tag"):
        recovery.check_transport()
