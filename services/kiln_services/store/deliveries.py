"""Deliveries: which Celery messages each worker holds, so a dead worker's can be redelivered.

Celery's Redis transport keeps a message it delivered (with late acknowledgement) in its
``unacked`` hash until the task is acknowledged, and only puts it back in the queue once the
broker's visibility timeout has passed. A worker records here every delivery tag it receives;
when it dies (SIGKILL, OOM, power), whoever notices puts its messages back at once (see
`worker.recovery`), instead of an hour later.
"""

from __future__ import annotations

from collections.abc import Iterable

from kiln_services.store.base import StoreBase
from kiln_services.store.keys import Keys


class DeliveriesMixin(StoreBase):
    """Per-worker sets of delivery tags, and the workers whose heartbeat went stale."""

    def track_delivery(self, worker: str, tag: str) -> None:
        """Record that `worker` received the message `tag` (not acknowledged yet)."""
        self.redis.sadd(Keys.worker_deliveries(worker), tag)

    def deliveries_of(self, worker: str) -> set[str]:
        """The delivery tags recorded for a worker."""
        return set(self.redis.smembers(Keys.worker_deliveries(worker)))

    def forget_deliveries(self, worker: str, tags: Iterable[str]) -> None:
        """Drop tags from a worker's set (acknowledged, or put back in their queue)."""
        tags = list(tags)
        if tags:
            self.redis.srem(Keys.worker_deliveries(worker), *tags)

    def stale_workers(self, dead_after_s: float) -> list[str]:
        """Workers whose last heartbeat is older than `dead_after_s` (on Redis's clock)."""
        seconds, _ = self.redis.time()
        return list(self.redis.zrangebyscore(Keys.workers, "-inf", f"({seconds - dead_after_s}"))

    def bury_worker(self, worker: str) -> None:
        """Forget a dead worker once its deliveries and locks are dealt with."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(Keys.workers, worker)
            pipe.delete(Keys.worker_deliveries(worker))
            pipe.execute()
