"""Results: the append-only log, idempotent by sample_id, that marks proposals measured, and its
current view (each result with its corrections applied; see `store.revisions`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from kiln.deviations import proposal_flags, same_point
from kiln_services.store.base import WATCH_RETRIES, dumps, utcnow
from kiln_services.store.errors import CampaignNotFound, SampleConflict, UnknownProposal
from kiln_services.store.keys import Keys
from kiln_services.store.proposals import MEASURED, PENDING

# The fields a client submits for a result; its fingerprint covers these and nothing server-set.
PAYLOAD_FIELDS = (
    "sample_id",
    "parameters",
    "objective",
    "objectives",
    "measurements",
    "status",
    "proposal_id",
    "measured_at",
    "instrument",
    "objective_sd",
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


# Write a planned append (see Results.append) in one atomic step.
# KEYS: campaign, samples, results, pending, proposals, proposals_rev, refit_queued, revisions.
# ARGV: the ledger revision the plan read, the refit flag's value and TTL in seconds (0: leave the
# flag alone), the number n of new rows, n x (sample_id, fingerprint, record), then
# (proposal_id, record) for each proposal it marks measured.
# Returns {the new data_version, 1 if this call set the refit flag else 0}; the version is -1 when
# the campaign is gone, -2 when the plan is stale (a planned sample_id is stored now, or the
# proposal ledger changed): nothing is written then.
APPEND_RESULTS = """
if redis.call('exists', KEYS[1]) == 0 then
    return {-1, 0}
end
if (redis.call('get', KEYS[6]) or '') ~= ARGV[1] then
    return {-2, 0}
end
local n = tonumber(ARGV[4])
for i = 0, n - 1 do
    if redis.call('hexists', KEYS[2], ARGV[5 + 3 * i]) == 1 then
        return {-2, 0}
    end
end
local length = 0
for i = 0, n - 1 do
    local at = 5 + 3 * i
    redis.call('hset', KEYS[2], ARGV[at], ARGV[at + 1])
    length = redis.call('rpush', KEYS[3], ARGV[at + 2])
end
local first = 5 + 3 * n
if #ARGV >= first then
    for at = first, #ARGV, 2 do
        redis.call('hset', KEYS[5], ARGV[at], ARGV[at + 1])
        redis.call('srem', KEYS[4], ARGV[at])
    end
    redis.call('incr', KEYS[6])
end
local marked = 0
if tonumber(ARGV[3]) > 0 and redis.call('set', KEYS[7], ARGV[2], 'NX', 'EX', ARGV[3]) then
    marked = 1
