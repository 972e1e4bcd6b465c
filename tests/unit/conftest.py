"""Fixtures of the unit tests: the intake app and the store on an in-memory fakeredis (no process)."""

from __future__ import annotations

import fakeredis
import pytest
from flask import Flask
from support.intake import ADMIN_TOKEN

from kiln_services.intake import create_app
from kiln_services.store import Store


@pytest.fixture
def fake() -> fakeredis.FakeRedis:
    """An empty in-memory Redis (decoded responses, as the store's client)."""
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def store(fake: fakeredis.FakeRedis) -> Store:
    """The store on `fake`."""
    return Store(fake)


@pytest.fixture
def app(store: Store) -> Flask:
    """The intake app in testing mode with the admin token of support.intake, on `store`."""
    app = create_app({"TESTING": True, "KILN_ADMIN_TOKEN": ADMIN_TOKEN})
    app.extensions["kiln_store"] = store
    return app
