"""The local stack as real processes: Redis (unless REDIS_URL is given), gunicorn, a Celery worker.

`make run` and the end-to-end tests both use `Stack`, so the tests exercise what a newcomer runs.
Each child gets its own process group, so stopping one also stops its workers, and the terminal's
Ctrl-C reaches only `make run`, which then stops the web and worker processes before Redis.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

import requests

from kiln_services.devstack.redis_server import (
    RedisServer,
    free_port,
    own_session_dying_with_parent,
)

#: The repository root (devstack is installed editable from services/kiln_services/devstack).
REPO_ROOT = Path(__file__).resolve().parents[3]
GUNICORN_CONF = REPO_ROOT / "deploy" / "gunicorn.conf.py"
API_PREFIX = "/api/v1"
HEALTH_PATH = f"{API_PREFIX}/healthz"
READY_PATH = f"{API_PREFIX}/readyz"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
DEFAULT_REDIS_PORT = 6390  # not 6379: never share a Redis (and its data) a user already runs


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on host:port (a bind test, as the server itself would do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_redis_port(preferred: int | None = None) -> int:
    """KILN_REDIS_PORT (default 6390) if free, else any free port; never 6379."""
    port = preferred or int(os.environ.get("KILN_REDIS_PORT", DEFAULT_REDIS_PORT))
    if port != 6379 and port_is_free(port):
        return port
    return free_port()


def admin_token(var_dir: Path, env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(token, where it came from): KILN_ADMIN_TOKEN, else var/admin_token, made once, kept."""
    if env.get("KILN_ADMIN_TOKEN"):
        return env["KILN_ADMIN_TOKEN"], "KILN_ADMIN_TOKEN"
    path = var_dir / "admin_token"
    kept = path.read_text().strip() if path.exists() else ""
    if kept:
        return kept, str(path)
    var_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token, f"{path} (new)"


class Child:
    """A child process in its own process group, its output in a log file (and on screen)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        log_path: Path,
        echo: bool,
        death_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.death_signal = death_signal
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path
        self.echo = echo
        self.process: subprocess.Popen[bytes] | None = None
        self.tail: deque[str] = deque(maxlen=40)
        self._reader: threading.Thread | None = None

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=functools.partial(own_session_dying_with_parent, self.death_signal),
        )
        self._reader = threading.Thread(target=self._pump, name=f"{self.name}-log", daemon=True)
        self._reader.start()
        return self

    def _pump(self) -> None:
        assert self.process and self.process.stdout
        with open(self.log_path, "ab") as log:
            for raw in iter(self.process.stdout.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode(errors="replace").rstrip()
                self.tail.append(line)
                if self.echo:
                    print(f"{self.name:>6} | {line}", flush=True)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def wait(self, timeout: float) -> bool:
        """Wait for the leader to exit; then SIGKILL whatever is left in its group."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        self.signal_group(signal.SIGKILL)  # stragglers (e.g. prefork children) go too
        if self._reader:
            self._reader.join(timeout=2)
        if self.process.stdout:
            self.process.stdout.close()
        return True

    def terminate(self) -> None:
        """SIGTERM to the leader only: gunicorn and Celery then stop their own workers warmly
        (a Celery pool child hit directly would die mid-task)."""
        if self.alive and self.process is not None:
            self.process.send_signal(signal.SIGTERM)


