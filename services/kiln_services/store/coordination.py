"""Coordination: the refit coalescing flag and the per-campaign refit and batch locks.

A lock's value is ``"{owner} {random token}"``, the owner being the Celery worker (its hostname)
whose task holds it. A worker that is SIGKILLed cannot release its locks; whoever finds it dead
(the worker itself when it restarts, or a live one once its heartbeat is stale) releases them at
once with `Locks.release_all_of`, so its redelivered task does not wait out the lock's time-to-live.
"""

from __future__ import annotations

import secrets

import redis

from kiln_services.store.base import utcnow
from kiln_services.store.keys import Keys

RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

# Delete every given lock whose value starts with the owner's prefix; return how many went.
RELEASE_OWNED = """
local released = 0
for _, key in ipairs(KEYS) do
    local value = redis.call('get', key)
    if value and string.sub(value, 1, string.len(ARGV[1])) == ARGV[1] then
        redis.call('del', key)
        released = released + 1
    end
end
return released
"""


def lock_token(owner: str) -> str:
    """A fresh lock value naming its owner (spaces cannot occur in a Celery hostname)."""
    return f"{owner} {secrets.token_hex(16)}"


class Locks:
    """Flags and locks that keep one refit and one batch computation per campaign."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._release_script = client.register_script(RELEASE_LOCK)
        self._release_owned_script = client.register_script(RELEASE_OWNED)

    def mark_refit_queued(self, cid: str, ttl_s: int = 300) -> bool:
        """Set the campaign's 'refit queued' flag; True when it was not set (caller enqueues)."""
        return bool(self.redis.set(Keys.refit_queued(cid), utcnow(), nx=True, ex=ttl_s))

    def clear_refit_queued(self, cid: str) -> None:
        """Clear the flag as a refit starts, so data arriving from now on queues another."""
        self.redis.delete(Keys.refit_queued(cid))

    def _acquire(self, key: str, ttl_ms: int, owner: str) -> str | None:
        token = lock_token(owner)
        return token if self.redis.set(key, token, nx=True, px=ttl_ms) else None

    def _release(self, key: str, token: str) -> bool:
        # Compare-and-delete in Lua: only the token that still holds the lock releases it.
        return bool(self._release_script(keys=[key], args=[token]))

    def acquire_refit(self, cid: str, ttl_ms: int = 600_000, owner: str = "") -> str | None:
        """Take the per-campaign refit lock; return its token, or None when someone holds it."""
        return self._acquire(Keys.refit_lock(cid), ttl_ms, owner)

    def release_refit(self, cid: str, token: str) -> bool:
        """Release the refit lock only if this token still holds it."""
        return self._release(Keys.refit_lock(cid), token)

    def acquire_propose(self, cid: str, ttl_ms: int = 300_000, owner: str = "") -> str | None:
        """Take the per-campaign batch lock; return its token, or None when someone holds it.

        Batches of one campaign are computed one at a time, so each treats the proposals of
        the one before as pending: two labs asking at once never get the same experiment.
        """
        return self._acquire(Keys.propose_lock(cid), ttl_ms, owner)

    def release_propose(self, cid: str, token: str) -> bool:
        """Release the batch lock only if this token still holds it."""
        return self._release(Keys.propose_lock(cid), token)

    def owners(self, cid: str) -> dict[str, str | None]:
        """Who holds the campaign's refit and batch locks: {"refit": owner, "propose": owner}.

        An owner is a worker's name ("" for an anonymous holder), None for a free lock.
        """
        refit, batch = self.redis.mget([Keys.refit_lock(cid), Keys.propose_lock(cid)])
        return {
            "refit": None if refit is None else refit.rpartition(" ")[0],
            "propose": None if batch is None else batch.rpartition(" ")[0],
        }

    def release_all_of(self, owner: str) -> int:
        """Release every refit and batch lock held by a dead worker; return how many."""
        if not owner:
            return 0
        cids = self.redis.zrange(Keys.campaigns, 0, -1)
        keys = [key for cid in cids for key in (Keys.refit_lock(cid), Keys.propose_lock(cid))]
        if not keys:
            return 0
        return int(self._release_owned_script(keys=keys, args=[f"{owner} "]))
