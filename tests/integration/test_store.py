"""The store on a real Redis: all-or-nothing appends, idempotency, the ledger, locks, jobs."""

from __future__ import annotations

import json

import pytest
import redis

from kiln_services.store import Keys, SampleConflict, Store, UnknownProposal, fingerprint

CAMPAIGN = {
    "name": "t",
    "parameters": [{"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0}],
    "objective": {"name": "y", "unit": None, "goal": "maximize", "transform": "none"},
    "strategy": {"auto_batch": True, "proposal_ttl_s": 3600},
}


def row(sid: str, x: float = 0.5, y: float = 1.0, **extra: object) -> dict:
    return {"sample_id": sid, "parameters": {"x": x}, "objective": y, "status": "ok", **extra}


@pytest.fixture
def cid(store: Store) -> str:
    return store.campaigns.create(CAMPAIGN)["id"]


def test_fingerprint_ignores_key_order_int_float_and_nulls() -> None:
    a = {"sample_id": "s", "parameters": {"x": 1, "c": "air"}, "objective": 2, "proposal_id": None}
    b = {"objective": 2.0, "parameters": {"c": "air", "x": 1.0}, "sample_id": "s"}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**b, "objective": 2.5})


def test_campaigns_round_trip_and_list(store: Store, cid: str) -> None:
    doc = store.campaigns.get(cid)
    assert doc["space_version"] == 1 and doc["created_at"] and doc["name"] == "t"
    second = store.campaigns.create({**CAMPAIGN, "name": "u"})
    items, total = store.campaigns.page(0, 1)
    assert total == 2 and [c["id"] for c in items] == [cid]
    assert store.campaigns.page(1, 5)[0][0]["id"] == second["id"]


def test_append_is_idempotent_by_sample_id(store: Store, cid: str) -> None:
    first = store.results.append(cid, [row("a"), row("b")])
    assert (first.stored, first.duplicates, first.data_version) == (2, 0, 2)
    again = store.results.append(cid, [row("a"), row("b"), row("c")])
    assert (again.stored, again.duplicates, again.data_version) == (1, 2, 3)
    assert [r["sample_id"] for r in store.results.all(cid)] == ["a", "b", "c"]


def test_conflicting_payload_stores_nothing(store: Store, cid: str) -> None:
    store.results.append(cid, [row("a")])
    with pytest.raises(SampleConflict) as info:
        store.results.append(cid, [row("new"), row("a", y=9.0)])
    assert info.value.sample_ids == ["a"]
    assert store.results.data_version(cid) == 1
    assert store.redis.hexists(Keys.samples(cid), "new") is False


def test_same_sample_twice_in_one_request(store: Store, cid: str) -> None:
    outcome = store.results.append(cid, [row("a"), row("a")])
    assert (outcome.stored, outcome.duplicates) == (1, 1)
    with pytest.raises(SampleConflict):
        store.results.append(cid, [row("b"), row("b", y=2.0)])
    assert store.results.data_version(cid) == 1


def test_batches_are_stored_once_and_results_settle_the_ledger(store: Store, cid: str) -> None:
    header = {"data_version": 0, "space_version": 1, "model_version": None, "proposal_ttl_s": 3600}
    proposals = [{"parameters": {"x": 0.25}}, {"parameters": {"x": 0.75}}]
    batch, created = store.proposals.save_batch(cid, "job1", header, proposals)
    assert created and [p["status"] for p in batch["proposals"]] == ["pending", "pending"]
    again, created_again = store.proposals.save_batch(cid, "job1", header, proposals)
    assert not created_again and again["batch_id"] == "job1"
    assert (
        store.redis.llen(Keys.batches(cid)) == 1 and store.campaigns.counts(cid)["proposals"] == 2
    )
    before = store.proposals.state(cid)

    by_id, by_point = batch["proposals"][0]["id"], batch["proposals"][1]["id"]
    outcome = store.results.append(cid, [row("a", x=0.1, proposal_id=by_id), row("b", x=0.75)])
    assert sorted(outcome.measured_proposals) == sorted([by_id, by_point])
    latest = store.proposals.latest_batch(cid)
    assert [p["status"] for p in latest["proposals"]] == ["measured", "measured"]
    assert store.proposals.pending(cid) == []
    assert store.proposals.state(cid) != before
    stored = store.results.all(cid)
    assert stored[1]["matched_proposal_id"] == by_point


