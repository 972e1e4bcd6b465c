"""All Redis reads and writes of campaigns, results, proposals, models, jobs, locks and tokens.

Every multi-key write is one MULTI/EXEC transaction (optimistic, WATCH-guarded where it depends on
what it read), so a reader never sees half of a request and a crash never leaves half of one.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from store.errors import (
    CampaignNotFound,
    JobNotFound,
    ProposalNotFound,
    ProposalNotPending,
    SampleConflict,
    UnknownProposal,
)
from store.keys import Keys

# The fields a client submits for a result; its fingerprint covers these and nothing server-set.
PAYLOAD_FIELDS = (
    "sample_id",
    "parameters",
    "objective",
    "measurements",
    "status",
    "proposal_id",
    "measured_at",
    "instrument",
)

PENDING = "pending"
MEASURED = "measured"
EXPIRED = "expired"
WITHDRAWN = "withdrawn"

JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"

_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

# Store a model unless a newer one (more data, or a later space) is there; one atomic step.
_SAVE_MODEL = """
local dv = redis.call('hget', KEYS[1], 'data_version')
if dv then
    local sv = tonumber(redis.call('hget', KEYS[1], 'space_version'))
    local new_sv, new_dv = tonumber(ARGV[4]), tonumber(ARGV[3])
    if sv > new_sv or (sv == new_sv and tonumber(dv) > new_dv) then
        return 0
    end
end
local version = redis.call('incr', KEYS[2])
redis.call('hset', KEYS[1], 'state', ARGV[1], 'summary', ARGV[2], 'data_version', ARGV[3],
           'space_version', ARGV[4], 'fitted_at', ARGV[5], 'model_version', version)
