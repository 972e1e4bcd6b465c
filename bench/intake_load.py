"""bench-intake's load: headless locust runs (requests/s, percentiles, CPU of the servers and
of the load generator) and a LIMS-style CSV posted to a new campaign."""

from __future__ import annotations

import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import machine
import requests
from intake_servers import API, BENCH_DIR, campaign_with_token

from kiln.lab import VirtualLatpLab

LOCUSTFILE = BENCH_DIR / "locustfile.py"


def result_bodies() -> list[dict[str, Any]]:
    """The virtual lab's 80 seed-grid results (sample_id replaced per post)."""
    return VirtualLatpLab(seed=0).seed_grid()


def run_locust(
    url: str,
    path: str,
    token: str,
    points_file: Path,
    *,
    users: int,
    rate_per_user: float,
    seconds: float,
    prefix: str,
    watch: dict[str, list[int]],
) -> dict[str, Any]:
    """One headless locust run; requests/s and percentiles over the steady part (after ramp-up).

    `watch` names process groups whose CPU use during the run is reported (cores busy).
    """
    with tempfile.TemporaryDirectory() as tmp:
        stats_prefix = Path(tmp) / "run"
        env = {
            **os.environ,
            "KILN_BENCH_PATH": path,
            "KILN_BENCH_TOKEN": token,
            "KILN_BENCH_POINTS": str(points_file),
            "KILN_BENCH_RATE": str(rate_per_user),
            "KILN_BENCH_PREFIX": prefix,
        }
        before = {name: machine.cpu_seconds(pids) for name, pids in watch.items()}
        started = time.monotonic()
        generator = subprocess.Popen(
            _locust_argv(url, users, seconds, stats_prefix),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=BENCH_DIR,
        )
        output, _ = generator.communicate(timeout=seconds + 60)
        wall = time.monotonic() - started
        # The load generator has exited: its CPU time is in our children's rusage.
        generator_cpu = children_cpu()
        after = {name: machine.cpu_seconds(pids) for name, pids in watch.items()}
        text = output.decode(errors="replace")
        with open(f"{stats_prefix}_stats.csv") as fh:
            rows = list(csv.DictReader(fh))
    return {
        "users": users,
        "offered_rate": users * rate_per_user if rate_per_user else None,
        **_aggregated(rows),
        # The servers idle while locust starts: their CPU is spread over the run time itself.
        "cores_busy": {name: (after[name] - before[name]) / seconds for name in watch},
        "generator_cores": generator_cpu / wall,
        "generator_cpu_warning": "CPU usage above" in text,
        "errors": [line for line in text.splitlines() if "Error" in line or "failure" in line][:5],
    }


def _locust_argv(url: str, users: int, seconds: float, stats_prefix: Path) -> list[str]:
    """locust headless, all users at once, statistics reset after the ramp-up, CSV stats."""
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", url, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{seconds:g}s", "--reset-stats", "--only-summary",
        "--csv", str(stats_prefix), "--loglevel", "WARNING",
    ]  # fmt: skip


def _aggregated(rows: list[dict[str, str]]) -> dict[str, Any]:
    """Counts, requests/s and latencies of locust's "Aggregated" row."""
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rps": float(total["Requests/s"]),
        "p50_ms": _ms(total["50%"]),
        "p99_ms": _ms(total["99%"]),
        "mean_ms": float(total["Average Response Time"]),
        "max_ms": float(total["Max Response Time"]),
    }


_children_seen = 0.0


def children_cpu() -> float:
    """CPU seconds of children reaped since the last call."""
    global _children_seen
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _children_seen = total - _children_seen, total
    return delta


def _ms(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def csv_body(rows: int, bodies: list[dict[str, Any]], prefix: str) -> str:
    """A LIMS-style CSV export: sample_id, the parameters, the objective, a measurement."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = list(bodies[0]["parameters"])
    writer.writerow(["sample_id", *names, "conductivity", "relative_density"])
    for i in range(rows):
        body = bodies[i % len(bodies)]
        writer.writerow(
            [
                f"{prefix}-{i:05d}",
                *(body["parameters"][n] for n in names),
                repr(body["objective"]),
                repr(body["measurements"]["relative_density"]),
            ]
        )
    return out.getvalue()


def post_csv(url: str, admin: str, rows: int, bodies: list[dict[str, Any]], run: int) -> dict:
    """Post a `rows`-row CSV to a new campaign; the client's wall time until the 201."""
    cid, token = campaign_with_token(url, admin, f"bench-csv-{run}")
    text = csv_body(rows, bodies, f"CSV{run}")
    started = time.perf_counter()
    response = requests.post(
        f"{url}{API}/campaigns/{cid}/results",
        data=text.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        timeout=120,
    )
    seconds = time.perf_counter() - started
    if response.status_code != 201 or response.json()["stored"] != rows:
        raise RuntimeError(f"CSV post: HTTP {response.status_code}: {response.text[:300]}")
    return {"rows": rows, "bytes": len(text), "seconds": seconds, "campaign_id": cid}
