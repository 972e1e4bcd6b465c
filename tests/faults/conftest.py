"""Fixtures of the fault tests: stacks of real processes (tests/support/stack.py), stopped (and
their logs shown) at the end; `live` is the usual start of a test: one stack, its store, its API."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from faultkit import FAST_RECOVERY, Api, Live
from support.stack import StackSet, failed

from kiln_services.devstack.stack import Stack
from kiln_services.store import Store


@pytest.fixture
def stacks(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """Start stacks (fast dead-worker recovery) in this test's temporary directory; all stopped
    at the end, their logs printed if the test failed."""
    started = StackSet()

    def factory(env: Mapping[str, str] | None = None, web_concurrency: int = 2) -> Stack:
        var = tmp_path / f"stack{len(started.started)}"
        return started.start(
            var, env={**FAST_RECOVERY, **(env or {})}, web_concurrency=web_concurrency
        )

    yield factory
    started.stop(show_logs=failed(request))


@pytest.fixture
def stores() -> Iterator[Callable[[Stack], Store]]:
    """Store clients of stacks' Redis (the test's own view of the data); closed at the end."""
    opened: list[Store] = []

    def factory(stack: Stack) -> Store:
        opened.append(Store.from_url(stack.redis_url))
        return opened[-1]

    yield factory
    for store in opened:
        store.redis.close()


@pytest.fixture
def live(stacks: Callable[..., Stack], stores: Callable[[Stack], Store]) -> Live:
    """One stack with the default settings, the test's store on its Redis and its HTTP API."""
    stack = stacks()
    return Live(stack, stores(stack), Api(stack))
