"""Liveness, readiness, metrics and the OpenAPI document: public, outside the authenticated API.

Each is served at its root path (documented) and again under /api/v1 (an alias, not documented).
"""

from __future__ import annotations

from typing import Any

import flask
import redis
from flask import Response, current_app, jsonify, request

from kiln_services import task_names
from kiln_services.intake import metrics as kiln_metrics
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import problem
from kiln_services.intake.extensions import get_store
from kiln_services.intake.health.schemas import HealthOut

bp = Blueprint("health", __name__, description="Liveness, readiness and metrics (no token)")
PUBLIC = {"security": []}


@bp.route("/healthz")
@bp.response(200, HealthOut, description="Alive")
@bp.doc(operationId="healthz", **PUBLIC)
def healthz() -> Any:
    """Liveness: the process serves requests (no Redis involved)."""
    return jsonify(status="ok")


@bp.route("/readyz")
@bp.response(200, HealthOut, description="Ready")
@bp.alt_response(503, description="Not ready (Redis or no live worker)")
@bp.doc(operationId="readyz", **PUBLIC)
def readyz() -> Any:
    """Readiness: Redis answers and a worker's heartbeat is fresh (else 503)."""
    retry = {"Retry-After": str(current_app.config["KILN_RETRY_AFTER_S"])}
    store = get_store()
    try:
        store.ping()
        workers = store.workers.live(int(current_app.config["KILN_WORKER_MAX_AGE_S"]))
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return problem(503, "Service Unavailable", f"Redis does not answer: {exc}",
                       kind="not-ready", headers=retry)  # fmt: skip
    if not workers:
        return problem(503, "Service Unavailable", "no worker heartbeat in the last "
                       f"{current_app.config['KILN_WORKER_MAX_AGE_S']} s",
                       kind="not-ready", headers=retry)  # fmt: skip
    return jsonify(status="ready", redis="ok", workers=workers)


def openapi() -> Any:
    """Serve the generated OpenAPI document under the API prefix too."""
    return jsonify(current_app.extensions["kiln_api"].spec.to_dict())


@bp.route("/metrics")
@bp.response(200, {"type": "string"}, content_type="text/plain", description="Gauges")
@bp.alt_response(503, description="Redis does not answer; retry after Retry-After seconds")
@bp.doc(operationId="metrics", **PUBLIC)
def metrics() -> Any:
    """Prometheus: requests, refit durations, results, pending proposals, queues."""
    scrape = kiln_metrics.registry(
        get_store(),
        [task_names.PROPOSALS_QUEUE, task_names.BENCHMARKS_QUEUE],
        int(current_app.config["KILN_WORKER_MAX_AGE_S"]),
    )
    body, content_type = kiln_metrics.render(scrape, request.headers.get("Accept"))
    return Response(body, content_type=content_type)


# The aliases under /api/v1, added with Flask's own add_url_rule: flask-smorest documents only the
# first rule of an endpoint, and the document's path for each of these is the root one.
for _rule, _view in (
    ("/api/v1/healthz", healthz),
    ("/api/v1/readyz", readyz),
    ("/api/v1/metrics", metrics),
    ("/api/v1/openapi.json", openapi),
):
    flask.Blueprint.add_url_rule(bp, _rule, view_func=_view)
