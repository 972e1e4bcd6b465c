"""Workers: heartbeats and liveness (on Redis's clock), and forgetting a dead worker."""

from __future__ import annotations

import redis

from kiln_services.store.keys import Keys


class Workers:
    """Worker heartbeats: who is alive, who went stale."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def heartbeat(self, worker: str) -> None:
        """Record that a worker is alive, on Redis's clock (no skew between hosts)."""
        seconds, _ = self.redis.time()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(Keys.workers, {worker: seconds})
            # Workers that vanished without a goodbye are forgotten after a day.
            pipe.zremrangebyscore(Keys.workers, "-inf", seconds - 86_400)
            pipe.execute()

    def forget(self, worker: str) -> None:
        """Remove a worker that shuts down cleanly."""
        self.redis.zrem(Keys.workers, worker)

    def live(self, max_age_s: int = 30) -> list[str]:
        """Return the workers whose heartbeat is at most max_age_s old."""
        seconds, _ = self.redis.time()
        return list(self.redis.zrangebyscore(Keys.workers, seconds - max_age_s, "+inf"))

    def stale(self, dead_after_s: float) -> list[str]:
        """Workers whose last heartbeat is older than `dead_after_s` (on Redis's clock)."""
        seconds, _ = self.redis.time()
        return list(self.redis.zrangebyscore(Keys.workers, "-inf", f"({seconds - dead_after_s}"))

    def bury(self, worker: str) -> None:
        """Forget a dead worker (and its delivery tags) once its deliveries and locks are dealt with."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(Keys.workers, worker)
            pipe.delete(Keys.worker_deliveries(worker))
            pipe.execute()
