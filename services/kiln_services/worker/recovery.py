"""Redeliver a dead worker's tasks at once, not after the broker's visibility timeout.

With late acknowledgement, Celery's Redis transport keeps every message a worker received in its
``unacked`` hash until the task is acknowledged. If only a pool child dies, the worker's main
process requeues the task itself (``task_reject_on_worker_lost``). If the whole worker dies
(SIGKILL to its process group, the OOM killer, a power cut), nothing does until the message is
older than ``visibility_timeout`` (KILN_VISIBILITY_TIMEOUT_S, an hour by default): a live worker
then puts it back. Labs would wait an hour for their batch, so Kiln does better:

- every worker records the delivery tag of each message it receives (`store.deliveries.track`);
- when a worker (re)connects to the broker, it puts back the messages its previous incarnation
  (same hostname) or its lost connection still held, and releases the locks they held
  (`Recovery`, a consumer bootstep, runs before the worker consumes anything);
- each worker's heartbeat thread looks for workers whose heartbeat is older than
  KILN_WORKER_DEAD_AFTER_S (60 s) and does the same for them (`reap_dead_workers`).

Tasks are idempotent, so the rare false alarm (a worker that only stalled past the deadline)
costs a repeated computation, never a duplicate batch or a lost result. The visibility timeout
stays as the last resort for what no record names.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
from celery import Celery, bootsteps, signals
from kombu.exceptions import OperationalError

from kiln_services.store import Store
from kiln_services.worker import settings

log = logging.getLogger(__name__)

#: Errors of an unavailable broker/store: recovery is retried at the next heartbeat.
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, OperationalError)

_stores: dict[str, Store] = {}


def store_for(app: Celery) -> Store:
    """One store per broker URL in this process (the worker's main process)."""
    url = str(app.conf.broker_url)
    if url not in _stores:
        _stores[url] = Store.from_url(url)
    return _stores[url]


#: What this module uses of kombu's Redis transport that is not its public API: the hash of
#: unacknowledged messages (``Channel.unacked_key``) and its one-transaction restore of a tag
#: (``QoS.restore_by_tag``). `check_transport` fails loudly when an upgrade removes either.
KOMBU_INTERNALS = (("Channel", "unacked_key"), ("QoS", "restore_by_tag"))


def check_transport() -> None:
    """Raise RuntimeError naming what is missing when kombu's Redis transport lacks an internal
    this recovery relies on (the worker then refuses to start rather than lose tasks for an hour).
    """
    from kombu.transport import redis as transport

    missing = [
        f"kombu.transport.redis.{cls}.{attr}"
        for cls, attr in KOMBU_INTERNALS
        if not hasattr(getattr(transport, cls, None), attr)
    ]
    if missing:
        raise RuntimeError(
            "dead-worker recovery relies on kombu internals that this kombu lacks: "
            + ", ".join(missing)
            + "; pin kombu to a tested version (see pyproject.toml) or update worker/recovery.py"
        )


def put_back(app: Celery, tags: Iterable[str]) -> int:
    """Return unacknowledged messages to their queues (front of the line); how many were there.

    kombu's own restore is used: it takes the message out of ``unacked`` and pushes it back in
    one transaction, so two workers restoring the same tag deliver it once.
    """
    restored = 0
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        for tag in tags:
            if channel.client.hexists(channel.unacked_key, tag):
                channel.qos.restore_by_tag(tag)
                restored += 1
    return restored


def settled(app: Celery, tags: Iterable[str]) -> list[str]:
    """The tags among `tags` that are no longer unacknowledged (acked, or put back already)."""
    tags = list(tags)
    if not tags:
        return []
    with app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        held = channel.client.hmget(channel.unacked_key, tags)
    return [tag for tag, raw in zip(tags, held, strict=True) if raw is None]


def recover(app: Celery, store: Store, worker: str) -> tuple[int, int]:
    """Put back what `worker` held and release its locks: (messages, locks)."""
    tags = store.deliveries.of(worker)
    restored = put_back(app, tags)
    store.deliveries.forget(worker, tags)
    released = store.locks.release_all_of(worker)
    return restored, released


def reap_dead_workers(app: Celery, store: Store, me: str) -> list[str]:
    """Recover every other worker whose heartbeat went stale, then forget it; their names."""
    reaped = []
    dead_after_s = settings.of(app).dead_after_s
    for worker in store.workers.stale(dead_after_s):
        if worker == me:
            continue
        restored, released = recover(app, store, worker)
        store.workers.bury(worker)
        reaped.append(worker)
        log.warning(
            "worker %s sent no heartbeat for %.0f s: %d task(s) put back in their queue, "
            "%d lock(s) released",
            worker,
            dead_after_s,
            restored,
            released,
        )
    return reaped


def prune(app: Celery, store: Store, me: str) -> None:
    """Forget the tags of this worker's messages that were acknowledged since."""
    store.deliveries.forget(me, settled(app, store.deliveries.of(me)))


class Recovery(bootsteps.StartStopStep):
    """On every broker (re)connection, before consuming: put back what this worker's previous
    incarnation or lost connection held (those messages can no longer be acknowledged)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c: Any) -> None:
        check_transport()
        store = store_for(c.app)
        restored, released = recover(c.app, store, str(c.hostname))
        if restored or released:
            log.warning(
                "%s (re)connected: %d unacknowledged task(s) of its earlier connection put back "
                "in their queue, %d lock(s) released",
                c.hostname,
                restored,
                released,
            )


@signals.task_received.connect
def track_delivery(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    """Record the delivery tag of each message this worker receives (in its main process)."""
    message = getattr(request, "message", None)
    tag = getattr(message, "delivery_tag", None)
    if sender is None or tag is None:
        return
    try:
        store_for(sender.app).deliveries.track(str(sender.hostname), str(tag))
    except UNAVAILABLE as exc:  # the visibility timeout still covers this message
        log.warning("delivery %s not recorded, Redis unavailable: %s", tag, exc)
