"""Tokens: API tokens stored by their sha256 digest, and the bootstrap admin token.

A record is {"id", "digest", "scope", "name", "campaign_id", "created_at"}; the public `id` names
a token for listing and revoking without revealing anything about the secret. The names of live
tokens are unique (`names.NameIndex`); a revoked token's name may be given again.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import redis

from kiln_services.store.base import dumps, utcnow, watched
from kiln_services.store.keys import Keys
from kiln_services.store.names import NameIndex


def _with_id(record: dict[str, Any]) -> dict[str, Any]:
    # Records written before tokens had ids are named by a prefix of their digest.
    record.setdefault("id", record["digest"][:16])
    record.setdefault("campaign_id", None)
    return record


def _oldest_first(raws: list[str]) -> list[dict[str, Any]]:
    records = [_with_id(json.loads(raw)) for raw in raws]
    return sorted(
        records, key=lambda r: (r.get("created_at") or "", r.get("created_ns") or 0, r["id"])
    )


def _holders(pipe: redis.client.Pipeline) -> list[tuple[str, str]]:
    return [(r["name"], r["id"]) for r in _oldest_first(pipe.hvals(Keys.tokens)) if r.get("name")]


class Tokens:
    """Token reads and writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self.names = NameIndex(Keys.token_names, "token", _holders, (Keys.tokens,))

    def add(
        self, digest: str, scope: str, name: str, *, campaign_id: str | None = None
    ) -> dict[str, Any]:
        """Store a token's sha256 digest with its scope (and the one campaign it may touch).

        Raises:
            NameTaken: When a live token has this name; nothing is stored.
        """
        record = {
            "id": secrets.token_hex(8),
            "digest": digest,
            "scope": scope,
            "name": name,
            "campaign_id": campaign_id,
            "created_at": utcnow(),
            "created_ns": time.time_ns(),  # orders tokens made within one millisecond
        }

        def write(pipe: redis.client.Pipeline) -> dict[str, Any]:
            sets, deletes = self.names.plan(pipe, claim=(name, record["id"]))
            pipe.multi()
            pipe.hset(Keys.tokens, digest, dumps(record))
            self.names.write(pipe, sets, deletes)
            pipe.execute()
            return record

        return watched(self.redis, [Keys.tokens], write, "token could not be stored")

    def get(self, digest: str) -> dict[str, Any] | None:
        """Return a token record by its digest, or None."""
        raw = self.redis.hget(Keys.tokens, digest)
        return None if raw is None else _with_id(json.loads(raw))

    def all(self) -> list[dict[str, Any]]:
        """Every token record, oldest first."""
        return _oldest_first(self.redis.hvals(Keys.tokens))

    def revoke(self, token_id: str) -> bool:
        """Delete the token with this public id (its name is free again); True when one was."""

        def write(pipe: redis.client.Pipeline) -> bool:
            records = _oldest_first(pipe.hvals(Keys.tokens))
            record = next((r for r in records if r["id"] == token_id), None)
            if record is None:
                pipe.unwatch()
                return False
            sets, deletes = self.names.plan(pipe, drop=(record.get("name") or "", token_id))
            pipe.multi()
            pipe.hdel(Keys.tokens, record["digest"])
            self.names.write(pipe, sets, deletes)
            pipe.execute()
            return True

        return watched(self.redis, [Keys.tokens], write, "token could not be revoked")

    def bootstrap_admin(self, digest: str) -> bool:
        """Store the first generated admin token once across processes; True if this call did."""
        if not self.redis.set(Keys.bootstrap_admin, digest, nx=True):
            return False
        self.add(digest, "admin", "bootstrap")
        return True
