"""Virtual experiments fanned out over real Celery worker processes: 1 worker vs 3 workers.

Each run gets its own redis-server on a free port and its own worker processes (prefork pool of
one), started here and killed by process group at the end. Every repeat is a pure function of
its seed, so the table must not depend on how many workers shared the chunks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services import task_names
from kiln_services.devstack.redis_server import RedisServer
from kiln_services.store import Store
from kiln_services.worker.factory import make_celery

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PARAMS = {
    "strategies": ["ucb", "ei"],
    "n_inits": [5, 15],
    "repeats": 20,
    "noise_sd": 0.02,
    "kappa": 1.96,
    "xi": 0.01,
    "seed": 0,
    "chunk_size": 5,
}


def start_workers(url: str, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "REDIS_URL": url, "PYTHONUNBUFFERED": "1"}
    workers = []
    for i in range(count):
        # No -Q: a worker started without it consumes both queues.
        argv = [
            sys.executable, "-m", "celery", "-A", "kiln_services.worker.app", "worker",
            "--concurrency", "1", "--hostname", f"bench{i}-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        ]  # fmt: skip
        with (log_dir / f"worker{i}.log").open("wb") as log:  # the child keeps its own copy
            workers.append(
                subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
            )
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    for process in workers:
        process.wait(timeout=30)


def run_benchmark(tmp: Path, count: int, *, probe: bool = False) -> tuple[dict, float]:
    """Start Redis and `count` workers, run the benchmark; (result, wall seconds from enqueue).

    With `probe`, a batch of proposals is asked for once the benchmark runs: it must be done
    before the benchmark is (the benchmarks queue does not starve the proposals queue).
    """
    with RedisServer(tmp / "redis", appendfsync="everysec") as redis_server:
        store = Store.from_url(redis_server.url)
        campaign = store.campaigns.create(latp_campaign())
        store.results.append(campaign["id"], VirtualLatpLab(seed=0).seed_grid())
        workers = start_workers(redis_server.url, count, tmp)
        app = make_celery(redis_server.url)
        try:
            deadline = time.monotonic() + 120
            while len(store.workers.live()) < count:
                assert time.monotonic() < deadline, "workers did not start"
                assert all(w.poll() is None for w in workers), "a worker died"
                time.sleep(0.2)
            job, _ = store.jobs.create("benchmarks", campaign["id"], PARAMS)
            start = time.monotonic()
            app.send_task(task_names.BENCHMARK, args=[job["id"]], queue=task_names.BENCHMARKS_QUEUE)
            seen_running = None
            probe_job: str | None = None
            probe_done_first = False
            while True:
                state = store.jobs.get(job["id"])
                if state["state"] in ("done", "failed"):
                    break
                if state["progress"] and 0 < state["progress"]["done"] < state["progress"]["total"]:
                    seen_running = state["progress"]
                    if probe and probe_job is None:
                        probe_job = store.jobs.create("proposals", campaign["id"], {})[0]["id"]
                        app.send_task(
                            task_names.PROPOSE, args=[probe_job], queue=task_names.PROPOSALS_QUEUE
                        )
                if probe_job and store.jobs.get(probe_job)["state"] == "done":
                    probe_done_first = True
                assert time.monotonic() - start < 600, state
                time.sleep(0.05)
            wall = time.monotonic() - start
        finally:
            stop_workers(workers)
            app.close()
        assert state["state"] == "done", state["error"]
        assert state["progress"]["done"] == state["progress"]["total"] == 80
        assert seen_running is not None  # progress was visible while it ran
        if probe:
            assert probe_done_first, "the batch waited for the whole benchmark"
        return state["result"], wall


def test_one_and_three_workers_give_the_same_table(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "three").mkdir()
    one, one_s = run_benchmark(tmp_path / "one", 1, probe=True)
    three, three_s = run_benchmark(tmp_path / "three", 3)
    print(f"\nbenchmark 2 strategies x 2 n x 20 repeats: 1 worker {one_s:.1f} s, "
          f"3 workers {three_s:.1f} s")  # fmt: skip
    assert one["table"] == three["table"]
    assert one["recommended"] == three["recommended"]
    assert set(one["table"]) == {"ucb", "ei"}
    assert one["table"]["ucb"]["5"]["runs"] == 20
