"""Tokens: API tokens stored by their sha256 digest, and the bootstrap admin token.

A record is {"id", "digest", "scope", "name", "campaign_id", "created_at"}; the public `id` names
a token for listing and revoking without revealing anything about the secret.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from kiln_services.store.base import StoreBase, dumps, utcnow
from kiln_services.store.keys import Keys


def _with_id(record: dict[str, Any]) -> dict[str, Any]:
    # Records written before tokens had ids are named by a prefix of their digest.
    record.setdefault("id", record["digest"][:16])
    record.setdefault("campaign_id", None)
    return record


class TokensMixin(StoreBase):
    """Token reads and writes."""

    def add_token(
        self, digest: str, scope: str, name: str, *, campaign_id: str | None = None
    ) -> dict[str, Any]:
        """Store a token's sha256 digest with its scope (and the one campaign it may touch)."""
        record = {
            "id": secrets.token_hex(8),
            "digest": digest,
            "scope": scope,
            "name": name,
            "campaign_id": campaign_id,
            "created_at": utcnow(),
            "created_ns": time.time_ns(),  # orders tokens made within one millisecond
        }
        self.redis.hset(Keys.tokens, digest, dumps(record))
        return record

    def get_token(self, digest: str) -> dict[str, Any] | None:
        """Return a token record by its digest, or None."""
        raw = self.redis.hget(Keys.tokens, digest)
        return None if raw is None else _with_id(json.loads(raw))

    def list_tokens(self) -> list[dict[str, Any]]:
        """Every token record, oldest first."""
        records = [_with_id(json.loads(raw)) for raw in self.redis.hvals(Keys.tokens)]
        return sorted(
            records, key=lambda r: (r.get("created_at") or "", r.get("created_ns") or 0, r["id"])
        )

    def revoke_token(self, token_id: str) -> bool:
        """Delete the token with this public id; True when one was deleted."""
        for record in self.list_tokens():
            if record["id"] == token_id:
                return bool(self.redis.hdel(Keys.tokens, record["digest"]))
        return False

    def bootstrap_admin(self, digest: str) -> bool:
        """Store the first generated admin token once across processes; True if this call did."""
        if not self.redis.set(Keys.bootstrap_admin, digest, nx=True):
            return False
        self.add_token(digest, "admin", "bootstrap")
        return True