end
return {length + redis.call('llen', KEYS[8]), marked}
"""
#: The view fields of a result never corrected.
UNCORRECTED = {"revision": 0, "excluded": False}

_CAMPAIGN_GONE = -1
_SNAPSHOT_STALE = -2


@dataclass
class AppendOutcome:
    """What `Results.append` did."""

    stored: int
    duplicates: int
    data_version: int
    measured_proposals: list[str] = field(default_factory=list)
    #: True when this append set the campaign's refit flag (the caller then enqueues the refit).
    refit_marked: bool = False
    #: Each given row's flags: as stored for a new row (its own, then how it departs from the
    #: proposal it names: kiln.deviations), as given for a duplicate.
    row_flags: list[list[str]] = field(default_factory=list)


class Results:
    """Result log reads and writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._append_script = client.register_script(APPEND_RESULTS)

    def append(
        self,
        cid: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        mark_refit_ttl_s: int = 0,
    ) -> AppendOutcome:
        """Append validated results all-or-nothing, idempotently by sample_id.

        A row whose sample_id is stored with the same fingerprint is a duplicate (skipped); with a
        different fingerprint the whole request fails with SampleConflict and nothing is written.
        A row naming a proposal_id, or matching a pending proposal's parameters exactly, marks that
        proposal measured in the same transaction. With `mark_refit_ttl_s`, storing anything also
        sets the campaign's refit flag (as `Locks.mark_refit_queued`) in that transaction.

        The plan is made from one snapshot (one round trip) and written by APPEND_RESULTS, which
        refuses it when a planned sample_id appeared or the proposal ledger changed meanwhile;
        the plan is then made again. Posts of different samples never hold each other up.
        """
        if not rows:  # e.g. a CSV whose rows were all skipped: nothing to store
            return AppendOutcome(stored=0, duplicates=0, data_version=self.data_version(cid))
        prints = [fingerprint(row) for row in rows]
        keys = [
            Keys.campaign(cid),
            Keys.samples(cid),
            Keys.results(cid),
            Keys.pending(cid),
            Keys.proposals(cid),
            Keys.proposals_rev(cid),
            Keys.refit_queued(cid),
            Keys.revisions(cid),
        ]
        for _ in range(WATCH_RETRIES):
            outcome, writes, revision = self._plan_append(cid, rows, prints)
            if not writes["rows"]:
                outcome.data_version = self.data_version(cid)
                return outcome
            args: list[Any] = [revision, utcnow(), mark_refit_ttl_s, len(writes["rows"])]
            for sid, fp, record in writes["rows"]:
                args += [sid, fp, record]
            for pid, record in writes["proposals"].items():
                args += [pid, record]
            length, marked = (int(x) for x in self._append_script(keys=keys, args=args))
            if length == _CAMPAIGN_GONE:
                raise CampaignNotFound(cid)
            if length != _SNAPSHOT_STALE:
                outcome.data_version, outcome.refit_marked = length, bool(marked)
                return outcome
        raise RuntimeError("results could not be stored: too much contention, retry")

    def _plan_append(
        self,
        cid: str,
        rows: Sequence[Mapping[str, Any]],
        prints: list[str],
    ) -> tuple[AppendOutcome, dict[str, Any], str]:
        ids = [str(row["sample_id"]) for row in rows]
        with self.redis.pipeline(transaction=False) as reads:
            reads.exists(Keys.campaign(cid))
            reads.hmget(Keys.samples(cid), ids)
            reads.smembers(Keys.pending(cid))
            reads.get(Keys.proposals_rev(cid))
            exists, known, pending_set, revision = reads.execute()
        if not exists:
            raise CampaignNotFound(cid)
        new, duplicates = _new_rows(ids, prints, dict(zip(ids, known, strict=True)))

        named = {i: rows[i]["proposal_id"] for i in new if rows[i].get("proposal_id")}
        pids = sorted(set(named.values()))
        pending_ids = sorted(pending_set)
        wanted = pids + [pid for pid in pending_ids if pid not in named.values()]
        raws = (
            dict(zip(wanted, self.redis.hmget(Keys.proposals(cid), wanted), strict=True))
            if wanted
            else {}
        )
        ledger: dict[str, dict[str, Any]] = {
            pid: json.loads(raws[pid]) for pid in pids if raws.get(pid) is not None
        }
        if named:
            unknown = {
                f"results.{i}.proposal_id": [f"unknown proposal {pid!r} for this campaign"]
                for i, pid in named.items()
                if pid not in ledger
            }
            if unknown:
                raise UnknownProposal(unknown)
        pending = [
            ledger[pid] if pid in ledger else json.loads(raws[pid])
            for pid in pending_ids
            if raws.get(pid) is not None
        ]

        records, updates, row_flags = _records(rows, new, ledger, pending)
        outcome = AppendOutcome(
            stored=len(new),
            duplicates=duplicates,
            data_version=0,
            measured_proposals=list(updates),
            row_flags=row_flags,
        )
        writes = {
            "rows": [(ids[i], prints[i], record) for i, record in zip(new, records, strict=True)],
            "proposals": updates,
        }
        return outcome, writes, revision or ""

    def data_version(self, cid: str) -> int:
        """The campaign's data version: the number of results plus the number of corrections."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(Keys.results(cid))
            pipe.llen(Keys.revisions(cid))
            return sum(int(n) for n in pipe.execute())

    def count(self, cid: str) -> int:
        """The number of results in the campaign's log."""
        return int(self.redis.llen(Keys.results(cid)))

    def page(self, cid: str, offset: int = 0, limit: int | None = 100) -> list[dict]:
        """Return results from the log as they were posted, oldest first."""
        end = -1 if limit is None else offset + limit - 1
        return [json.loads(raw) for raw in self.redis.lrange(Keys.results(cid), offset, end)]

    def all(self, cid: str) -> list[dict[str, Any]]:
        """Return the whole result log as it was posted."""
        return self.page(cid, 0, None)

    def current(
        self, cid: str, offset: int = 0, limit: int | None = None, *, excluded: bool | None = None
    ) -> list[dict[str, Any]]:
        """Results with their corrections applied (fields `revision`, `excluded`), oldest first.

        `excluded` False leaves excluded results out, True keeps only those; paging (`offset`,
        `limit`) counts every result of the log.
        """
        if limit == 0:
            return []
        end = -1 if limit is None else offset + limit - 1
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(Keys.results(cid), offset, end)
            pipe.hgetall(Keys.corrected(cid))
            raws, corrected = pipe.execute()
        return _current(raws, corrected, excluded)

    def training_view(self, cid: str) -> tuple[list[dict[str, Any]], int, int]:
        """What a model learns from, read at once: (the current results not excluded, the
        data_version, the number of corrections)."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(Keys.results(cid), 0, -1)
            pipe.hgetall(Keys.corrected(cid))
            pipe.llen(Keys.revisions(cid))
            raws, corrected, n_revisions = pipe.execute()
        return _current(raws, corrected, False), len(raws) + int(n_revisions), int(n_revisions)

    def original(self, cid: str, sample_id: str) -> dict[str, Any] | None:
        """A result's entry in the log as it was posted, or None."""
        needle = dumps({"sample_id": sample_id})[1:-1]  # how the compact record spells it
        for raw in self.redis.lrange(Keys.results(cid), 0, -1):
            if needle in raw:
                record = json.loads(raw)
                if record.get("sample_id") == sample_id:
                    return record
        return None


