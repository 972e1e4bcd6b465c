"""Kiln's HTTP intake: a Flask app factory serving the v1 API.

    gunicorn 'kiln_services.intake:create_app()' -c deploy/gunicorn.conf.py

Importing this package never loads scikit-learn: the intake validates and stores, workers fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from kiln_services.intake.settings import IntakeSettings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the intake app."""
    app = Flask(__name__)
    # The environment is read here, once; a test config (or FLASK_...) overrides it.
    app.config.from_mapping(IntakeSettings.from_env().config())
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    from kiln_services.intake import auth, errors, idempotency, observability
    from kiln_services.intake.extensions import IdConverter, KilnApi, store_ext, tasks_ext

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

    from kiln_services.intake.campaigns import views as campaigns
    from kiln_services.intake.candidates import views as candidates
    from kiln_services.intake.health import views as health
    from kiln_services.intake.jobs import benchmarks
    from kiln_services.intake.jobs import views as jobs
    from kiln_services.intake.pareto import views as pareto
    from kiln_services.intake.proposals import views as proposals
    from kiln_services.intake.results import views as results
    from kiln_services.intake.tokens import views as tokens

    for module in (campaigns, candidates, results, proposals, pareto, benchmarks, jobs, tokens):
        api.register_blueprint(module.blp)
    api.register_blueprint(health.bp)
    from kiln_services.intake import dashboard  # the browser pages at /, signed in by session

    dashboard.init_app(app)
    return app
