"""Fixtures of the integration tests: the intake app, its test client, the store and a Celery app,
all on the real redis-server of tests/conftest.py (emptied for every test).

A test module that needs the app configured otherwise overrides `app_config` with the entries
to add (they win over the defaults here).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from flask.testing import FlaskClient
from support.intake import intake_app

from kiln_services.store import Store
from kiln_services.worker.factory import make_celery


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Entries added to the test app's configuration (none by default)."""
    return {}


@pytest.fixture
def app(redis_url: str, app_config: dict[str, Any]) -> Flask:
    """The intake app on the test Redis, with an admin token (support.intake.ADMIN_TOKEN)."""
    return intake_app(redis_url, **app_config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()


@pytest.fixture
def store(redis_url: str) -> Store:
    """The store on the test Redis (the one the app and the workers use)."""
    return Store.from_url(redis_url)


@pytest.fixture
def celery_app(redis_url: str) -> Iterator[Celery]:
    """The worker's Celery app with its tasks imported, as a worker has them at start."""
    app = make_celery(redis_url)
    app.loader.import_default_modules()
    yield app
    app.close()