def test_a_batch_and_its_job_being_done_are_one_transaction(store: Store, cid: str) -> None:
    """No reader can see the batch while its job still says running (issue 14, item 1)."""
    job, _ = store.jobs.create("proposals", cid, job_id="j-atomic")
    store.jobs.running(job["id"], "w1")
    header = {"data_version": 0, "space_version": 1, "model_version": None, "proposal_ttl_s": 60}
    commands: list[str] = []
    with store.redis.monitor() as monitor:
        # MONITOR lists every command the server runs, in order, MULTI/EXEC included; an ECHO
        # after the write marks where to stop reading.
        store.proposals.save_batch(
            cid, job["id"], header, [{"parameters": {"x": 0.5}}], job_id=job["id"]
        )
        store.redis.echo("end-of-batch")
        for event in monitor.listen():
            if "end-of-batch" in event["command"]:
                break
            commands.append(event["command"])
    start = max(i for i, c in enumerate(commands) if c.upper().startswith("MULTI"))
    inside = commands[start:]
    batch_key, job_key = Keys.batch(cid, job["id"]), Keys.job(job["id"])
    assert any(c.startswith(f"SET {batch_key}") for c in inside), inside
    assert any(c.startswith(f"HSET {job_key}") and " done" in c for c in inside), inside
    done = store.jobs.get(job["id"])
    assert done["state"] == "done" and done["result"] == store.proposals.latest_batch(cid)
    # Stored once: a redelivered task finds the batch and leaves the job done with it.
    again, created = store.proposals.save_batch(cid, job["id"], header, [], job_id=job["id"])
    assert not created and store.jobs.get(job["id"])["result"] == again


def test_unknown_proposal_id_stores_nothing(store: Store, cid: str) -> None:
    with pytest.raises(UnknownProposal) as info:
        store.results.append(cid, [row("a"), row("b", proposal_id="nope")])
    assert list(info.value.errors) == ["results.1.proposal_id"]
    assert store.results.data_version(cid) == 0


def test_expired_proposals_stop_being_pending(store: Store, cid: str) -> None:
    store.proposals.save_batch(cid, "j", {"proposal_ttl_s": 3600}, [{"parameters": {"x": 0.5}}])
    raw = json.loads(store.redis.hget(Keys.proposals(cid), "j-0"))
    raw["expires_at"] = "2000-01-01T00:00:00Z"
    store.redis.hset(Keys.proposals(cid), "j-0", json.dumps(raw))
    assert store.proposals.pending(cid) == []
    assert store.proposals.latest_batch(cid)["proposals"][0]["status"] == "expired"
    assert store.campaigns.counts(cid)["proposals_pending"] == 0


def test_model_state_is_json_with_versions(store: Store, cid: str) -> None:
    assert store.models.get(cid) is None
    v1 = store.models.save(cid, {"alpha": [1.0]}, {"kernel": "k"}, data_version=3, space_version=1)
    v2 = store.models.save(cid, {"alpha": [2.0]}, {"kernel": "k"}, data_version=5, space_version=1)
    assert (v1, v2) == (1, 2)
    model = store.models.get(cid, with_state=True)
    assert model["state"] == {"alpha": [2.0]} and model["data_version"] == 5
    assert "state" not in store.models.get(cid)
    # A slow refit that finishes after a newer one does not put an older model back.
    late = store.models.save(cid, {"alpha": [0.0]}, {}, data_version=4, space_version=1)
    assert late is None and store.models.get(cid)["data_version"] == 5
    assert store.models.save(cid, {}, {}, data_version=5, space_version=1) == 3


