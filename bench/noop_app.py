"""The ceiling for bench/intake.py: a Flask endpoint that does nothing, served like the intake.

    gunicorn 'noop_app:create_app()' -c deploy/gunicorn.conf.py --pythonpath bench

Same URL and method as posting a result, so the load generator sends identical requests; it
reads the body (as any endpoint must) and answers a small JSON document without parsing,
validating or storing anything. The gap between this and the intake is Kiln's own cost.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request


def create_app() -> Flask:
    """Create the no-op app."""
    app = Flask(__name__)

    @app.post("/api/v1/campaigns/<campaign_id>/results")
    def results(campaign_id: str) -> Any:
        request.get_data()
        return {"stored": 1, "duplicates": 0, "data_version": 0}, 201

    @app.get("/api/v1/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app
