"""Prometheus metrics of the intake: its own requests, and what Redis holds, read at scrape time.

Request counts and latencies are prometheus-client metrics of this process. Under gunicorn,
PROMETHEUS_MULTIPROC_DIR (set by deploy/gunicorn.conf.py) makes every process write them to files
there, and a scrape sums the files of all processes, so it does not matter which process answers.
The gauges (campaigns, results, pending proposals, queue lengths, live workers) and the refit
durations the workers record live in Redis and are read by `StoreCollector` on each scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import redis
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from kiln_services.store import Store

#: Label of requests that matched no route (a 404 or 405): raw paths would be unbounded labels.
UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Up to the 60 s a long-poll may wait.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# Created once per process: prometheus-client keeps one value per metric and label set.
REQUESTS = Counter(
    "kiln_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=None,
)
LATENCY = Histogram(
    "kiln_http_request_duration_seconds",
    "Time to answer an HTTP request (a long-poll counts its wait), by method, route and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)


def observe(method: str, route: str | None, status: int, seconds: float) -> None:
    """Count one answered request."""
    labels = (method if method in METHODS else "OTHER", route or UNMATCHED, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


class StoreCollector(Collector):
    """The gauges and the workers' refit histogram, read from Redis on each scrape."""

    def __init__(self, store: Store, queues: Sequence[str], worker_max_age_s: int) -> None:
        self.store = store
        self.queues = list(queues)
        self.worker_max_age_s = worker_max_age_s

    def collect(self) -> Iterator[Metric]:
        try:
            gauges = self.store.metrics.gauges(self.queues)
            workers = self.store.workers.live(self.worker_max_age_s)
            refits = self.store.metrics.refit_histogram()
        except (redis.ConnectionError, redis.TimeoutError):
            # The request metrics are still worth a scrape; this says why the rest is missing.
            yield GaugeMetricFamily("kiln_store_up", "1 if Redis answered this scrape.", 0)
            return
        yield GaugeMetricFamily("kiln_store_up", "1 if Redis answered this scrape.", 1)
        yield GaugeMetricFamily("kiln_campaigns", "Campaigns stored.", gauges["campaigns"])
        yield GaugeMetricFamily("kiln_results", "Results stored, all campaigns.", gauges["results"])
        yield GaugeMetricFamily(
            "kiln_proposals_pending",
            "Proposals issued and not yet measured.",
            gauges["proposals_pending"],
        )
        queue = GaugeMetricFamily(
            "kiln_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        for name, length in gauges["queues"].items():
            queue.add_metric([name], length)
        yield queue
        yield GaugeMetricFamily(
            "kiln_workers_live", "Workers with a fresh heartbeat.", len(workers)
        )
        yield HistogramMetricFamily(
            "kiln_refit_duration_seconds",
            "Time a worker took to refit a campaign's model (all workers).",
            buckets=[(floatToGoString(bound), n) for bound, n in refits["buckets"]]
            + [("+Inf", refits["count"])],
            sum_value=refits["sum"],
        )


def registry(store: Store, queues: Sequence[str], worker_max_age_s: int) -> CollectorRegistry:
    """What one scrape shows: the request metrics (of all processes) and the store's."""
    scrape = CollectorRegistry()
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        MultiProcessCollector(scrape, path=path)
    else:
        scrape.register(REQUESTS)
        scrape.register(LATENCY)
    scrape.register(StoreCollector(store, queues, worker_max_age_s))
    return scrape


def render(scrape: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The exposition in the format the scraper asks for (Prometheus text unless OpenMetrics)."""
    encode, content_type = choose_encoder(accept or "")
    return encode(scrape), content_type
