"""Fixtures of the Kadi4Mat bridge's tests: a real Kadi4Mat (tests/support/kadi.py) and a real
Kiln stack (tests/support/stack.py), each started once per session.

Kadi's set-up cannot be skipped: if PostgreSQL or Kadi's virtualenv cannot be made, every test
here fails with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.kadi import KadiServer, KadiUnavailable, PostgresCluster, kadi_python
from support.kadi_records import KadiAPI
from support.stack import StackSet

from kiln_client.client import Client
from kiln_client.kadi import Kadi
from kiln_services.devstack.stack import Stack


@pytest.fixture(scope="session")
def kadi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KadiServer]:
    """A Kadi4Mat server with a user and its token; the set-up time is printed (pytest -s)."""
    started = time.monotonic()
    # PostgreSQL runs as `postgres`: its directory must not sit under pytest's root-only tmp dir
    pg_root = Path(tempfile.mkdtemp(prefix="kiln-kadi-pg-"))
    cluster = PostgresCluster(pg_root)
    server: KadiServer | None = None
    problem = None
    try:
        python = kadi_python()
        venv_ready = time.monotonic()
        cluster.start()
        server = KadiServer(tmp_path_factory.mktemp("kadi"), cluster.createdb("kadi"))
        server.bootstrap(python)
        server.start(python)
        print(
            f"\nKadi4Mat set-up: {time.monotonic() - started:.1f} s "
            f"(virtualenv {venv_ready - started:.1f} s) at {server.url}"
        )
    except KadiUnavailable as error:
        problem = str(error)
        if server is not None:
            server.stop()
        cluster.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
    if problem is not None or server is None:
        pytest.fail(f"Kadi4Mat could not be set up: {problem}", pytrace=False)
    yield server
    server.stop()
    cluster.stop()
    shutil.rmtree(pg_root, ignore_errors=True)


@pytest.fixture(scope="session")
def kiln_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A real Kiln stack (Redis, gunicorn, a Celery worker) for the bridge's tests."""
    stacks = StackSet()
    yield stacks.start(tmp_path_factory.mktemp("stack"))
    stacks.stop()


@pytest.fixture
def kiln(kiln_stack: Stack) -> Iterator[Client]:
    """A client of the Kiln stack holding its admin token."""
    with Client(kiln_stack.base_url, kiln_stack.admin_token, timeout=30) as client:
        yield client


@pytest.fixture
def kadi_api(kadi: KadiServer) -> Iterator[KadiAPI]:
    """Raw calls to set Kadi4Mat up as a lab would (not through the bridge)."""
    with KadiAPI(kadi) as api:
        yield api


@pytest.fixture
def bridge(kadi: KadiServer) -> Iterator[Kadi]:
    """The bridge's connection to the Kadi4Mat under test, with the test user's token."""
    with Kadi(kadi.url, kadi.token) as connection:
        yield connection