class Stack:
    """Redis + intake (gunicorn) + one Celery worker, started and stopped as one.

    Args:
        var_dir: Where Redis keeps its AOF (``var_dir/redis``) and the logs go (``var_dir/log``).
        port: The intake's HTTP port.
        redis_url: Use this Redis instead of starting one.
        redis_port: The embedded Redis's port (default: `choose_redis_port()`).
        admin_token: The intake's first admin token (KILN_ADMIN_TOKEN).
        echo: Also print the children's output, prefixed with their names.
        env: Extra environment for the children.
    """

    def __init__(
        self,
        var_dir: str | Path,
        *,
        port: int = 8000,
        host: str = "127.0.0.1",
        redis_url: str | None = None,
        redis_port: int | None = None,
        admin_token: str,
        web_concurrency: int | None = None,
        worker_concurrency: int | None = None,
        echo: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.port = port
        self.host = host
        self.admin_token = admin_token
        self.echo = echo
        self.redis: RedisServer | None = None
        if redis_url is None:
            self.redis = RedisServer(
                self.var_dir / "redis",
                redis_port or choose_redis_port(),
                new_session=True,
            )
            redis_url = self.redis.url
        self.redis_url = redis_url
        self.log_dir = self.var_dir / "log"
        self.env = {
            **os.environ,
            **(env or {}),
            "REDIS_URL": self.redis_url,
            "KILN_ADMIN_TOKEN": admin_token,
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
            # The intake's per-process request metrics, summed by /metrics (gunicorn.conf.py
            # empties it as gunicorn starts).
            "PROMETHEUS_MULTIPROC_DIR": str(self.var_dir / "metrics"),
        }
        self.env.setdefault("WEB_CONCURRENCY", str(web_concurrency or 2))
        self.env["WORKER_CONCURRENCY"] = str(
            worker_concurrency or self.env.get("WORKER_CONCURRENCY", "1")
        )
        self.children: list[Child] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def intake_argv(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "kiln_services.intake:create_app()",
            "--config", str(GUNICORN_CONF),
            "--bind", f"{self.host}:{self.port}",
            # Ctrl-C should not wait out a client's long-poll.
            "--graceful-timeout", "3",
            # Long-poll access lines would drown the demo's tables: they go to a file.
            "--access-logfile", str(self.log_dir / "access.log"),
        ]  # fmt: skip

    def worker_argv(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "kiln_services.worker.app", "worker",
            "-Q", "proposals,benchmarks",
            "--concurrency", self.env["WORKER_CONCURRENCY"],
            "--hostname", f"kiln-dev-{self.port}@%h",
            "--loglevel", "INFO",
        ]  # fmt: skip

    def start(self) -> Stack:
        """Start Redis (if embedded), then the intake and the worker; do not wait for readiness."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.redis is not None:
                self.redis.start()
            # If make run itself is SIGKILLed, Redis goes at the same moment; a warm Celery
            # shutdown would then retry the broker forever, so the worker gets SIGKILL (its tasks
            # are acknowledged late: they are redelivered next time).
            for name, argv, death in (
                ("intake", self.intake_argv(), signal.SIGTERM),
                ("worker", self.worker_argv(), signal.SIGKILL),
            ):
                log = self.log_dir / f"{name}.log"
                self.children.append(Child(name, argv, self.env, log, self.echo, death).start())
        except BaseException:
            self.stop()
            raise
        return self

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if not c.alive), None)

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Poll /readyz (Redis and a live worker) until 200; the seconds it took."""
        start = time.monotonic()
        last = "no answer"
        while time.monotonic() - start < timeout:
            dead = self.dead_child()
            if dead is not None:
                raise RuntimeError(
                    f"{dead.name} exited with code {dead.process.returncode if dead.process else '?'}"
                    f" before the stack was ready; last lines of {dead.log_path}:\n"
                    + "\n".join(dead.tail)
                )
            try:
                response = requests.get(self.base_url + READY_PATH, timeout=2)
                if response.status_code == 200:
                    return time.monotonic() - start
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except requests.RequestException as exc:
                last = exc.__class__.__name__
            time.sleep(0.3)
        raise TimeoutError(f"{self.base_url}{READY_PATH} not ready after {timeout:.0f} s ({last})")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the intake and the worker together (warm, then SIGKILL), then Redis."""
        for child in self.children:
            child.terminate()
        deadline = time.monotonic() + timeout
        for child in self.children:
            if not child.wait(max(0.1, deadline - time.monotonic())):
                child.signal_group(signal.SIGKILL)
                child.wait(5)
        self.children = []
        if self.redis is not None:
            self.redis.stop()

    def logs(self) -> str:
        """The last lines of every child's output (for failure messages)."""
        return "\n".join(
            f"--- {c.name} ({c.log_path})\n" + "\n".join(c.tail) for c in self.children
        )

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
