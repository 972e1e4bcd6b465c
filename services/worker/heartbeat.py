"""A worker heartbeat in Redis (for the intake's /readyz), from a timer thread: no beat needed."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

import redis
from celery import signals

from store import Store

log = logging.getLogger(__name__)

INTERVAL_S = 10.0

_state: dict[str, Any] = {}


def _beat(store: Store, name: str, stop: threading.Event) -> None:
    while True:
        try:
            store.heartbeat(name)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("heartbeat not written, Redis unavailable: %s", exc)
        if stop.wait(INTERVAL_S):
            return


@signals.worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    """Start beating once the worker consumes (in the main process, not in pool children)."""
    store = Store.from_url(sender.app.conf.broker_url)
    name = str(sender.hostname)
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(store, name, stop), name="kiln-heartbeat", daemon=True
    )
    _state.update(store=store, name=name, stop=stop, thread=thread)
    thread.start()


@signals.worker_shutdown.connect
def stop_heartbeat(**kwargs: Any) -> None:
    """Stop beating and withdraw this worker, so readiness drops at once."""
    if not _state:
        return
    _state["stop"].set()
    with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
        _state["store"].forget_worker(_state["name"])
