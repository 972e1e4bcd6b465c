"""Revisions: corrections of stored results, an append-only log beside the (never rewritten) results.

A result's current value is its original entry with its revisions applied in order; the store
keeps it materialised (`Keys.corrected`) in the same step that appends the revision, so a reader
never sees one without the other and a crash never leaves half of a correction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from kiln_services.store.base import WATCH_RETRIES, dumps, utcnow
from kiln_services.store.errors import CampaignNotFound, ResultNotFound
from kiln_services.store.keys import Keys
from kiln_services.store.results import UNCORRECTED, Results

#: ``apply(current) -> (corrected, changes)``: the caller's rules (kiln.corrections.correct_result).
Apply = Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]

# Store one correction (planned by Revisions.correct) in one atomic step.
# KEYS: campaign, samples, results, revisions, corrected, revision_keys, refit_queued.
# ARGV: sample_id, the revision the plan read, the corrected result (JSON), the revision record
# (JSON), the scoped Idempotency-Key ('' for none), the refit flag's value and TTL (0: leave it).
# Returns {the new data_version, 1 if this call set the refit flag else 0}; the version is -1
# when the campaign is gone, -2 when the sample was corrected meanwhile (plan again), -3 when the
# key already stored a correction: nothing is written then.
CORRECT_RESULT = """
if redis.call('exists', KEYS[1]) == 0 then
    return {-1, 0}
end
if ARGV[5] ~= '' and redis.call('hexists', KEYS[6], ARGV[5]) == 1 then
    return {-3, 0}
end
local raw = redis.call('hget', KEYS[5], ARGV[1])
local revision = 0
if raw then
    revision = cjson.decode(raw)['revision']
end
if revision ~= tonumber(ARGV[2]) or redis.call('hexists', KEYS[2], ARGV[1]) == 0 then
    return {-2, 0}
end
redis.call('hset', KEYS[5], ARGV[1], ARGV[3])
redis.call('rpush', KEYS[4], ARGV[4])
if ARGV[5] ~= '' then
    redis.call('hset', KEYS[6], ARGV[5], ARGV[1] .. ' ' .. (revision + 1))
end
local marked = 0
if tonumber(ARGV[7]) > 0 and redis.call('set', KEYS[7], ARGV[6], 'NX', 'EX', ARGV[7]) then
    marked = 1
end
return {redis.call('llen', KEYS[3]) + redis.call('llen', KEYS[4]), marked}
"""
_CAMPAIGN_GONE = -1
_STALE = -2
_ALREADY_STORED = -3


@dataclass
class Correction:
    """What `Revisions.correct` did."""

    #: The revision stored (or, for a replayed Idempotency-Key, the one that key stored).
    revision: int
    data_version: int
    #: True when this call set the campaign's refit flag (the caller then enqueues the refit).
    refit_marked: bool = False
    #: True when the Idempotency-Key had stored this correction already: nothing was written.
    replayed: bool = False


class Revisions:
    """Corrections of results: write one atomically, read a result with its history."""

    def __init__(self, client: redis.Redis, results: Results) -> None:
        self.redis = client
        self.results = results
        self._correct_script = client.register_script(CORRECT_RESULT)

    def correct(
        self,
        cid: str,
        sample_id: str,
        apply: Apply,
        *,
        by: str,
        reason: str,
        key: str | None = None,
        mark_refit_ttl_s: int = 0,
    ) -> Correction:
        """Append one revision of a result: ``apply(current)`` says what it becomes and changes.

        `apply` runs on the current value read for this attempt (and again if another correction
        of the sample lands meanwhile); whatever it raises propagates and nothing is stored. With
        `key` (a scoped Idempotency-Key) a retry of a stored correction writes nothing and
        returns it (`replayed`). With `mark_refit_ttl_s`, storing also sets the refit flag.

        Raises:
            CampaignNotFound, ResultNotFound: Nothing is stored.
        """
        keys = [
            Keys.campaign(cid),
            Keys.samples(cid),
            Keys.results(cid),
            Keys.revisions(cid),
            Keys.corrected(cid),
            Keys.revision_keys(cid),
            Keys.refit_queued(cid),
        ]
        for _ in range(WATCH_RETRIES):
            done = self._stored_by(cid, key)
            if done is not None:
                return done
            current = self.current(cid, sample_id)
            corrected, changes = apply(current)
            revision = int(current["revision"]) + 1
            record = {"sample_id": sample_id, "revision": revision, "at": utcnow(), "by": by}
            record |= {"reason": reason, "changes": changes}
            corrected = {**corrected, "revision": revision}
            corrected.setdefault("excluded", False)
            args = [sample_id, revision - 1, dumps(corrected), dumps(record), key or ""]
            version, marked = (
                int(x)
                for x in self._correct_script(keys=keys, args=[*args, utcnow(), mark_refit_ttl_s])
            )
            if version == _CAMPAIGN_GONE:
                raise CampaignNotFound(cid)
            if version >= 0:
                return Correction(revision, version, refit_marked=bool(marked))
        raise RuntimeError("the correction could not be stored: too much contention, retry")

    def _stored_by(self, cid: str, key: str | None) -> Correction | None:
        stored = self.redis.hget(Keys.revision_keys(cid), key) if key else None
        if stored is None:
            return None
        revision = int(stored.rsplit(" ", 1)[1])
        return Correction(revision, self.results.data_version(cid), replayed=True)

    def current(self, cid: str, sample_id: str) -> dict[str, Any]:
        """A result's current value (fields `revision`, `excluded`).

        Raises:
            CampaignNotFound, ResultNotFound
        """
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(Keys.campaign(cid))
            pipe.hget(Keys.corrected(cid), sample_id)
            exists, fixed = pipe.execute()
        if not exists:
            raise CampaignNotFound(cid)
        if fixed is not None:
            return dict(json.loads(fixed))
        original = self.results.original(cid, sample_id)
        if original is None:
            raise ResultNotFound(sample_id)
        return {**original, **UNCORRECTED}

    def history(self, cid: str, sample_id: str) -> list[dict[str, Any]]:
        """A result's revisions, oldest first."""
        needle = dumps({"sample_id": sample_id})[1:-1]
        records = (
            json.loads(r) for r in self.redis.lrange(Keys.revisions(cid), 0, -1) if needle in r
        )
        return [r for r in records if r["sample_id"] == sample_id]

    def view(self, cid: str, sample_id: str) -> dict[str, Any]:
        """A result's current value with its `revisions`, oldest first."""
        return {**self.current(cid, sample_id), "revisions": self.history(cid, sample_id)}
