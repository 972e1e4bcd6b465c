"""Locust users for bench/intake.py: post one result per request on loopback.

bench/intake.py runs ``locust --headless -f bench/locustfile.py`` and configures it through the
environment:

- ``KILN_BENCH_PATH``: the URL path to POST (a campaign's results, on the intake or the no-op).
- ``KILN_BENCH_TOKEN``: the bearer token (a write token limited to the campaign).
- ``KILN_BENCH_POINTS``: a JSON file of result bodies to cycle through (sample_id is replaced).
- ``KILN_BENCH_RATE``: requests/s per user (locust's constant throughput); 0 = back to back.
- ``KILN_BENCH_PREFIX``: a sample_id prefix unique to the run, so every post stores a new result.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from locust import FastHttpUser, constant, constant_throughput, task

PATH = os.environ.get("KILN_BENCH_PATH", "/")
TOKEN = os.environ.get("KILN_BENCH_TOKEN", "")
RATE = float(os.environ.get("KILN_BENCH_RATE", "0"))
PREFIX = f"{os.environ.get('KILN_BENCH_PREFIX', 'BENCH')}-{os.getpid()}"
POINTS = json.loads(Path(os.environ["KILN_BENCH_POINTS"]).read_text())

_serial = itertools.count(1)  # gevent: one thread per process, so a plain counter is safe


class ResultPoster(FastHttpUser):
    """Posts single results, each under a new sample_id, and expects 201 Created."""

    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)

    @task
    def post_result(self) -> None:
        n = next(_serial)
        body = {**POINTS[n % len(POINTS)], "sample_id": f"{PREFIX}-{n}"}
        with self.client.post(
            PATH,
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            name="POST results",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
