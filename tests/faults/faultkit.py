"""What the fault tests share: extra workers, signals, polling, plain HTTP against a stack.

The stacks themselves come from the one stack starter, tests/support/stack.py (see conftest.py).
Faults are real: SIGKILL to a process group, a gunicorn worker or Redis. Nothing sleeps for a
fixed time where a condition can be polled, and every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import requests

from kiln_services.devstack.stack import Child, Stack
from kiln_services.store import Store

T = TypeVar("T")

#: Workers beat every second and count as dead after four silent seconds (production: 10 s, 60 s),
#: so a dead worker's tasks come back within seconds in these tests.
FAST_RECOVERY = {"KILN_HEARTBEAT_S": "1", "KILN_WORKER_DEAD_AFTER_S": "4"}


def wait_until(condition: Callable[[], T], timeout: float, what: str, *, every: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(every)


def child(stack: Stack, name: str) -> Child:
    """The stack's child process called `name` ("intake", "worker" or an extra worker)."""
    return next(c for c in stack.children if c.name == name)


def worker_name(process: Child) -> str:
    """The Celery node name a worker child was started with, up to the '@' (its hostname)."""
    hostname = process.argv[process.argv.index("--hostname") + 1]
    return hostname.partition("@")[0]


def add_worker(stack: Stack, name: str) -> Child:
    """Start another worker process beside the stack's (its own hostname), kept in `children`."""
    argv = stack.worker_argv()
    argv[argv.index("--hostname") + 1] = f"{name}-{stack.port}@%h"
    log = stack.log_dir / f"{name}.log"
    extra = Child(name, argv, stack.env, log, False, signal.SIGKILL).start()
    stack.children.append(extra)
    return extra


def restart(stack: Stack, process: Child) -> Child:
    """Start `process` again with the same command (same hostname), in place in `children`."""
    again = Child(
        process.name, process.argv, process.env, process.log_path, False, process.death_signal
    ).start()
    stack.children[stack.children.index(process)] = again
    return again


def sigkill_group(process: Child) -> None:
    """SIGKILL a child's whole process group (a Celery worker and its pool), and reap it."""
    assert process.process is not None
    os.killpg(process.process.pid, signal.SIGKILL)
    assert process.wait(10), f"{process.name} survived SIGKILL"


def children_of(pid: int) -> list[int]:
    """The pids of a process's children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def live_workers(store: Store) -> set[str]:
    """Hostnames (before the '@') of the workers with a fresh heartbeat."""
    return {w.partition("@")[0] for w in store.workers.live(5)}


class Api:
    """Plain HTTP against a stack with its admin token: every status is returned, none raised."""

    def __init__(self, stack: Stack, timeout: float = 30.0) -> None:
        self.base = stack.base_url + "/api/v1"
        self.headers = {"Authorization": f"Bearer {stack.admin_token}"}
        self.timeout = timeout

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request on a connection of its own (closed after it, as the server may be killed)."""
        kwargs.setdefault("timeout", self.timeout)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        with requests.Session() as session:
            return session.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def answer_on(
        self, session: requests.Session, path: str, body: Any, timeout: float
    ) -> tuple[int | str, str | None]:
        """POST `body` on the caller's kept-alive session: the status and Retry-After, or the
        name of the exception when no answer came (the server may be down or killed)."""
        try:
            response = session.post(
                self.base + path, json=body, headers=self.headers, timeout=timeout
            )
        except requests.RequestException as exc:
            return type(exc).__name__, None
        return response.status_code, response.headers.get("Retry-After")

    def ok(self, response: requests.Response, *statuses: int) -> Any:
        """The JSON body of a response with one of `statuses` (else fail, showing it)."""
        assert response.status_code in statuses, (response.status_code, response.text[:500])
        return response.json()

    def campaign(self, body: Mapping[str, Any]) -> str:
        """Create a campaign; its id."""
        return str(self.ok(self.post("/campaigns", json=dict(body)), 201)["id"])

    def results(self, cid: str) -> list[dict[str, Any]]:
        """Every stored result of a campaign."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.ok(self.get(f"/campaigns/{cid}/results?offset={len(items)}&limit=500"), 200)
            items.extend(page["items"])
            if not page["next"]:
                return items

    def model(self, cid: str) -> dict[str, Any] | None:
        """The campaign's model summary, or None when there is none yet."""
        response = self.get(f"/campaigns/{cid}/model")
        return None if response.status_code == 404 else self.ok(response, 200)

    def job(self, job_id: str) -> dict[str, Any]:
        return self.ok(self.get(f"/jobs/{job_id}"), 200)  # type: ignore[no-any-return]


class Live(NamedTuple):
    """A started stack, the test's store on its Redis and its HTTP API (the `live` fixture)."""

    stack: Stack
    store: Store
    api: Api
