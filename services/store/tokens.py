"""Tokens: API tokens stored by their sha256 digest, and the bootstrap admin token."""

from __future__ import annotations

import json
from typing import Any

from store.base import StoreBase, dumps, utcnow
from store.keys import Keys


class TokensMixin(StoreBase):
    """Token reads and writes."""

    def add_token(self, digest: str, scope: str, name: str) -> dict[str, Any]:
        """Store a token's sha256 digest with its scope."""
        record = {"digest": digest, "scope": scope, "name": name, "created_at": utcnow()}
        self.redis.hset(Keys.tokens, digest, dumps(record))
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
