"""A worker heartbeat in Redis (for the intake's /readyz), from a timer thread: no beat needed.

The same thread looks after dead workers (see `worker.recovery`): once this worker has itself
beaten for KILN_WORKER_DEAD_AFTER_S without a gap (so a Redis outage, during which nobody could
beat, does not make every other worker look dead), it recovers the workers whose heartbeat is
older than that, and forgets the delivery tags of its own acknowledged messages.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import redis
from celery import Celery, signals

from kiln_services.store import Store
from kiln_services.worker import recovery, settings

log = logging.getLogger(__name__)

_state: dict[str, Any] = {}


def _beat(app: Celery, store: Store, name: str, stop: threading.Event) -> None:
    healthy_since: float | None = None
    every = settings.of(app)
    while True:
        try:
            store.workers.heartbeat(name)
            now = time.monotonic()
            healthy_since = now if healthy_since is None else healthy_since
            if now - healthy_since >= every.dead_after_s:
                recovery.reap_dead_workers(app, store, name)
            recovery.prune(app, store, name)
        except recovery.UNAVAILABLE as exc:
            healthy_since = None
            log.warning("heartbeat not written, Redis unavailable: %s", exc)
        except Exception:  # the thread must outlive any surprise; the next beat tries again
            log.exception("heartbeat or recovery failed")
        if stop.wait(every.heartbeat_s):
            return


@signals.worker_ready.connect
def start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    """Start beating once the worker consumes (in the main process, not in pool children)."""
    store = Store.from_url(sender.app.conf.broker_url)
    name = str(sender.hostname)
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(sender.app, store, name, stop), name="kiln-heartbeat", daemon=True
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
        _state["store"].workers.forget(_state["name"])
