"""Liveness, readiness and the OpenAPI document: public, outside the authenticated API."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify, request

from kiln import task_names
from kiln_services.intake import metrics as kiln_metrics
from kiln_services.intake.errors import problem
from kiln_services.intake.extensions import get_store

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
    """Expose the request metrics of every intake process and the store's gauges to Prometheus."""
    scrape = kiln_metrics.registry(
        get_store(),
        [task_names.PROPOSALS_QUEUE, task_names.BENCHMARKS_QUEUE],
        int(current_app.config["KILN_WORKER_MAX_AGE_S"]),
    )
    body, content_type = kiln_metrics.render(scrape, request.headers.get("Accept"))
    return Response(body, content_type=content_type)
