"""Fuzz the live intake from its own /openapi.json with schemathesis (the CLI, as a user runs it).

gunicorn serves the intake on a real redis-server (free ports, a temporary directory); no worker
runs, so jobs stay queued and the fuzzer's campaigns never cost CPU. Every check schemathesis has
that judges the API against its spec must pass over at least 1,000 generated cases: no 5xx, every
status, content type, header and body as documented, invalid data rejected, unsupported methods
answered 405.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kiln_services.devstack.redis_server import RedisServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
MIN_CASES = 1000
# Per operation; with the coverage phase's own cases this gives a few thousand in about a minute.
MAX_EXAMPLES = 100
# Left out: positive_data_acceptance (valid-looking data for a campaign the fuzzer invented is a
# 404/422, rightly) and ensure_resource_availability (its links are guessed from any "id" field, so
# it follows a job id into a proposal URL, or expects a model before any fit). Every check that
# compares a response with the spec runs.
EXCLUDED_CHECKS = "positive_data_acceptance,ensure_resource_availability"


class LiveIntake:
    def __init__(self, base_url: str, admin_token: str, log: Path) -> None:
        self.base_url = base_url
        self.admin_token = admin_token
        self.log = log


@pytest.fixture(scope="module")
def live_intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIntake]:
    """gunicorn (2 processes) serving the intake on a real redis-server, both on free ports."""
    root = tmp_path_factory.mktemp("fuzz")
    token = secrets.token_urlsafe(24)
    port = free_port()
    log = root / "intake.log"
    with RedisServer(root / "redis", free_port(), appendfsync="everysec") as redis_server:
        env = {
            **os.environ,
            "REDIS_URL": redis_server.url,
            "KILN_ADMIN_TOKEN": token,
            "WEB_CONCURRENCY": "2",
            "PYTHONUNBUFFERED": "1",
            # The fuzzer long-polls campaigns it created; keep each poll short.
            "FLASK_KILN_LONG_POLL_MAX_S": "2",
        }
        argv = [
            sys.executable, "-m", "gunicorn", "kiln_services.intake:create_app()",
            "--config", str(REPO / "deploy" / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=out)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass  # not listening yet, or slow to answer on a busy machine
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the intake did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield LiveIntake(base, token, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_schemathesis_finds_no_5xx_and_no_spec_violation(
    live_intake: LiveIntake, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    argv = [
        sys.executable, "-m", "schemathesis.cli", "run",
        f"{live_intake.base_url}/openapi.json",
        "--header", f"Authorization: Bearer {live_intake.admin_token}",
        "--checks", "all",
        "--exclude-checks", EXCLUDED_CHECKS,
        # Readiness needs a live worker, which this fuzzing stack deliberately lacks.
        "--exclude-path", "/readyz",
        "--max-examples", str(MAX_EXAMPLES),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", "20261124",
        "--workers", "1",
        "--request-timeout", "30",
        "--report", "json",
        "--report-json-path", str(report),
        "--output-sanitize", "true",
    ]  # fmt: skip
    run = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    output = run.stdout + run.stderr
    context = f"{output[-15000:]}\n--- intake log ---\n{live_intake.log.read_text()[-5000:]}"
    assert report.exists(), context
    summary = json.loads(report.read_text())
    assert summary["failures"] == [] and summary["errors"] == [], context
    assert summary["exit_code"] == 0 and run.returncode == 0, context
    assert summary["operations"]["tested"] >= 17, summary["operations"]
    cases = summary["test_cases"]
    assert cases["generated"] >= MIN_CASES, cases
    assert cases["with_failures"] == 0 and cases["errored"] == 0, cases
    # Every request was logged by the token's name, never with the token itself.
    log = live_intake.log.read_text()
    assert "token=KILN_ADMIN_TOKEN" in log and live_intake.admin_token not in log
    # Shown with -rA / in the log: how many cases the run tried.
    print(f"schemathesis: {cases['generated']} cases, no failures")
