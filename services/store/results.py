"""Results: the append-only log, idempotent by sample_id, that marks proposals measured."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from store.base import WATCH_RETRIES, StoreBase, dumps, utcnow
from store.errors import SampleConflict, UnknownProposal
from store.keys import Keys
from store.proposals import MEASURED, PENDING

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


@dataclass
class AppendOutcome:
    """What `Store.append_results` did."""

    stored: int
    duplicates: int
    data_version: int
    measured_proposals: list[str] = field(default_factory=list)


class ResultsMixin(StoreBase):
    """Result log reads and writes."""

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
            for _ in range(WATCH_RETRIES):
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
                updates[target["id"]] = dumps(target)
                if not pid:
                    record["matched_proposal_id"] = target["id"]
            records.append(dumps(record))
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
