"""Idempotency keys: the first response to a POST, kept so a retry replays it.

kiln:idempotency:{scoped}   STR  {"fingerprint", "state": "in_progress"|"done", "response"}
                                 (TTL: a short lock while in progress, then a day)

`scoped` is a digest the intake derives from the token and the client's key, so two tokens never
share a key; `fingerprint` identifies the request (method, path, body).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import redis

from kiln_services.store.base import dumps
from kiln_services.store.keys import Keys

Begin = Literal["new", "replay", "mismatch", "in_progress"]


def idempotency_key(scoped: str) -> str:
    """The Redis key of one idempotency record."""
    return Keys.idempotency(scoped)


class Idempotency:
    """Claim, complete and release idempotency keys."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def begin(
        self, scoped: str, fingerprint: str, lock_s: int
    ) -> tuple[Begin, dict[str, Any] | None]:
        """Claim a key for a request, or say what happened to it before.

        Returns ("new", None) when this call claimed it (the caller runs the request), ("replay",
        saved response) when a request with the same fingerprint completed, "mismatch" when the
        key was used for a different request, "in_progress" when that same request still runs.
        """
        key = idempotency_key(scoped)
        claim = dumps({"fingerprint": fingerprint, "state": "in_progress"})
        for _ in range(3):
            if self.redis.set(key, claim, nx=True, ex=max(1, lock_s)):
                return "new", None
            raw = self.redis.get(key)
            if raw is None:
                continue  # expired in between: claim again
            record = json.loads(raw)
            if record.get("fingerprint") != fingerprint:
                return "mismatch", None
            if record.get("state") != "done":
                return "in_progress", None
            return "replay", record["response"]
        return "in_progress", None

    def save(self, scoped: str, fingerprint: str, response: dict[str, Any], ttl_s: int) -> None:
        """Keep a completed request's response for replays."""
        record = {"fingerprint": fingerprint, "state": "done", "response": response}
        self.redis.set(idempotency_key(scoped), dumps(record), ex=max(1, ttl_s))

    def release(self, scoped: str, fingerprint: str) -> None:
        """Free a key whose request did not succeed, so a corrected retry may reuse it."""
        key = idempotency_key(scoped)
        raw = self.redis.get(key)
        if raw is not None and json.loads(raw).get("fingerprint") == fingerprint:
            self.redis.delete(key)
