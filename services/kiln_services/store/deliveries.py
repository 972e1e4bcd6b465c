"""Deliveries: which Celery messages each worker holds, so a dead worker's can be redelivered.

Celery's Redis transport keeps a message it delivered (with late acknowledgement) in its
``unacked`` hash until the task is acknowledged, and only puts it back in the queue once the
broker's visibility timeout has passed. A worker records here every delivery tag it receives;
when it dies (SIGKILL, OOM, power), whoever notices puts its messages back at once (see
`worker.recovery`), instead of an hour later.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from kiln_services.store.keys import Keys


class Deliveries:
    """Per-worker sets of delivery tags."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def track(self, worker: str, tag: str) -> None:
        """Record that `worker` received the message `tag` (not acknowledged yet)."""
        self.redis.sadd(Keys.worker_deliveries(worker), tag)

    def of(self, worker: str) -> set[str]:
        """The delivery tags recorded for a worker."""
        return set(self.redis.smembers(Keys.worker_deliveries(worker)))

    def forget(self, worker: str, tags: Iterable[str]) -> None:
        """Drop tags from a worker's set (acknowledged, or put back in their queue)."""
        tags = list(tags)
        if tags:
            self.redis.srem(Keys.worker_deliveries(worker), *tags)
