"""bench-intake's servers: Redis, the intake and the no-op ceiling under gunicorn, each on its
own free port and started as devstack.Stack starts the intake; a campaign with a write token."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import machine
import requests

from kiln_services.devstack.redis_server import (
    RedisServer,
    free_port,
    own_session_dying_with_parent,
)
from kiln_services.devstack.stack import HEALTH_PATH, Stack

BENCH_DIR = Path(__file__).resolve().parent
API = "/api/v1"


class Gunicorn:
    """A gunicorn server started as devstack.Stack starts the intake, its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=BENCH_DIR.parent,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=own_session_dying_with_parent,
            )
        return self

    def wait_healthy(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                if requests.get(url + HEALTH_PATH, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not answer {url}{HEALTH_PATH} in {timeout:.0f} s")

    def pids(self) -> list[int]:
        return machine.process_tree(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextmanager
def servers(var_dir: Path, admin: str) -> Iterator[dict[str, Any]]:
    """Redis, the intake and the no-op ceiling, each on its own free port; stopped on exit."""
    redis_server = RedisServer(var_dir / "redis", free_port(), new_session=True)
    assert redis_server.port != 6379
    started: list[Gunicorn] = []
    try:
        redis_server.start()
        out: dict[str, Any] = {"redis": redis_server}
        for name in ("intake", "noop"):
            stack = Stack(
                var_dir / name, port=free_port(), redis_url=redis_server.url, admin_token=admin
            )
            argv = stack.intake_argv()
            if name == "noop":  # the same server and settings, another app
                argv[argv.index("kiln_services.intake:create_app()")] = "noop_app:create_app()"
                argv += ["--pythonpath", str(BENCH_DIR)]
            server = Gunicorn(name, argv, stack.env, stack.log_dir / f"{name}.log").start()
            started.append(server)
            out[name] = {"server": server, "url": stack.base_url}
        for name in ("intake", "noop"):
            out[name]["server"].wait_healthy(out[name]["url"])
        yield out
    finally:
        for server in started:
            server.stop()
        redis_server.stop()


def campaign_with_token(url: str, admin: str, name: str) -> tuple[str, str]:
    """A new LATP campaign and a write token limited to it (what an instrument holds)."""
    auth = {"Authorization": f"Bearer {admin}"}
    response = requests.post(
        f"{url}{API}/campaigns", json={"preset": "latp", "name": name}, headers=auth, timeout=10
    )
    response.raise_for_status()
    cid = response.json()["id"]
    response = requests.post(
        f"{url}{API}/tokens",
        json={"scope": "write", "name": f"bench-{name}", "campaign_id": cid},
        headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
        timeout=10,
    )
    response.raise_for_status()
    return cid, response.json()["token"]
