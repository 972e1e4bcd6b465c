"""Fixtures of the fault tests: stacks of real processes, stopped (and their logs shown) at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from faultkit import start_stack

from kiln_services.devstack.stack import Stack
from kiln_services.store import Store


@pytest.fixture
def stacks(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """Start stacks in this test's temporary directory; all stopped at the end."""
    started: list[Stack] = []

    def factory(env: Mapping[str, str] | None = None, web_concurrency: int = 2) -> Stack:
        var = tmp_path / f"stack{len(started)}"
        started.append(start_stack(var, env=env, web_concurrency=web_concurrency))
        return started[-1]

    yield factory
    failed = getattr(request.node, "rep_call", None)  # set by pytest_runtest_makereport
    for stack in started:
        if failed is not None and failed.failed:
            print(stack.logs())
        stack.stop()


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


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so a fixture can tell that the test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
