"""Metrics: the aggregate gauges of /metrics and the refit-duration histogram every worker feeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from kiln_services.store.keys import Keys

#: Upper bounds (s) of the refit-duration histogram: a small campaign fits in well under a
#: second, a large one with a feasibility model in tens of seconds.
REFIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    """Gauges read across campaigns and queues; the shared refit histogram."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def gauges(self, queues: Sequence[str]) -> dict[str, Any]:
        """Aggregate numbers for /metrics: campaigns, results, pending proposals, queue lengths."""
        ids = self.redis.zrange(Keys.campaigns, 0, -1)
        with self.redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.llen(Keys.results(cid))
                pipe.scard(Keys.pending(cid))
            for queue in queues:
                pipe.llen(queue)
            values = pipe.execute()
        per_campaign, lengths = values[: 2 * len(ids)], values[2 * len(ids) :]
        return {
            "campaigns": len(ids),
            "results": sum(per_campaign[0::2]),
            "proposals_pending": sum(per_campaign[1::2]),
            "queues": dict(zip(queues, lengths, strict=True)),
        }

    def record_refit(self, seconds: float) -> None:
        """Count one refit that took `seconds` (any worker, any host) in the shared histogram."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(Keys.refit_seconds, "count", 1)
            pipe.hincrbyfloat(Keys.refit_seconds, "sum", seconds)
            for bound in REFIT_BUCKETS:
                if seconds <= bound:
                    pipe.hincrby(Keys.refit_seconds, f"le:{bound}", 1)
            pipe.execute()

    def refit_histogram(self) -> dict[str, Any]:
        """The refit histogram: count, sum and cumulative bucket counts [(bound, n)...]."""
        raw = self.redis.hgetall(Keys.refit_seconds)
        return {
            "count": int(raw.get("count", 0)),
            "sum": float(raw.get("sum", 0.0)),
            "buckets": [(bound, int(raw.get(f"le:{bound}", 0))) for bound in REFIT_BUCKETS],
        }
