"""End-to-end fixtures: real redis-server, gunicorn serving the intake, a real Celery worker.

The processes are the ones `make run` starts (devstack.Stack), on free ports (never 6379) in a
temporary directory; teardown kills their process groups.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiln_client.client import Client
from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack


def start_stack(var_dir: Path, *, redis_port: int | None = None) -> Stack:
    """A started, ready stack (one worker process, prefork pool of 1); stopped if it never gets ready."""
    stack = Stack(
        var_dir,
        port=free_port(),
        redis_port=redis_port or free_port(),
        admin_token=secrets.token_urlsafe(24),
        web_concurrency=2,
        worker_concurrency=1,
    )
    assert stack.redis is not None and stack.redis.port != 6379
    stack.start()
    try:
        stack.wait_ready(timeout=120)
    except BaseException:
        logs = stack.logs()
        stack.stop()
        pytest.fail(f"the stack did not get ready:\n{logs}")
    return stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One live stack shared by the end-to-end tests that do not restart it."""
    live = start_stack(tmp_path_factory.mktemp("stack"))
    yield live
    live.stop()


@pytest.fixture
def stack_factory() -> Iterator[Callable[..., Stack]]:
    """Start extra stacks (e.g. to restart one on the same directory); all stopped at the end."""
    started: list[Stack] = []

    def factory(var_dir: Path, *, redis_port: int | None = None) -> Stack:
        started.append(start_stack(var_dir, redis_port=redis_port))
        return started[-1]

    yield factory
    for one in started:
        one.stop()


@pytest.fixture
def client(stack: Stack) -> Client:
    """An HTTP client of the live stack holding its admin token."""
    return Client(stack.base_url, stack.admin_token, timeout=30)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A campaign name no other test uses."""
    return f"{request.node.name[:40]}-{secrets.token_hex(3)}"