def test_a_saved_model_forgets_an_older_failed_refit_in_the_same_step(
    store: Store, cid: str
) -> None:
    def fail(data_version: int, space_version: int = 1) -> None:
        store.models.record_failure(
            cid, data_version=data_version, space_version=space_version, reason="r"
        )

    fail(12)
    store.models.save(cid, {}, {}, data_version=13, space_version=1)
    assert store.models.failure(cid) is None  # no window with the new model and the old failure
    fail(14)  # a later refit failed: a model on less data does not hide that
    store.models.save(cid, {}, {}, data_version=13, space_version=1)
    assert store.models.failure(cid)["data_version"] == 14
    fail(20, space_version=1)
    store.models.save(cid, {}, {}, data_version=2, space_version=2)  # a later space: forgotten
    assert store.models.failure(cid) is None


def test_refit_lock_is_exclusive_and_released_only_by_its_holder(store: Store, cid: str) -> None:
    token = store.locks.acquire_refit(cid)
    assert token and store.locks.acquire_refit(cid) is None
    assert store.locks.release_refit(cid, "not-the-token") is False
    assert store.locks.release_refit(cid, token) is True
    assert store.locks.acquire_refit(cid) is not None


def test_refit_flag_coalesces(store: Store, cid: str) -> None:
    assert store.locks.mark_refit_queued(cid) is True
    assert store.locks.mark_refit_queued(cid) is False
    store.locks.clear_refit_queued(cid)
    assert store.locks.mark_refit_queued(cid) is True


def test_jobs_lifecycle_and_once_only_ids(store: Store, cid: str) -> None:
    job, created = store.jobs.create("proposals", cid, {"overrides": {"batch_size": 2}})
    assert created and job["state"] == "queued" and job["params"]["overrides"]["batch_size"] == 2
    store.jobs.running(job["id"])
    store.jobs.done(job["id"], {"batch_id": "b"})
    done = store.jobs.get(job["id"])
    assert done["state"] == "done" and done["result"] == {"batch_id": "b"} and done["finished_at"]
    _, first = store.jobs.create("proposals", cid, job_id="auto-1")
    _, second = store.jobs.create("proposals", cid, job_id="auto-1")
    assert first and not second
    store.jobs.failed("auto-1", "ModelFitError: singular")
    assert store.jobs.get("auto-1")["error"] == "ModelFitError: singular"


def test_heartbeats(store: Store) -> None:
    assert store.workers.live() == []
    store.workers.heartbeat("w1@host")
    assert store.workers.live() == ["w1@host"]
    store.workers.forget("w1@host")
    assert store.workers.live() == []


def test_store_down_raises_connection_error() -> None:
    from kiln_services.devstack.redis_server import free_port

    dead = Store.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(redis.ConnectionError):
        dead.ping()


def test_withdrawing_a_pending_proposal(store: Store, cid: str) -> None:
    from kiln_services.store import ProposalNotFound, ProposalNotPending

    store.proposals.save_batch(
        cid, "j", {}, [{"parameters": {"x": 0.2}}, {"parameters": {"x": 0.4}}]
    )
    withdrawn = store.proposals.withdraw(cid, "j-0")
    assert withdrawn["status"] == "withdrawn"
    assert [p["id"] for p in store.proposals.pending(cid)] == ["j-1"]
    with pytest.raises(ProposalNotPending):
        store.proposals.withdraw(cid, "j-0")
    with pytest.raises(ProposalNotFound):
        store.proposals.withdraw(cid, "nope")
    # A result at a withdrawn point does not resurrect it.
    store.results.append(cid, [row("a", x=0.2)])
    assert store.proposals.latest_batch(cid)["proposals"][0]["status"] == "withdrawn"


