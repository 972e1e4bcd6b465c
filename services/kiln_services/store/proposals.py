"""Proposals: batches and the ledger of proposals (pending, measured, withdrawn, expired)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis

from kiln.ledger import EXPIRED, MEASURED, PENDING, WITHDRAWN
from kiln_services.store.base import dumps, utcnow, watched
from kiln_services.store.errors import ProposalNotFound, ProposalNotPending
from kiln_services.store.jobs import done_fields
from kiln_services.store.keys import Keys

__all__ = ["EXPIRED", "MEASURED", "PENDING", "WITHDRAWN", "Proposals"]


def _index_of(pid: str) -> int:
    # Proposal ids are "{batch id}-{k}"; k orders the proposals of one batch.
    tail = pid.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def withdrawn_under_watch(
    pipe: redis.client.Pipeline, cid: str, reason_of: Callable[[dict[str, Any]], str | None]
) -> dict[str, str]:
    """Pending proposals (read under the caller's WATCH) to withdraw, as their withdrawn JSON.

    `reason_of` gives a pending proposal's reason to withdraw it, or None to keep it.
    """
    ids = sorted(pipe.smembers(Keys.pending(cid)))
    out: dict[str, str] = {}
    now = utcnow()
    for raw in pipe.hmget(Keys.proposals(cid), ids) if ids else []:
        if raw is None:
            continue
        proposal = json.loads(raw)
        if proposal.get("status") != PENDING:
            continue
        reason = reason_of(proposal)
        if reason is not None:
            out[proposal["id"]] = dumps(withdrawn(proposal, reason, now))
    return out


def current(proposal: dict[str, Any]) -> dict[str, Any]:
    """The proposal as it reads now: a pending one past its time-to-live reads as expired.

    The ledger catches up lazily (`Proposals.pending` writes the expiry).
    """
    expires = proposal.get("expires_at")
    if proposal["status"] == PENDING and expires and expires < utcnow():
        proposal["status"] = EXPIRED
    return proposal


def withdrawn(proposal: Mapping[str, Any], reason: str, now: str) -> dict[str, Any]:
    """A proposal as withdrawn at `now` for `reason`."""
    return {**proposal, "status": WITHDRAWN, "withdrawn_at": now, "reason": reason}


class Proposals:
    """Batch and proposal-ledger reads and writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def save_batch(
        self,
        cid: str,
        batch_id: str,
        header: Mapping[str, Any],
        proposals: Iterable[Mapping],
        *,
        job_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Store a batch once: a second call with the same batch_id changes nothing.

        With `job_id`, that job is marked done with the batch as its result in the same
        transaction, so no reader sees the batch while its job still says running (nor a done
        job whose batch is not there yet). A second call only marks the job done again.

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
            ledger[pid] = dumps(
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

        def write(pipe: redis.client.Pipeline) -> tuple[dict[str, Any], bool]:
            if pipe.exists(key):
                pipe.unwatch()
                stored = self.batch(cid, batch_id)
                if job_id is not None:
                    self.redis.hset(Keys.job(job_id), mapping=done_fields(stored))
                return stored, False
            # What `batch` will read back: the header and the ledger entries, in order.
            expanded = {k: v for k, v in doc.items() if k != "proposal_ids"}
            expanded["proposals"] = [json.loads(ledger[pid]) for pid in ids]
            pipe.multi()
            pipe.set(key, dumps(doc))
            pipe.rpush(Keys.batches(cid), batch_id)
            if ledger:
                pipe.hset(Keys.proposals(cid), mapping=ledger)
                pipe.sadd(Keys.pending(cid), *ids)
            pipe.incr(Keys.proposals_rev(cid))
            if job_id is not None:
                pipe.hset(Keys.job(job_id), mapping=done_fields(expanded))
            pipe.execute()
            return expanded, True

        return watched(self.redis, [key], write, "batch could not be stored")

    def batch(self, cid: str, batch_id: str) -> dict[str, Any]:
        """Return a batch with its proposals (current ledger status)."""
        raw = self.redis.get(Keys.batch(cid, batch_id))
        if raw is None:
            raise KeyError(batch_id)
        doc = json.loads(raw)
        ids = doc.pop("proposal_ids")
        raws = self.redis.hmget(Keys.proposals(cid), ids) if ids else []
        doc["proposals"] = [current(json.loads(r)) for r in raws if r is not None]
        return doc

    def latest_batch(self, cid: str) -> dict[str, Any] | None:
        """Return the newest batch, or None when none was made yet."""
        bid = self.redis.lindex(Keys.batches(cid), -1)
        return None if bid is None else self.batch(cid, bid)

    def state(self, cid: str) -> tuple[str | None, int]:
        """Return (latest batch id, ledger revision): cheap, for ETags and long-polling."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lindex(Keys.batches(cid), -1)
            pipe.get(Keys.proposals_rev(cid))
            bid, rev = pipe.execute()
        return bid, int(rev or 0)

    def pending(self, cid: str) -> list[dict[str, Any]]:
        """Return the proposals still in flight, retiring those whose time-to-live ran out."""
        key, pending_key = Keys.proposals(cid), Keys.pending(cid)

        def retire(pipe: redis.client.Pipeline) -> list[dict[str, Any]]:
            ids = sorted(pipe.smembers(pending_key))
            raws = pipe.hmget(key, ids) if ids else []
            proposals = [current(json.loads(raw)) for raw in raws if raw is not None]
            expired = [p for p in proposals if p["status"] == EXPIRED]
            if not expired:
                pipe.unwatch()
                return proposals
            pipe.multi()
            pipe.hset(key, mapping={p["id"]: dumps(p) for p in expired})
            pipe.srem(pending_key, *[p["id"] for p in expired])
            pipe.incr(Keys.proposals_rev(cid))
            pipe.execute()
            return [p for p in proposals if p["status"] == PENDING]

        return watched(
            self.redis, [key, pending_key], retire, "pending proposals could not be read"
        )

    def page(
        self, cid: str, status: str | None = None, offset: int = 0, limit: int = 100
    ) -> tuple[list[dict[str, Any]], int]:
        """Return a page of the ledger (oldest first), optionally of one status, and the total.

        Pending proposals past their time-to-live are retired first, so they list as expired.
        """
        pending = self.pending(cid)
        if status == PENDING:
            items = pending
        else:
            items = [current(json.loads(raw)) for raw in self.redis.hvals(Keys.proposals(cid))]
            if status is not None:
                items = [p for p in items if p["status"] == status]
        items.sort(key=lambda p: (p.get("created_at") or "", _index_of(p["id"])))
        return items[offset : offset + limit], len(items)

    def withdraw_many(self, cid: str, reasons: Mapping[str, str]) -> list[dict[str, Any]]:
        """Withdraw several pending proposals at once, each with its reason; return them.

        Proposals that are not pending any more are left as they are.
        """
        return self._withdraw(cid, reasons, strict=False) if reasons else []

    def withdraw(
        self, cid: str, pid: str, reason: str = "withdrawn by the client"
    ) -> dict[str, Any]:
        """Withdraw a pending proposal (it stops counting as in flight); return it.

        Raises:
            ProposalNotFound: when the campaign never issued `pid`.
            ProposalNotPending: when it was measured, withdrawn or expired already.
        """
        return self._withdraw(cid, {pid: reason}, strict=True)[0]

    def _withdraw(
        self, cid: str, reasons: Mapping[str, str], *, strict: bool
    ) -> list[dict[str, Any]]:
        # One transaction; `strict` raises for a proposal that is unknown or not pending.
        key, pending_key = Keys.proposals(cid), Keys.pending(cid)
        ids = sorted(reasons)

        def write(pipe: redis.client.Pipeline) -> list[dict[str, Any]]:
            now = utcnow()
            changed = []
            for pid, raw in zip(ids, pipe.hmget(key, ids), strict=True):
                if raw is None:
                    if strict:
                        raise ProposalNotFound(pid)
                    continue
                proposal = current(json.loads(raw))
                if proposal["status"] == PENDING:
                    changed.append(withdrawn(proposal, reasons[pid], now))
                elif strict:
                    raise ProposalNotPending(pid, proposal["status"])
            if not changed:
                pipe.unwatch()
                return []
            pipe.multi()
            pipe.hset(key, mapping={p["id"]: dumps(p) for p in changed})
            pipe.srem(pending_key, *[p["id"] for p in changed])
            pipe.incr(Keys.proposals_rev(cid))
            pipe.execute()
            return changed

        return watched(self.redis, [key, pending_key], write, "proposals could not be withdrawn")
