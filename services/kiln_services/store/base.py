"""What every part of the store shares: the Redis client, JSON encoding, the clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

# Optimistic (WATCH) transactions retry this often before giving up on contention.
WATCH_RETRIES = 50


def utcnow() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    """Encode a value as compact JSON (no NaN: Redis holds only plain, portable JSON)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class StoreBase:
    """The Redis client (created with ``decode_responses=True``) that every store part uses."""

    redis: redis.Redis
