"""Refit timings, written to Redis so the intake's /metrics shows those of every worker process."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis

from kiln_services.store import Store

log = logging.getLogger(__name__)


def timed_refit(store: Store, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a refit and count its duration, unless it was skipped (another refit held the lock)."""
    started = time.perf_counter()
    outcome = run()
    if not outcome.get("skipped"):
        record_refit(store, time.perf_counter() - started)
    return outcome


def record_refit(store: Store, seconds: float) -> None:
    """Add a refit's duration to the shared histogram; a Redis blip loses the sample, not the task."""
    try:
        store.metrics.record_refit(seconds)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        log.warning("refit duration not recorded, Redis unavailable: %s", exc)
