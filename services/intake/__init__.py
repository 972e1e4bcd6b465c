"""Kiln's HTTP intake: a Flask app factory serving the v1 API.

    gunicorn 'intake:create_app()' -c deploy/gunicorn.conf.py

Importing this package never loads scikit-learn: the intake validates and stores, workers fit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the intake app."""
    app = Flask(__name__)
    app.config.from_mapping(
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        KILN_ADMIN_TOKEN=os.environ.get("KILN_ADMIN_TOKEN") or None,
        # Bodies beyond this are refused with 413 before any parsing.
        MAX_CONTENT_LENGTH=int(os.environ.get("KILN_MAX_BODY_BYTES", 16 * 1024 * 1024)),
        KILN_MAX_RESULTS_PER_REQUEST=10_000,
        KILN_LONG_POLL_MAX_S=60.0,
        KILN_LONG_POLL_INTERVAL_S=0.2,
        KILN_WORKER_MAX_AGE_S=30,
        KILN_RETRY_AFTER_S=5,
        KILN_REFIT_FLAG_TTL_S=300,
        # Idempotency-Key: successful responses are replayed for a day; a request in flight
        # holds its key at most this long (then a retry may run it).
        KILN_IDEMPOTENCY_TTL_S=24 * 3600,
        KILN_IDEMPOTENCY_LOCK_S=60,
        API_TITLE="Kiln",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    from intake import auth, errors, idempotency, observability
    from intake.extensions import IdConverter, KilnApi, store_ext, tasks_ext

    # First: the request id, clock and access line wrap every other hook.
    observability.init_app(app)

    # Ids are never "latest": /proposals/latest is not also a proposal's URL (Allow, 405).
    app.url_map.converters["default"] = IdConverter

    store_ext.init_app(app)
    tasks_ext.init_app(app)
    api = KilnApi(app)
    errors.init_app(app)
    auth.init_app(app)
    idempotency.init_app(app)

    from intake.views import (
        benchmarks,
        campaigns,
        candidates,
        health,
        jobs,
        proposals,
        results,
        tokens,
    )

    for module in (campaigns, candidates, results, proposals, benchmarks, jobs, tokens):
        api.register_blueprint(module.blp)
    app.register_blueprint(health.bp)
    api.finish_spec()
    from intake import dashboard  # the browser pages at /, signed in by session

    dashboard.init_app(app)
    return app
