"""End-to-end fixtures: real redis-server, gunicorn serving the intake, a real Celery worker.

The processes are the ones `make run` starts, through the stack starter of tests/support/stack.py
(free ports, never 6379, in a temporary directory); teardown kills their process groups.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.stack import StackSet, failed

from kiln_client.client import Client
from kiln_services.devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One live stack shared by the end-to-end tests that do not restart it."""
    session = StackSet()
    live = session.start(tmp_path_factory.mktemp("stack"))
    yield live
    session.stop()


@pytest.fixture
def stack_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """Start extra stacks (e.g. to restart one on the same directory); all stopped at the end,
    their logs printed if the test failed."""
    started = StackSet()

    def factory(var_dir: Path, *, redis_port: int | None = None) -> Stack:
        return started.start(var_dir, redis_port=redis_port)

    yield factory
    started.stop(show_logs=failed(request))


@pytest.fixture
def client(stack: Stack) -> Client:
    """An HTTP client of the live stack holding its admin token."""
    return Client(stack.base_url, stack.admin_token, timeout=30)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A campaign name no other test uses."""
    return f"{request.node.name[:40]}-{secrets.token_hex(3)}"
