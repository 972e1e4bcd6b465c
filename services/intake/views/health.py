"""Liveness, readiness and the OpenAPI document: public, outside the authenticated API."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify

from intake.errors import problem
from intake.extensions import get_store
from kiln import task_names

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@bp.get("/api/v1/healthz")
def healthz() -> Any:
    """Answer while the process serves requests (no Redis involved)."""
    return jsonify(status="ok")


@bp.get("/readyz")
@bp.get("/api/v1/readyz")
def readyz() -> Any:
    """Answer 200 when Redis responds and a worker's heartbeat is fresh, else 503."""
    retry = {"Retry-After": str(current_app.config["KILN_RETRY_AFTER_S"])}
    store = get_store()
    try:
        store.ping()
        workers = store.live_workers(int(current_app.config["KILN_WORKER_MAX_AGE_S"]))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return problem(503, "Service Unavailable", f"Redis does not answer: {exc}",
                       kind="not-ready", headers=retry)  # fmt: skip
    if not workers:
        return problem(503, "Service Unavailable", "no worker heartbeat in the last "
                       f"{current_app.config['KILN_WORKER_MAX_AGE_S']} s",
                       kind="not-ready", headers=retry)  # fmt: skip
    return jsonify(status="ready", redis="ok", workers=workers)


@bp.get("/api/v1/openapi.json")
def openapi() -> Any:
    """Serve the generated OpenAPI document under the API prefix too."""
    return jsonify(current_app.extensions["kiln_api"].spec.to_dict())


@bp.get("/metrics")
@bp.get("/api/v1/metrics")
def metrics() -> Any:
    """Expose aggregate gauges in the Prometheus text format (no per-campaign labels)."""
    store = get_store()
    queues = [task_names.PROPOSALS_QUEUE, task_names.BENCHMARKS_QUEUE]
    gauges = store.gauges(queues)
    workers = store.live_workers(int(current_app.config["KILN_WORKER_MAX_AGE_S"]))
    lines = [
        "# HELP kiln_campaigns Campaigns stored.",
        "# TYPE kiln_campaigns gauge",
        f"kiln_campaigns {gauges['campaigns']}",
        "# HELP kiln_results Results stored, all campaigns.",
        "# TYPE kiln_results gauge",
        f"kiln_results {gauges['results']}",
        "# HELP kiln_proposals_pending Proposals issued and not yet measured.",
        "# TYPE kiln_proposals_pending gauge",
        f"kiln_proposals_pending {gauges['proposals_pending']}",
        "# HELP kiln_queue_length Tasks waiting in a Celery queue.",
        "# TYPE kiln_queue_length gauge",
        *[f'kiln_queue_length{{queue="{q}"}} {n}' for q, n in gauges["queues"].items()],
        "# HELP kiln_workers_live Workers with a fresh heartbeat.",
        "# TYPE kiln_workers_live gauge",
        f"kiln_workers_live {len(workers)}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
