"""A real Kadi4Mat for the bridge's tests: its own PostgreSQL cluster, virtualenv and server.

- `kadi_python()`: the `kadi` package (pinned) in a virtualenv cached outside the clone, keyed by
  the version (~/.cache/kiln/kadi-<version>, or $KILN_KADI_CACHE), built once under a file lock so
  two runs never race; a half-built one is never used.
- `PostgresCluster`: Debian's initdb/pg_ctl in a temporary directory on a free port (never 5432),
  as the `postgres` user when we are root (PostgreSQL refuses root), trust auth on 127.0.0.1.
- `KadiServer`: Kadi's configuration (development mode; no Elasticsearch, Celery nor Redis), the
  database, a user and a personal access token made in one app-context process, then
  `flask run` on a free port.

Anything that cannot be made raises `KadiUnavailable` with the reason: the tests fail, never skip.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from kiln_services.devstack.redis_server import free_port

KADI_VERSION = "1.13.0"
KADI_USER = "kiln-test"


class KadiUnavailable(RuntimeError):
    """Kadi4Mat could not be set up here (the message says which step and why)."""


def _run(argv: list[str], *, what: str, timeout: float = 900, **options: object) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **options)  # type: ignore[call-overload]
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KadiUnavailable(f"{what}: {error}") from error
    if done.returncode != 0:
        raise KadiUnavailable(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return str(done.stdout)


def kadi_venv_dir() -> Path:
    """Where the cached virtualenv of the pinned `kadi` lives."""
    cache = Path(os.environ.get("KILN_KADI_CACHE", Path.home() / ".cache" / "kiln"))
    return cache / f"kadi-{KADI_VERSION}"


def kadi_python() -> Path:
    """The python of the cached `kadi` virtualenv, built first (~8 min) if missing."""
    venv = kadi_venv_dir()
    python = venv / "bin" / "python"
    if python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists():  # built by another run while we waited for the lock
            return python
        building = venv.parent / f"{venv.name}.tmp"
        shutil.rmtree(building, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(building)], what="creating Kadi's virtualenv")
        _run(
            [
                str(building / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                f"kadi=={KADI_VERSION}",
            ],
            what=f"installing kadi=={KADI_VERSION} into {building}",
            timeout=1800,
        )
        building.rename(venv)  # atomic: a venv at `venv` is always complete
    return python


def _as_postgres(argv: list[str]) -> list[str]:
    """Run `argv` as the `postgres` user when we are root (PostgreSQL refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class PostgresCluster:
    """A throwaway PostgreSQL cluster in `root` on a free port, trust auth on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        assert self.port != 5432

    def _tool(self, name: str) -> str:
        found = shutil.which(name) or next(
            (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None
        )
        if found is None:
            raise KadiUnavailable(
                f"PostgreSQL's {name} is not installed (Debian package `postgresql`; .ci/run "
                "installs it when run as root)"
            )
        return found

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        _run(
            _as_postgres(
                [self._tool("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
            ),
            what="initdb",
            timeout=120,
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        _run(
            _as_postgres(
                [
                    self._tool("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "log"),
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            what="pg_ctl start",
            timeout=120,
        )

    def createdb(self, name: str) -> str:
        """Create database `name`; its SQLAlchemy URI."""
        _run(
            [
                self._tool("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            what=f"createdb {name}",
            timeout=60,
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                _as_postgres([self._tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )


# Run by Kadi's python in the app context: schema, system roles, a user, a token with every scope.
_BOOTSTRAP = f"""
from flask_migrate import upgrade
from kadi.app import create_app
from kadi.ext.db import db
from kadi.lib.api.models import PersonalToken
from kadi.lib.api.utils import get_access_token_scopes
from kadi.lib.licenses.utils import initialize_builtin_licenses
from kadi.lib.permissions.utils import initialize_system_roles
from kadi.modules.accounts.providers import LocalProvider

app = create_app()
with app.app_context():
    upgrade(directory=app.config["MIGRATIONS_PATH"], revision="head")
    initialize_system_roles()
    initialize_builtin_licenses()
    identity = LocalProvider.register(
        displayname="Kiln test", username="{KADI_USER}", email="kiln@example.org",
        password="not-used-1234",
    )
    scope = " ".join(
        f"{{obj}}.{{action}}" for obj, actions in get_access_token_scopes().items() for action in actions
    )
    token = PersonalToken.new_token()
    PersonalToken.create(user=identity.user, name="kiln-tests", scope=scope, token=token)
    db.session.commit()
    print(token)
"""


class KadiServer:
    """Kadi4Mat served on a free port from `root`, with a user and its personal access token."""

    def __init__(self, root: Path, database_uri: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.config = root / "kadi.cfg"
        self.log = root / "kadi.log"
        self.env = {
            **os.environ,
            "KADI_CONFIG_FILE": str(self.config),
            "KADI_ENV": "development",
            "PYTHONUNBUFFERED": "1",
        }
        self._write_config(database_uri)

    def _write_config(self, database_uri: str) -> None:
        (self.root / "storage").mkdir(parents=True, exist_ok=True)
        (self.root / "uploads").mkdir(parents=True, exist_ok=True)
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "SECRET_KEY": "kiln-tests-only",
            "SERVER_NAME": f"127.0.0.1:{self.port}",
            "STORAGE_PATH": str(self.root / "storage"),
            "MISC_UPLOADS_PATH": str(self.root / "uploads"),
            # never the user's Redis on 6379 (Kadi's defaults for Celery and its rate limiter)
            "CELERY_BROKER_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
            # no Elasticsearch: a closed port with the database fallback (None breaks listings)
            "ELASTICSEARCH_HOSTS": "http://127.0.0.1:1",
            "ELASTICSEARCH_ENABLE_FALLBACK": True,
            "ELASTICSEARCH_CONFIG": {"request_timeout": 1, "max_retries": 0},
        }
        self.config.write_text("".join(f"{key} = {value!r}\n" for key, value in settings.items()))

    def bootstrap(self, python: Path) -> None:
        """Create the schema, the user and its token (one app-context process, ~3 s)."""
        out = _run([str(python), "-c", _BOOTSTRAP], what="Kadi bootstrap", env=self.env)
        self.token = out.strip().splitlines()[-1]

    def start(self, python: Path, *, timeout: float = 90) -> None:
        # `python -m`: the venv is built under another name then renamed, so its scripts'
        # shebangs point elsewhere; its python (a symlink) does not
        argv = [str(python), "-m", "flask", "--app", "kadi.wsgi", "run", "--host", "127.0.0.1"]
        argv += ["--port", str(self.port), "--no-reload", "--no-debugger"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KadiUnavailable(f"Kadi's server exited:\n{self.log.read_text()[-4000:]}")
            try:
                requests.get(f"{self.url}/api", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise KadiUnavailable(f"Kadi's server never answered:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
