"""What every part of the store shares: JSON encoding, the clock, the WATCH retry loop."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis

# Optimistic (WATCH) transactions retry this often before giving up on contention.
WATCH_RETRIES = 50

T = TypeVar("T")


def utcnow() -> str:
    """Return the current UTC time as an ISO 8601 string."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def dumps(value: Any) -> str:
    """Encode a value as compact JSON (no NaN: Redis holds only plain, portable JSON)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def watched(
    client: redis.Redis,
    keys: Sequence[str],
    body: Callable[[redis.client.Pipeline], T],
    failure: str,
) -> T:
    """Run ``body(pipe)`` with `keys` WATCHed, again whenever a concurrent write interrupts it.

    `body` reads through the pipe, then either unwatches and returns, or calls ``pipe.multi()``,
    queues its writes and executes them. Unlike redis-py's ``Redis.transaction`` the retries are
    bounded: after `WATCH_RETRIES` the call raises ``RuntimeError(f"{failure}: too much
    contention")`` instead of spinning.
    """
    with client.pipeline(transaction=True) as pipe:
        for _ in range(WATCH_RETRIES):
            try:
                if keys:
                    pipe.watch(*keys)
                return body(pipe)
            except redis.WatchError:
                continue
    raise RuntimeError(f"{failure}: too much contention")
