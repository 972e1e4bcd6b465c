"""End-to-end latency: results posted -> a batch made with them, at a long-polling client.

Starts the whole stack as `make run` does (devstack.Stack: Redis on a free port, the intake
under gunicorn, one Celery worker with `--concurrency` 1 or 3) and drives it with kiln_client
as a lab would: the virtual LATP lab measures the 80-point seed grid, then each loop

1. takes the latest batch (q = 6 proposals), measures its proposals in the virtual lab;
2. a long-polling client waits on GET .../proposals/latest?wait=S with the batch's ETag;
3. the clock starts, the batch's results are posted in one request (naming their proposals);
4. the clock stops when the long-poll returns a *new* batch whose data_version covers the
   post's data_version, i.e. a batch proposed with those results in the data.

What "includes it" means here: with auto_batch (the default), the service makes a new batch only
when the latest one is fully measured, after the refit that follows the results. So one loop is
the lab's real cycle - the batch's last results in, the next batch out - and the measured time
is refit + proposal + the long-poll's wake-up. An answer that only reports the old batch with
its proposals now measured (the ETag changes on that too) does not stop the clock.

Runs `--labs` campaigns at once (each its own lab thread) against 1 and 3 worker processes,
`--loops` loops in all per setting (n stays <= 80 + 6 * loops per campaign). Each loop's server
timestamps split the latency: post answered, model saved (refit), batch stored (proposal), seen
by the client (long-poll wake-up). Writes bench/results/loop.json and loop.png.

Run: ``make bench-loop`` (or ``.venv/bin/python bench/loop.py --loops 10`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import machine

from kiln.lab import VirtualLatpLab
from kiln_client.client import Client
from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_P50_S = 2.0
LONG_POLL_S = 30.0


def log(message: str) -> None:
    print(message, flush=True)


def epoch(iso: str | None) -> float | None:
    """Seconds since the epoch of a server timestamp (ISO 8601, UTC, 'Z')."""
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pending(batch: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in batch["proposals"] if p.get("status", "pending") == "pending"]


class Lab:
    """One lab: a campaign, a client posting results and a client long-polling for batches."""

    def __init__(self, url: str, token: str, name: str, seed: int) -> None:
        self.poster = Client(url, token=token)
        self.poller = Client(url, token=token)
        self.lab = VirtualLatpLab(seed=seed)
        campaign = self.poster.create_campaign(preset="latp", name=name)
        self.cid = campaign["id"]
        self.name = name
        self.batch: dict[str, Any] | None = None
        self.etag: str | None = None
        self.loops: list[dict[str, Any]] = []

    def seed(self) -> None:
        """Post the seed grid and wait for the first batch (not timed)."""
        posted = self.poster.post_results(self.cid, self.lab.seed_grid())
        self.batch, self.etag = self.wait_for_batch(None, int(posted["data_version"]))

    def wait_for_batch(self, old_id: str | None, data_version: int) -> tuple[dict, str | None]:
        """Long-poll until a batch other than `old_id`, made from >= `data_version` results."""
        etag = self.etag
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            latest = self.poller.poll_proposals(self.cid, etag=etag, wait=LONG_POLL_S)
            etag = latest.etag
            batch = latest.batch
            if (
                batch is not None
                and batch["batch_id"] != old_id
                and int(batch["data_version"]) >= data_version
            ):
                return dict(batch), etag
            if latest.batch is None and etag is None:
                time.sleep(0.2)  # no batch at all yet: 404 answers at once
        raise TimeoutError(f"{self.name}: no batch with data_version >= {data_version}")

    def loop(self, index: int) -> dict[str, Any]:
        """One cycle; returns its timings."""
        assert self.batch is not None
        old = self.batch
        results = [
            {
                "sample_id": f"{self.name}-L{index:03d}-{k}",
                "proposal_id": p["id"],
                "parameters": p["parameters"],
                **self.lab.measure(p["parameters"], rng=index * 100 + k),
            }
            for k, p in enumerate(pending(old))
        ]
        seen: dict[str, Any] = {}
        ready = threading.Event()

        def long_poll() -> None:
            ready.set()
            # The data_version to wait for is known once the post answers; until then any new
            # batch id made from more data than the old batch will do, and is checked below.
            seen["batch"], seen["etag"] = self.wait_for_batch(
                old["batch_id"], int(old["data_version"]) + 1
            )
            seen["at"] = time.time()

        poller = threading.Thread(target=long_poll, name=f"{self.name}-poll", daemon=True)
        poller.start()
        ready.wait()
        time.sleep(0.05)  # the long-poll is in flight
        started = time.time()
        posted = self.poster.post_results(self.cid, results)
        answered = time.time()
        poller.join(timeout=300)
        if "at" not in seen:
            raise TimeoutError(f"{self.name}: loop {index}: no new batch")
        batch = seen["batch"]
        if int(batch["data_version"]) < int(posted["data_version"]):
            raise AssertionError(
                f"{self.name}: batch {batch['batch_id']} was made from "
                f"{batch['data_version']} results, the post made {posted['data_version']}"
            )
        model = self.poster.model(self.cid)
        self.batch, self.etag = batch, seen["etag"]
        fitted = (
            epoch(model.get("fitted_at"))
            if model["data_version"] == batch["data_version"]
            else None
        )
        created = epoch(batch.get("created_at"))
        out = {
            "lab": self.name,
            "loop": index,
            "n": int(posted["data_version"]),
            "latency_s": seen["at"] - started,
            "post_s": answered - started,
            "refit_s": None if fitted is None else fitted - answered,
            "propose_s": None if fitted is None or created is None else created - fitted,
            "notify_s": None if created is None else seen["at"] - created,
            "batch_model_version": batch.get("model_version"),
            "stored": posted["stored"],
            "measured_proposals": len(posted.get("measured_proposals", [])),
        }
        self.loops.append(out)
        return out


def run_setting(workers: int, labs: int, loops: int, var_dir: Path) -> dict[str, Any]:
    """Start a stack with `workers` worker processes; run `loops` loops over `labs` labs."""
    admin = secrets.token_urlsafe(24)
    stack = Stack(
        var_dir / f"w{workers}-l{labs}",
        port=free_port(),
        redis_port=free_port(),
        admin_token=admin,
        worker_concurrency=workers,
    )
    assert stack.redis is not None and stack.redis.port != 6379
    load_before = machine.load_average()
    with stack:
        stack.wait_ready()
        team = [Lab(stack.base_url, admin, f"lab{i}", seed=i) for i in range(labs)]
        threads = [threading.Thread(target=lab.seed) for lab in team]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        per_lab = [loops // labs + (1 if i < loops % labs else 0) for i in range(labs)]
        done = [0]
        lock = threading.Lock()
        errors: list[BaseException] = []

        def drive(lab: Lab, count: int) -> None:
            try:
                for i in range(count):
                    out = lab.loop(i)
                    with lock:
                        done[0] += 1
                        log(
                            f"  [{workers} worker{'s' if workers > 1 else ''}, {labs} lab"
                            f"{'s' if labs > 1 else ''}] {done[0]:>3}/{loops} {lab.name} "
                            f"n={out['n']:<4} {out['latency_s']:6.2f} s  (refit "
                            f"{_s(out['refit_s'])}, propose {_s(out['propose_s'])}, notify "
                            f"{_s(out['notify_s'])})"
                        )
            except BaseException as exc:  # reported after the others finish
                errors.append(exc)

        threads = [
            threading.Thread(target=drive, args=(lab, n))
            for lab, n in zip(team, per_lab, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"a lab failed; stack logs:\n{stack.logs()}") from errors[0]
    rows = [row for lab in team for row in lab.loops]
    return {
        "workers": workers,
        "labs": labs,
        "loops": rows,
        "load_average_before": load_before,
        "load_average_after": machine.load_average(),
        **stats(rows),
    }


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (linear interpolation between order statistics)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [r["latency_s"] for r in rows]
    out: dict[str, Any] = {
        "p50_s": quantile(latencies, 0.5),
        "p95_s": quantile(latencies, 0.95),
        "max_s": max(latencies),
        "n_max": max(r["n"] for r in rows),
    }
    for part in ("post_s", "refit_s", "propose_s", "notify_s"):
        values = [r[part] for r in rows if r[part] is not None]
        out[f"median_{part}"] = statistics.median(values) if values else None
    return out


def profile_refit(n: int, out: Path) -> dict[str, Any]:
    """What a refit at `n` observations costs, in-process: the worker's cold fit (as the
    pipeline runs it) against a fit warm-started from the model before the last 6 results.

    Writes a pyinstrument profile of the cold fit to loop-profile-refit.txt.
    """
    import numpy as np
    from pyinstrument import Profiler

    from kiln.model.fitted import fit_model
    from kiln.objective import Objective
    from kiln.presets import latp_campaign
    from kiln.space import SearchSpace

    campaign = latp_campaign()
    space = SearchSpace.from_dict({"parameters": campaign["parameters"], "version": 1})
    objective = Objective.from_dict(campaign["objective"])
    lab = VirtualLatpLab(seed=0)
    observations = lab.seed_grid()
    grid = space.grid()
    picks = np.random.default_rng(1).choice(len(grid), max(0, n - len(observations)), replace=False)
    observations += [{"parameters": grid[i], **lab.measure(grid[i], rng=int(i))} for i in picks]
    observations = observations[:n]
    rows = []
    for size in sorted({min(n, 86), min(n, 200), n}):
        data = observations[:size]
        started = time.perf_counter()
        cold = fit_model(space, objective, data, random_state=0)
        cold_s = time.perf_counter() - started
        earlier = fit_model(space, objective, data[:-6], random_state=0)
        started = time.perf_counter()
        warm = fit_model(space, objective, data, random_state=0, warm_start=earlier, n_restarts=0)
        warm_s = time.perf_counter() - started
        rows.append(
            {
                "n": size,
                "cold_fit_s": cold_s,
                "warm_fit_s": warm_s,
                "cold_log_marginal_likelihood": cold.surrogate.log_marginal_likelihood_,
                "warm_log_marginal_likelihood": warm.surrogate.log_marginal_likelihood_,
            }
        )
        log(
            f"  refit at n={size}: cold fit (5 restarts, as the worker runs it) {cold_s:.2f} s; "
            f"warm start from the previous model, no restarts {warm_s:.2f} s (log marginal "
            f"likelihood {rows[-1]['cold_log_marginal_likelihood']:.2f} vs "
            f"{rows[-1]['warm_log_marginal_likelihood']:.2f})"
        )
    profiler = Profiler(interval=0.001)
    profiler.start()
    fit_model(space, objective, observations, random_state=0)
    profiler.stop()
    (out / "loop-profile-refit.txt").write_text(
        profiler.output_text(unicode=True, color=False, show_all=False)
    )
    return {"fits": rows, "files": ["loop-profile-refit.txt"]}


def print_table(payload: dict[str, Any]) -> None:
    log("")
    log(f"Results posted -> next batch at a long-polling client ({payload['setup']})")
    log(f"machine: {machine.summary(payload['machine'])}")
    header = (
        f"{'workers':>7} {'labs':>4} {'loops':>5} {'n max':>5} {'p50 s':>6} {'p95 s':>6} "
        f"{'max s':>6} | {'post':>5} {'refit':>5} {'propose':>7} {'notify':>6}  load"
    )
    log(header)
    log("-" * len(header))
    for s in payload["settings"]:
        log(
            f"{s['workers']:>7} {s['labs']:>4} {len(s['loops']):>5} {s['n_max']:>5} "
            f"{s['p50_s']:6.2f} {s['p95_s']:6.2f} {s['max_s']:6.2f} | "
            f"{_s(s['median_post_s']):>5} {_s(s['median_refit_s']):>5} "
            f"{_s(s['median_propose_s']):>7} {_s(s['median_notify_s']):>6}  "
            f"{s['load_average_before'][0]:.1f}-{s['load_average_after'][0]:.1f}"
        )
    log("(post | refit | propose | notify: medians of the parts, from server timestamps;")
    log(" load: 1-minute load average before and after the setting)")
    log("")
    for check in payload["targets"]:
        log(f"{'MET ' if check['met'] else 'MISS'} {check['what']}: {check['value']}")


def plot(payload: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    ax = axes[0]
    for s in payload["settings"]:
        rows = sorted(s["loops"], key=lambda r: r["n"])
        ax.plot(
            [r["n"] for r in rows],
            [r["latency_s"] for r in rows],
            ".",
            label=f"{s['workers']} worker(s), {s['labs']} lab(s): p50 {s['p50_s']:.2f} s",
        )
    ax.axhline(TARGET_P50_S, color="k", ls="--", lw=1)
    ax.set_xlabel("observations in the campaign (n)")
    ax.set_ylabel("results posted -> next batch seen [s]")
    ax.set_title("each loop (dashed: p50 target)")
    ax.legend(fontsize=8)
    ax = axes[1]
    parts = ("post_s", "refit_s", "propose_s", "notify_s")
    labels = [f"{s['workers']}w/{s['labs']}l" for s in payload["settings"]]
    bottom = [0.0] * len(labels)
    for part in parts:
        heights = [s[f"median_{part}"] or 0.0 for s in payload["settings"]]
        ax.bar(labels, heights, bottom=bottom, label=part.removesuffix("_s"))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("median seconds")
    ax.set_title("where the time goes (workers / labs)")
    ax.legend(fontsize=8)
    fig.suptitle(
        f"Kiln closed loop, {payload['machine']['cpus']} CPUs, load "
        f"{payload['machine']['load_average'][0]}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=50, help="loops per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--labs", type=int, nargs="+", default=[1, 3],
                        help="campaigns driven at once")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--var-dir", type=Path, help="keep Redis data and logs here")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="time and profile the refit (auto: if a target is missed)")  # fmt: skip
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine.describe()
    log(f"bench-loop: {machine.summary(info)}")
    settings = []
    with tempfile.TemporaryDirectory(prefix="kiln-bench-loop-") as tmp:
        var_dir = args.var_dir.resolve() if args.var_dir else Path(tmp)
        for labs in args.labs:
            for workers in args.workers:
                log(f"setting: {workers} worker process(es), {labs} lab(s), {args.loops} loops")
                settings.append(run_setting(workers, labs, args.loops, var_dir))
    targets = [
        {
            "what": f"p50 < {TARGET_P50_S:.0f} s, {s['workers']} worker(s), {s['labs']} lab(s), "
            f"n <= {s['n_max']}",
            "met": s["p50_s"] < TARGET_P50_S,
            "value": f"p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s",
        }
        for s in settings
    ]
    profile: dict[str, Any] = {}
    missed = not all(t["met"] for t in targets)
    if args.profile == "always" or (args.profile == "auto" and missed):
        n_max = max(s["n_max"] for s in settings)
        log(f"a target is missed: timing and profiling the refit at n = {n_max} in-process")
        profile = profile_refit(n_max, args.out)
    payload = {
        "benchmark": "loop",
        "setup": "devstack.Stack: gunicorn (2 x 8 threads), Celery prefork, Redis AOF always; "
        "LATP preset (q = 6, UCB, Kriging believer), auto_batch, seed grid of 80",
        "machine": info,
        "load_average_after": machine.load_average(),
        "settings": settings,
        "targets": targets,
        "profile": profile,
    }
    (args.out / "loop.json").write_text(json.dumps(payload, indent=2) + "\n")
    plot(payload, args.out / "loop.png")
    print_table(payload)
    log(f"wrote {args.out / 'loop.json'} and {args.out / 'loop.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
