"""Coordination: the refit coalescing flag and the per-campaign refit and batch locks."""

from __future__ import annotations

import secrets
from typing import Any

from store.base import StoreBase, utcnow
from store.keys import Keys

RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class CoordinationMixin(StoreBase):
    """Flags and locks that keep one refit per campaign."""

    _release_lock: Any  # the registered RELEASE_LOCK script

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

    def acquire_propose_lock(self, cid: str, ttl_ms: int = 300_000) -> str | None:
        """Take the per-campaign batch lock; return its token, or None when someone holds it.

        Batches of one campaign are computed one at a time, so each treats the proposals of
        the one before as pending: two labs asking at once never get the same experiment.
        """
        token = secrets.token_hex(16)
        if self.redis.set(Keys.propose_lock(cid), token, nx=True, px=ttl_ms):
            return token
        return None

    def release_propose_lock(self, cid: str, token: str) -> bool:
        """Release the batch lock only if this token still holds it."""
        return bool(self._release_lock(keys=[Keys.propose_lock(cid)], args=[token]))