def test_concurrent_appends_store_each_sample_once(redis_url: str, cid: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rows = [row(f"s{i}", x=i / 40) for i in range(20)]

    def append(k: int) -> int:
        mine = Store.from_url(redis_url)  # one client per lab instrument
        return mine.results.append(cid, rows[k % 3 :] + rows[: k % 3]).stored

    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(pool.map(append, range(8)))
    store = Store.from_url(redis_url)
    assert sum(stored) == 20 and store.results.data_version(cid) == 20
    assert sorted(r["sample_id"] for r in store.results.all(cid)) == sorted(
        r["sample_id"] for r in rows
    )


def _interleave(monkeypatch: pytest.MonkeyPatch, store: Store, between: object) -> None:
    """Run `between()` once, after the store's first append plan and before its write."""
    plan = store.results._plan_append
    calls: list[int] = []

    def planned(*args: object, **kwargs: object) -> object:
        out = plan(*args, **kwargs)  # type: ignore[arg-type]
        if not calls:
            calls.append(1)
            between()  # type: ignore[operator]
        return out

    monkeypatch.setattr(store.results, "_plan_append", planned)


def test_append_replans_when_the_same_sample_lands_meanwhile(
    redis_url: str, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Store.from_url(redis_url)
    _interleave(monkeypatch, store, lambda: other.results.append(cid, [row("a")]))
    outcome = store.results.append(cid, [row("a"), row("b")])
    assert (outcome.stored, outcome.duplicates, outcome.data_version) == (1, 1, 2)
    assert [r["sample_id"] for r in store.results.all(cid)] == ["a", "b"]


def test_append_conflicts_with_a_different_payload_stored_meanwhile(
    redis_url: str, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Store.from_url(redis_url)
    _interleave(monkeypatch, store, lambda: other.results.append(cid, [row("a", y=2.0)]))
    with pytest.raises(SampleConflict):
        store.results.append(cid, [row("a"), row("b")])
    assert [r["objective"] for r in store.results.all(cid)] == [2.0]


def test_append_replans_when_a_batch_is_stored_meanwhile(
    redis_url: str, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plan saw no pending proposal; the one stored meanwhile at the same point is measured.
    other = Store.from_url(redis_url)
    _interleave(
        monkeypatch,
        store,
        lambda: other.proposals.save_batch(cid, "j", {}, [{"parameters": {"x": 0.2}}]),
    )
    outcome = store.results.append(cid, [row("a", x=0.2)])
    assert outcome.measured_proposals == ["j-0"]
    assert store.proposals.pending(cid) == []


def test_an_append_of_other_samples_meanwhile_costs_no_second_plan(
    redis_url: str, store: Store, cid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Instruments posting into one campaign at once do not make each other start over.
    other = Store.from_url(redis_url)
    plans: list[int] = []
    plan = store.results._plan_append

    def counted(*args: object, **kwargs: object) -> object:
        plans.append(1)
        out = plan(*args, **kwargs)  # type: ignore[arg-type]
        if len(plans) == 1:
            other.results.append(cid, [row("elsewhere")])
        return out

    monkeypatch.setattr(store.results, "_plan_append", counted)
    outcome = store.results.append(cid, [row("a")])
    assert (outcome.stored, outcome.data_version, len(plans)) == (1, 2, 1)


def test_an_append_sets_the_refit_flag_in_the_same_step(store: Store, cid: str) -> None:
    first = store.results.append(cid, [row("a")], mark_refit_ttl_s=60)
    again = store.results.append(cid, [row("b")], mark_refit_ttl_s=60)
    duplicate = store.results.append(cid, [row("b")], mark_refit_ttl_s=60)
    assert (first.refit_marked, again.refit_marked, duplicate.refit_marked) == (True, False, False)
    assert 0 < store.redis.ttl(Keys.refit_queued(cid)) <= 60
    store.locks.clear_refit_queued(cid)  # as a refit starts
    assert store.results.append(cid, [row("c")], mark_refit_ttl_s=60).refit_marked is True
    unmarked = store.results.append(cid, [row("d")])
    assert unmarked.refit_marked is False