def _current(
    raws: Sequence[str], corrected: Mapping[str, str], excluded: bool | None
) -> list[dict[str, Any]]:
    out = []
    for raw in raws:
        record = json.loads(raw)
        fixed = corrected.get(record.get("sample_id", ""))
        record = json.loads(fixed) if fixed is not None else {**record, **UNCORRECTED}
        if excluded is None or record["excluded"] == excluded:
            out.append(record)
    return out


def _new_rows(
    ids: Sequence[str], prints: Sequence[str], stored: Mapping[str, str | None]
) -> tuple[list[int], int]:
    """The indices of the rows to store and the number of duplicates (a sample_id stored, or
    given before in the post, with the same fingerprint).

    Raises:
        SampleConflict: Naming every sample_id stored (or given) with another fingerprint.
    """
    seen: dict[str, str] = {}
    conflicts: list[str] = []
    new: list[int] = []
    duplicates = 0
    for i, (sid, fp) in enumerate(zip(ids, prints, strict=True)):
        known_print = stored.get(sid) or seen.get(sid)
        if known_print is None:
            seen[sid] = fp
            new.append(i)
        elif known_print == fp:
            duplicates += 1
        elif sid not in conflicts:
            conflicts.append(sid)
    if conflicts:
        raise SampleConflict(conflicts)
    return new, duplicates


def _records(
    rows: Sequence[Mapping[str, Any]],
    new: Sequence[int],
    ledger: Mapping[str, dict[str, Any]],
    pending: Sequence[dict[str, Any]],
) -> tuple[list[str], dict[str, str], list[list[str]]]:
    """Plan the new rows (indices `new` of `rows`): their records, the proposals they mark
    measured (id -> record) and every row's flags.

    A row naming a proposal (found in `ledger`) is flagged where it departs from it; a row naming
    none marks the first pending proposal at exactly its parameters (`matched_proposal_id`).
    """
    now = utcnow()
    updates: dict[str, str] = {}
    records: list[str] = []
    row_flags = [list(row.get("flags") or []) for row in rows]
    first_of: dict[str, str] = {}  # the first sample of a proposal in this post
    for i in new:
        row = rows[i]
        pid = row.get("proposal_id")
        target = ledger.get(pid) if pid else None
        if target is not None:
            earlier = target.get("sample_id") or first_of.get(target["id"])
            row_flags[i] += proposal_flags(target, row["parameters"], earlier)
        elif not pid:
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
        if row_flags[i] or "flags" in record:
            record["flags"] = row_flags[i]
        if target is not None:
            first_of.setdefault(target["id"], row["sample_id"])
            if target["status"] == PENDING and target["id"] not in updates:
                marked = {**target, "status": MEASURED, "sample_id": row["sample_id"]}
                updates[target["id"]] = dumps(marked)
                if not pid:
                    record["matched_proposal_id"] = target["id"]
        records.append(dumps(record))
    return records, updates, row_flags
