"""The one stack starter of the end-to-end and fault tests: real processes on free ports.

Every stack runs Redis, gunicorn and Celery as `make run` does (devstack.Stack), on free ports
(never 6379) in a directory of its own; stopping it kills the process groups. `StackSet` starts
stacks for one test or session and stops them all, printing their logs when the test failed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack


def start_stack(
    var_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    web_concurrency: int = 2,
    redis_port: int | None = None,
) -> Stack:
    """A started, ready stack (one worker process with a pool of one); its logs if it never gets
    ready. `redis_port` reuses a Redis port (to restart a stack on the same directory)."""
    stack = Stack(
        var_dir,
        port=free_port(),
        redis_port=redis_port or free_port(),
        admin_token=secrets.token_urlsafe(24),
        web_concurrency=web_concurrency,
        worker_concurrency=1,
        env=dict(env or {}),
    )
    assert stack.redis is not None and stack.redis.port not in (6379, 5432)
    stack.start()
    try:
        stack.wait_ready(timeout=120)
    except BaseException:
        logs = stack.logs()
        stack.stop()
        pytest.fail(f"the stack did not get ready:\n{logs}")
    return stack


def failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test of `request` failed (its call report, kept by tests/conftest.py)."""
    report = getattr(request.node, "rep_call", None)
    return report is not None and report.failed


class StackSet:
    """Stacks started for a test (or a session): all stopped by `stop`, logs shown on failure."""

    def __init__(self) -> None:
        self.started: list[Stack] = []

    def start(self, var_dir: Path, **options: Any) -> Stack:
        """Start a stack in `var_dir` (the options of `start_stack`) and keep it to stop later."""
        self.started.append(start_stack(var_dir, **options))
        return self.started[-1]

    def stop(self, *, show_logs: bool = False) -> None:
        """Stop every stack started here; print their logs first if `show_logs`."""
        for stack in self.started:
            if show_logs:
                print(stack.logs())
            stack.stop()