return version
"""

_WATCH_RETRIES = 50


def utcnow() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical(value: Any) -> Any:
    # JSON numbers 1000 and 1000.0 (and the CSV cell "1000") are the same measurement.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprint(result: Mapping[str, Any]) -> str:
    """Return the sha256 of a result's submitted payload, insensitive to key order and int/float."""
    payload = {k: _canonical(result.get(k)) for k in PAYLOAD_FIELDS if result.get(k) is not None}
    if payload.get("measurements") == {}:
        del payload["measurements"]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def same_point(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Return True when two parameter dicts name the same point (floats compared closely)."""
    if set(a) != set(b):
        return False
    for name, va in a.items():
        vb = b[name]
        if isinstance(va, str) or isinstance(vb, str):
            if va != vb:
                return False
        elif not math.isclose(float(va), float(vb), rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


@dataclass
class AppendOutcome:
    """What `Store.append_results` did."""

    stored: int
    duplicates: int
    data_version: int
    measured_proposals: list[str] = field(default_factory=list)


class Store:
    """Kiln's store of record on one Redis client (created with ``decode_responses=True``)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._release_lock = client.register_script(_RELEASE_LOCK)
        self._save_model = client.register_script(_SAVE_MODEL)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 5.0) -> Store:
        """Build a store with its own connection pool."""
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client)

    def ping(self) -> bool:
        """Return True when Redis answers (raises redis.ConnectionError when it does not)."""
        return bool(self.redis.ping())

    # -- campaigns -----------------------------------------------------------------------------

    def create_campaign(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """Store a validated campaign definition; return it with id, space_version, created_at."""
        cid = uuid.uuid4().hex
        doc = {
            **definition,
            "id": cid,
            "space_version": int(definition.get("space_version", 1)),
            "created_at": utcnow(),
        }
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(Keys.campaign(cid), _dumps(doc))
            pipe.zadd(Keys.campaigns, {cid: time.time()})
            pipe.execute()
        return doc

    def update_campaign(
        self, cid: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Replace a campaign by `change(current)`, atomically against concurrent updates.

        A new space version also appends the replaced space to the campaign's space history.
        """
        key = Keys.campaign(cid)
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_RETRIES):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        raise CampaignNotFound(cid)
                    current = json.loads(raw)
                    updated = {**change(current), "id": cid, "created_at": current["created_at"]}
                    updated["updated_at"] = utcnow()
                    pipe.multi()
                    pipe.set(key, _dumps(updated))
                    if updated.get("space_version") != current.get("space_version"):
                        pipe.rpush(
                            Keys.spaces(cid),
                            _dumps(
                                {
                                    "space_version": current.get("space_version", 1),
                                    "parameters": current["parameters"],
                                    "replaced_at": updated["updated_at"],
                                }
                            ),
                        )
                    pipe.execute()
                    return updated
                except redis.WatchError:
                    continue
        raise RuntimeError("campaign could not be updated: too much contention")

    def space_history(self, cid: str) -> list[dict[str, Any]]:
        """The campaign's earlier spaces, oldest first."""
        return [json.loads(raw) for raw in self.redis.lrange(Keys.spaces(cid), 0, -1)]

    def get_campaign(self, cid: str) -> dict[str, Any]:
        """Return a campaign or raise CampaignNotFound."""
        raw = self.redis.get(Keys.campaign(cid))
        if raw is None:
            raise CampaignNotFound(cid)
        return json.loads(raw)

    def list_campaigns(self, offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Return a page of campaigns, oldest first, and the total count."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(Keys.campaigns, offset, offset + limit - 1)
            pipe.zcard(Keys.campaigns)
            ids, total = pipe.execute()
        if not ids:
            return [], int(total)
        raws = self.redis.mget([Keys.campaign(cid) for cid in ids])
        return [json.loads(raw) for raw in raws if raw is not None], int(total)

    def counts(self, cid: str) -> dict[str, Any]:
        """Return the campaign's counters: results, pending/total proposals, batches, model."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(Keys.results(cid))
            pipe.scard(Keys.pending(cid))
            pipe.hlen(Keys.proposals(cid))
            pipe.llen(Keys.batches(cid))
            pipe.hget(Keys.model(cid), "model_version")
            n_results, n_pending, n_proposals, n_batches, model_version = pipe.execute()
        return {
            "results": int(n_results),
            "proposals_pending": int(n_pending),
            "proposals": int(n_proposals),
            "batches": int(n_batches),
            "model_version": int(model_version) if model_version is not None else None,
        }

    # -- results -------------------------------------------------------------------------------

    def append_results(self, cid: str, rows: Sequence[Mapping[str, Any]]) -> AppendOutcome:
        """Append validated results all-or-nothing, idempotently by sample_id.

        A row whose sample_id is stored with the same fingerprint is a duplicate (skipped); with a
        different fingerprint the whole request fails with SampleConflict and nothing is written.
        A row naming a proposal_id, or matching a pending proposal's parameters exactly, marks that
        proposal measured in the same transaction.
        """
        self.get_campaign(cid)
        prints = [fingerprint(row) for row in rows]
        samples_key, pending_key, proposals_key = (
            Keys.samples(cid),
            Keys.pending(cid),
            Keys.proposals(cid),
        )
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_RETRIES):
                try:
                    pipe.watch(samples_key, pending_key, proposals_key)
                    outcome, writes = self._plan_append(pipe, cid, rows, prints)
                    if not writes["rows"]:
                        pipe.unwatch()
                        outcome.data_version = int(self.redis.llen(Keys.results(cid)))
                        return outcome
                    pipe.multi()
                    pipe.rpush(Keys.results(cid), *writes["rows"])
                    pipe.hset(samples_key, mapping=writes["samples"])
                    if writes["proposals"]:
                        pipe.hset(proposals_key, mapping=writes["proposals"])
                        pipe.srem(pending_key, *writes["proposals"])
                        pipe.incr(Keys.proposals_rev(cid))
                    length = pipe.execute()[0]
                    outcome.data_version = int(length)
                    return outcome
                except redis.WatchError:
                    continue
        raise RuntimeError("results could not be stored: too much contention, retry")

    def _plan_append(
        self,
        pipe: redis.client.Pipeline,
        cid: str,
        rows: Sequence[Mapping[str, Any]],
        prints: list[str],
    ) -> tuple[AppendOutcome, dict[str, Any]]:
        ids = [str(row["sample_id"]) for row in rows]
        stored = dict(zip(ids, pipe.hmget(Keys.samples(cid), ids), strict=True))
        seen: dict[str, str] = {}
        conflicts: list[str] = []
        new: list[int] = []
        duplicates = 0
        for i, (sid, fp) in enumerate(zip(ids, prints, strict=True)):
            known = stored.get(sid) or seen.get(sid)
            if known is None:
                seen[sid] = fp
                new.append(i)
            elif known == fp:
                duplicates += 1
            elif sid not in conflicts:
                conflicts.append(sid)
        if conflicts:
            raise SampleConflict(conflicts)

        named = {i: rows[i]["proposal_id"] for i in new if rows[i].get("proposal_id")}
        ledger: dict[str, dict[str, Any]] = {}
        if named:
            pids = sorted(set(named.values()))
            ledger = {
                pid: json.loads(raw)
                for pid, raw in zip(pids, pipe.hmget(Keys.proposals(cid), pids), strict=True)
                if raw is not None
            }
            unknown = {
                f"results.{i}.proposal_id": [f"unknown proposal {pid!r} for this campaign"]
                for i, pid in named.items()
                if pid not in ledger
            }
            if unknown:
                raise UnknownProposal(unknown)
        pending_ids = sorted(pipe.smembers(Keys.pending(cid)))
        pending = [
            json.loads(raw)
            for raw in (pipe.hmget(Keys.proposals(cid), pending_ids) if pending_ids else [])
            if raw is not None
        ]

        now = utcnow()
        updates: dict[str, str] = {}
        records: list[str] = []
        for i in new:
            row = rows[i]
            pid = row.get("proposal_id")
            target = ledger.get(pid) if pid else None
            if target is None and not pid:
                target = next(
                    (
                        p
                        for p in pending
                        if p["id"] not in updates and same_point(p["parameters"], row["parameters"])
                    ),
                    None,
                )
            record = {k: v for k, v in row.items() if v is not None}
            record["received_at"] = now
            if target is not None and target["status"] == PENDING and target["id"] not in updates:
                target = {**target, "status": MEASURED, "sample_id": row["sample_id"]}
                updates[target["id"]] = _dumps(target)
                if not pid:
                    record["matched_proposal_id"] = target["id"]
            records.append(_dumps(record))
        outcome = AppendOutcome(
            stored=len(new),
            duplicates=duplicates,
            data_version=0,
            measured_proposals=list(updates),
        )
        writes = {
            "rows": records,
            "samples": {ids[i]: prints[i] for i in new},
            "proposals": updates,
        }
        return outcome, writes

    def data_version(self, cid: str) -> int:
        """Return the number of results in the campaign's log."""
        return int(self.redis.llen(Keys.results(cid)))

    def list_results(self, cid: str, offset: int = 0, limit: int | None = 100) -> list[dict]:
        """Return results from the log, oldest first."""
        end = -1 if limit is None else offset + limit - 1
        return [json.loads(raw) for raw in self.redis.lrange(Keys.results(cid), offset, end)]

    def all_results(self, cid: str) -> list[dict[str, Any]]:
        """Return the whole result log."""
        return self.list_results(cid, 0, None)

    # -- proposals -----------------------------------------------------------------------------

    def store_batch(
        self, cid: str, batch_id: str, header: Mapping[str, Any], proposals: Iterable[Mapping]
    ) -> tuple[dict[str, Any], bool]:
        """Store a batch once: a second call with the same batch_id changes nothing.

        Returns the stored batch (expanded) and whether this call created it.
        """
        key = Keys.batch(cid, batch_id)
        now = utcnow()
        ttl = header.get("proposal_ttl_s")
        expires = (
            datetime.fromtimestamp(time.time() + float(ttl), UTC)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z")
            if ttl
            else None
        )
        # Every proposal carries the versions that made it, so it stands on its own.
        versions = {k: header.get(k) for k in ("model_version", "data_version", "space_version")}
        ledger: dict[str, str] = {}
        ids: list[str] = []
        for k, proposal in enumerate(proposals):
            pid = f"{batch_id}-{k}"
            ids.append(pid)
            ledger[pid] = _dumps(
                {
                    **versions,
                    **proposal,
                    "id": pid,
                    "batch_id": batch_id,
                    "status": PENDING,
                    "created_at": now,
                    "expires_at": expires,
                }
            )
        doc = {
            **{k: v for k, v in header.items() if k != "proposal_ttl_s"},
            "batch_id": batch_id,
            "campaign_id": cid,
            "created_at": now,
            "proposal_ids": ids,
        }
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_RETRIES):
                try:
                    pipe.watch(key)
                    if pipe.exists(key):
                        pipe.unwatch()
                        return self.get_batch(cid, batch_id), False
                    pipe.multi()
                    pipe.set(key, _dumps(doc))
                    pipe.rpush(Keys.batches(cid), batch_id)
                    if ledger:
                        pipe.hset(Keys.proposals(cid), mapping=ledger)
                        pipe.sadd(Keys.pending(cid), *ids)
                    pipe.incr(Keys.proposals_rev(cid))
                    pipe.execute()
                    return self.get_batch(cid, batch_id), True
                except redis.WatchError:
                    continue
        raise RuntimeError("batch could not be stored: too much contention")

    def get_batch(self, cid: str, batch_id: str) -> dict[str, Any]:
        """Return a batch with its proposals (current ledger status)."""
        raw = self.redis.get(Keys.batch(cid, batch_id))
        if raw is None:
            raise KeyError(batch_id)
        doc = json.loads(raw)
        ids = doc.pop("proposal_ids")
        raws = self.redis.hmget(Keys.proposals(cid), ids) if ids else []
        doc["proposals"] = [self._current(json.loads(r)) for r in raws if r is not None]
        return doc

    def latest_batch(self, cid: str) -> dict[str, Any] | None:
        """Return the newest batch, or None when none was made yet."""
        bid = self.redis.lindex(Keys.batches(cid), -1)
        return None if bid is None else self.get_batch(cid, bid)

    def proposals_state(self, cid: str) -> tuple[str | None, int]:
        """Return (latest batch id, ledger revision): cheap, for ETags and long-polling."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lindex(Keys.batches(cid), -1)
            pipe.get(Keys.proposals_rev(cid))
            bid, rev = pipe.execute()
        return bid, int(rev or 0)

    @staticmethod
    def _current(proposal: dict[str, Any]) -> dict[str, Any]:
        # A pending proposal past its time-to-live reads as expired (the ledger catches up lazily).
        expires = proposal.get("expires_at")
        if proposal["status"] == PENDING and expires and expires < utcnow():
            proposal["status"] = EXPIRED
        return proposal

    def pending_proposals(self, cid: str) -> list[dict[str, Any]]:
        """Return the proposals still in flight, retiring those whose time-to-live ran out."""
        ids = sorted(self.redis.smembers(Keys.pending(cid)))
        if not ids:
            return []
        proposals = [
            self._current(json.loads(raw))
            for raw in self.redis.hmget(Keys.proposals(cid), ids)
            if raw is not None
        ]
        expired = [p for p in proposals if p["status"] == EXPIRED]
        if expired:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(Keys.proposals(cid), mapping={p["id"]: _dumps(p) for p in expired})
                pipe.srem(Keys.pending(cid), *[p["id"] for p in expired])
                pipe.incr(Keys.proposals_rev(cid))
                pipe.execute()
        return [p for p in proposals if p["status"] == PENDING]

    def withdraw_proposal(self, cid: str, pid: str) -> dict[str, Any]:
        """Withdraw a pending proposal (it stops counting as in flight); return it.

        Raises:
            ProposalNotFound: when the campaign never issued `pid`.
            ProposalNotPending: when it was measured, withdrawn or expired already.
        """
        key = Keys.proposals(cid)
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_RETRIES):
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, pid)
                    if raw is None:
                        raise ProposalNotFound(pid)
                    proposal = self._current(json.loads(raw))
                    if proposal["status"] != PENDING:
                        raise ProposalNotPending(pid, proposal["status"])
                    proposal = {**proposal, "status": WITHDRAWN, "withdrawn_at": utcnow()}
                    pipe.multi()
                    pipe.hset(key, pid, _dumps(proposal))
                    pipe.srem(Keys.pending(cid), pid)
                    pipe.incr(Keys.proposals_rev(cid))
                    pipe.execute()
                    return proposal
                except redis.WatchError:
                    continue
        raise RuntimeError("proposal could not be withdrawn: too much contention")

    # -- model ---------------------------------------------------------------------------------

    def save_model(
        self,
        cid: str,
        state: Mapping[str, Any],
        summary: Mapping[str, Any],
        *,
        data_version: int,
        space_version: int,
    ) -> int | None:
        """Store a fitted model's JSON state and summary; return its new model_version.

        A model fitted on less data than the stored one (a refit that outlived its lock) is
        dropped and None returned: the stored model never goes back in time.
        """
        version = self._save_model(
            keys=[Keys.model(cid), Keys.model_version(cid)],
            args=[_dumps(state), _dumps(summary), data_version, space_version, utcnow()],
        )
        return int(version) or None

    def get_model(self, cid: str, *, with_state: bool = False) -> dict[str, Any] | None:
        """Return the latest model's summary and versions (and its state if asked), or None."""
        fields = ["summary", "model_version", "data_version", "space_version", "fitted_at"]
        if with_state:
            fields.append("state")
        values = dict(zip(fields, self.redis.hmget(Keys.model(cid), fields), strict=True))
        if values["model_version"] is None:
            return None
        model: dict[str, Any] = {
            "summary": json.loads(values["summary"]),
            "model_version": int(values["model_version"]),
            "data_version": int(values["data_version"]),
            "space_version": int(values["space_version"]),
            "fitted_at": values["fitted_at"],
        }
        if with_state:
            model["state"] = json.loads(values["state"])
        return model

    # -- jobs ----------------------------------------------------------------------------------

    def create_job(
        self,
        kind: str,
        campaign_id: str | None,
        params: Mapping[str, Any] | None = None,
        *,
        job_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Create a queued job; with an explicit job_id, only once. Returns (job, created)."""
        jid = job_id or uuid.uuid4().hex
        key = Keys.job(jid)
        record = {
            "id": jid,
            "kind": kind,
            "campaign_id": campaign_id or "",
            "state": JOB_QUEUED,
            "params": _dumps(dict(params or {})),
            "created_at": utcnow(),
        }
        with self.redis.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_RETRIES):
                try:
                    pipe.watch(key)
                    if pipe.exists(key):
                        pipe.unwatch()
                        return self.get_job(jid), False
                    pipe.multi()
                    pipe.hset(key, mapping=record)
                    pipe.execute()
                    return self.get_job(jid), True
                except redis.WatchError:
                    continue
        raise RuntimeError("job could not be created: too much contention")

    def get_job(self, jid: str) -> dict[str, Any]:
        """Return a job (result and params decoded) or raise JobNotFound."""
        raw = self.redis.hgetall(Keys.job(jid))
        if not raw:
            raise JobNotFound(jid)
        return {
            "id": raw["id"],
            "kind": raw["kind"],
            "campaign_id": raw.get("campaign_id") or None,
            "state": raw["state"],
            "params": json.loads(raw.get("params") or "{}"),
            "result": json.loads(raw["result"]) if raw.get("result") else None,
            "error": raw.get("error") or None,
            "created_at": raw.get("created_at"),
            "started_at": raw.get("started_at"),
            "finished_at": raw.get("finished_at"),
            "progress": json.loads(raw["progress"]) if raw.get("progress") else None,
        }

    def job_running(self, jid: str) -> None:
        """Mark a job running (again, after a redelivery)."""
        self.redis.hset(Keys.job(jid), mapping={"state": JOB_RUNNING, "started_at": utcnow()})

    def job_done(self, jid: str, result: Mapping[str, Any] | None) -> None:
        """Mark a job done with its result."""
        mapping = {"state": JOB_DONE, "finished_at": utcnow(), "error": ""}
        mapping["result"] = _dumps(result) if result is not None else ""
        self.redis.hset(Keys.job(jid), mapping=mapping)

    def job_failed(self, jid: str, error: str) -> None:
        """Mark a job failed with the reason."""
        self.redis.hset(
            Keys.job(jid), mapping={"state": JOB_FAILED, "finished_at": utcnow(), "error": error}
        )

    def set_job_plan(self, jid: str, plan: Mapping[str, Any]) -> bool:
        """Record a fan-out job's plan once (a redelivered planner keeps the first); True if new."""
        return bool(self.redis.hsetnx(Keys.job(jid), "plan", _dumps(plan)))

    def job_plan(self, jid: str) -> dict[str, Any] | None:
        """The plan of a fan-out job, or None."""
        raw = self.redis.hget(Keys.job(jid), "plan")
        return None if raw is None else json.loads(raw)

    def save_chunk(self, jid: str, index: int, outcome: Any, total: int) -> int:
        """Store one chunk's outcome (idempotent by index); return how many chunks are done."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(Keys.job_chunks(jid), str(index), _dumps(outcome))
            pipe.hlen(Keys.job_chunks(jid))
            done = int(pipe.execute()[1])
        self.redis.hset(
            Keys.job(jid), "progress", _dumps({"chunks_done": done, "chunks_total": total})
        )
        return done

    def job_chunks(self, jid: str) -> dict[int, Any]:
        """Every stored chunk outcome of a fan-out job, by index."""
        raw = self.redis.hgetall(Keys.job_chunks(jid))
        return {int(k): json.loads(v) for k, v in raw.items()}

    def claim_job_finish(self, jid: str) -> bool:
        """Let exactly one of the chunks that see the job complete write its result."""
        return bool(self.redis.hsetnx(Keys.job(jid), "finishing", utcnow()))

    # -- coalescing and locks ------------------------------------------------------------------

    def mark_refit_queued(self, cid: str, ttl_s: int = 300) -> bool:
        """Set the campaign's 'refit queued' flag; True when it was not set (caller enqueues)."""
        return bool(self.redis.set(Keys.refit_queued(cid), utcnow(), nx=True, ex=ttl_s))

    def clear_refit_queued(self, cid: str) -> None:
        """Clear the flag as a refit starts, so data arriving from now on queues another."""
        self.redis.delete(Keys.refit_queued(cid))

    def acquire_refit_lock(self, cid: str, ttl_ms: int = 600_000) -> str | None:
        """Take the per-campaign refit lock; return its token, or None when someone holds it."""
        token = secrets.token_hex(16)
        if self.redis.set(Keys.refit_lock(cid), token, nx=True, px=ttl_ms):
            return token
        return None

    def release_refit_lock(self, cid: str, token: str) -> bool:
        """Release the lock only if this token still holds it (compare-and-delete in Lua)."""
        return bool(self._release_lock(keys=[Keys.refit_lock(cid)], args=[token]))

    # -- workers -------------------------------------------------------------------------------

    def heartbeat(self, worker: str) -> None:
        """Record that a worker is alive, on Redis's clock (no skew between hosts)."""
        seconds, _ = self.redis.time()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(Keys.workers, {worker: seconds})
            # Workers that vanished without a goodbye are forgotten after a day.
            pipe.zremrangebyscore(Keys.workers, "-inf", seconds - 86_400)
            pipe.execute()

    def forget_worker(self, worker: str) -> None:
        """Remove a worker that shuts down cleanly."""
        self.redis.zrem(Keys.workers, worker)

    def live_workers(self, max_age_s: int = 30) -> list[str]:
        """Return the workers whose heartbeat is at most max_age_s old."""
        seconds, _ = self.redis.time()
        return list(self.redis.zrangebyscore(Keys.workers, seconds - max_age_s, "+inf"))

    def gauges(self, queues: Sequence[str]) -> dict[str, Any]:
        """Aggregate numbers for /metrics: campaigns, results, pending proposals, queue lengths."""
        ids = self.redis.zrange(Keys.campaigns, 0, -1)
        with self.redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.llen(Keys.results(cid))
                pipe.scard(Keys.pending(cid))
            for queue in queues:
                pipe.llen(queue)
            values = pipe.execute()
        per_campaign, lengths = values[: 2 * len(ids)], values[2 * len(ids) :]
        return {
            "campaigns": len(ids),
            "results": sum(per_campaign[0::2]),
            "proposals_pending": sum(per_campaign[1::2]),
            "queues": dict(zip(queues, lengths, strict=True)),
        }

    # -- tokens --------------------------------------------------------------------------------

    def add_token(self, digest: str, scope: str, name: str) -> dict[str, Any]:
        """Store a token's sha256 digest with its scope."""
        record = {"digest": digest, "scope": scope, "name": name, "created_at": utcnow()}
        self.redis.hset(Keys.tokens, digest, _dumps(record))
        return record

    def get_token(self, digest: str) -> dict[str, Any] | None:
        """Return a token record by its digest, or None."""
        raw = self.redis.hget(Keys.tokens, digest)
        return None if raw is None else json.loads(raw)

    def bootstrap_admin(self, digest: str) -> bool:
        """Store the first generated admin token once across processes; True if this call did."""
        if not self.redis.set(Keys.bootstrap_admin, digest, nx=True):
            return False
        self.add_token(digest, "admin", "bootstrap")
        return True
