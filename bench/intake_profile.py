"""bench-intake's profile of the post path, in-process (Flask's test client against the bench's
Redis): CPU per post against the no-op app, py-spy samples and pyinstrument call trees."""

from __future__ import annotations

import collections
import importlib
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.profiles import profile_to_file
from intake_load import csv_body
from intake_servers import API

from kiln_services.intake import create_app


def profile_post_path(
    redis_url: str, admin: str, bodies: list[dict[str, Any]], out: Path
) -> dict[str, Any]:
    """Profile the intake's post path in-process (Flask's test client, the bench's Redis).

    - CPU per post, intake against the no-op app, in this one process;
    - py-spy sampling this process (CPU samples: idle waits on Redis are left out), summarised
      into intake-profile-cpu.txt;
    - pyinstrument (wall clock, so Redis waits show) over the same posts and over one
      10,000-row CSV: intake-profile-single.txt, intake-profile-csv.txt.
    """
    logging.disable(logging.INFO)  # no access line per profiled request on the screen
    try:
        client, path, headers = _profiled_campaign(redis_url, admin)
        noop = noop_app().create_app().test_client()
        _posts(client, path, headers, bodies, "W", 100)  # warm-up: imports, connections, caches
        _posts(noop, path, headers, bodies, "W", 100)
        cpu: dict[str, list[float]] = {"intake": [], "noop": []}
        for k in range(3):
            cpu["intake"].append(_posts(client, path, headers, bodies, f"C{k}-", 500))
            cpu["noop"].append(_posts(noop, path, headers, bodies, f"C{k}-", 500))
        sampled = py_spy_profile(
            lambda: _posts(client, path, headers, bodies, "S", 3000),
            out / "intake-profile-cpu.txt",
        )
        profile_to_file(
            lambda: _posts(client, path, headers, bodies, "P", 2000),
            out / "intake-profile-single.txt",
            interval=0.0005,
        )
        text = csv_body(10_000, bodies, "PCSV")
        csv_headers = {**headers, "Content-Type": "text/csv"}
        answers: list[Any] = []
        profile_to_file(
            lambda: answers.append(client.post(path, data=text, headers=csv_headers)),
            out / "intake-profile-csv.txt",
            interval=0.001,
        )
        assert answers[0].status_code == 201, answers[0].get_data(as_text=True)[:300]
    finally:
        logging.disable(logging.NOTSET)
    files = ["intake-profile-single.txt", "intake-profile-csv.txt"]
    return {
        "cpu_ms_per_post": {k: 1000 * min(v) for k, v in cpu.items()},
        "files": (["intake-profile-cpu.txt"] if sampled else []) + files,
    }


def _profiled_campaign(redis_url: str, admin: str) -> tuple[Any, str, dict[str, str]]:
    """The intake app's test client, a new campaign's results path and a write token's headers."""
    app = create_app({"REDIS_URL": redis_url, "KILN_ADMIN_TOKEN": admin})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {admin}"}
    created = client.post(
        f"{API}/campaigns", json={"preset": "latp", "name": "profile"}, headers=auth
    )
    cid = created.get_json()["id"]
    token = client.post(
        f"{API}/tokens",
        json={"scope": "write", "name": "profile", "campaign_id": cid},
        headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return client, f"{API}/campaigns/{cid}/results", headers


def _posts(
    target: Any, path: str, headers: dict[str, str], bodies: list[dict[str, Any]], tag: str, n: int
) -> float:
    """CPU seconds per post of `n` new results."""
    payloads = [json.dumps({**bodies[i % len(bodies)], "sample_id": f"{tag}{i}"}) for i in range(n)]
    started = time.process_time()
    for payload in payloads:
        response = target.post(path, data=payload, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
    return (time.process_time() - started) / n


def noop_app() -> Any:
    """bench/noop_app.py as a module (this script's directory is on sys.path)."""
    return importlib.import_module("noop_app")


def py_spy_profile(work: Any, path: Path) -> bool:
    """Run `work()` while py-spy samples this process; write a summary to `path`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        return False
    raw = path.with_suffix(".raw")
    sampler = subprocess.Popen(
        [str(py_spy), "record", "--pid", str(os.getpid()), "--nonblocking", "--rate", "500",
         "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # attached
    try:
        work()
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C
        sampler.wait(timeout=30)
    if not raw.exists():
        return False
    path.write_text(summarise_samples(raw.read_text()))
    raw.unlink()
    return True


def summarise_samples(raw: str) -> str:
    """Where the post path's CPU samples fall: Kiln's own frames inclusive, then the hottest
    leaves. Samples waiting in a socket (Redis replies) are counted apart."""
    waiting = re.compile(r"_read_from_socket|sendall|select \(selectors")
    inclusive: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    on_cpu = in_socket = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")]
        if not any("Client.open" in f for f in frames):
            continue  # not a request (the sampler, the loop)
        n = int(count)
        if waiting.search(frames[-1]):
            in_socket += n
            continue
        on_cpu += n
        for frame in set(frames):
            inclusive[frame] += n
        leaves[frames[-1]] += n
    ours = re.compile(r"\((intake|store|kiln)/|Flask\.(preprocess|process)_request|Schema\.load")
    lines = [
        "py-spy samples of POST .../results in-process (Flask test client, real Redis)",
        f"{on_cpu} samples on CPU; {in_socket} more waiting in a socket (left out below)",
        "",
        "inclusive share of the CPU samples (Kiln's frames, request hooks, schema loads):",
    ]
    lines += [
        f"{100 * n / on_cpu:5.1f}%  {frame}"
        for frame, n in inclusive.most_common()
        if ours.search(frame) and n / on_cpu >= 0.005
    ]
    lines += ["", "hottest leaves (self time):"]
    lines += [f"{100 * n / on_cpu:5.1f}%  {frame}" for frame, n in leaves.most_common(25)]
    return "\n".join(lines) + "\n"
