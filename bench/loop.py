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
import secrets
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import machine
from harness.report import dash, header, log, publish
from loop_lab import Lab
from loop_profile import profile_refit
from loop_report import TARGET_P50_S, plot, print_table, stats

from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results"


def run_all(threads: list[threading.Thread]) -> None:
    """Start the threads and wait for every one."""
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def drive_labs(team: list[Lab], workers: int, loops: int) -> list[BaseException]:
    """`loops` loops shared out over the labs, each lab in its own thread; their errors."""
    labs = len(team)
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
                        f"{dash(out['refit_s'], '.2f')}, propose {dash(out['propose_s'], '.2f')}, "
                        f"notify {dash(out['notify_s'], '.2f')})"
                    )
        except BaseException as exc:  # reported after the others finish
            errors.append(exc)

    run_all(
        [
            threading.Thread(target=drive, args=(lab, n))
            for lab, n in zip(team, per_lab, strict=True)
        ]
    )
    return errors


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
        run_all([threading.Thread(target=lab.seed) for lab in team])
        errors = drive_labs(team, workers, loops)
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


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=50, help="loops per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--labs", type=int, nargs="+", default=[1, 3],
                        help="campaigns driven at once")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--var-dir", type=Path, help="keep Redis data and logs here")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="time and profile the refit (auto: if a target is missed)")  # fmt: skip
    return parser.parse_args()


def targets_of(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One target per setting: the p50 latency."""
    return [
        {
            "what": f"p50 < {TARGET_P50_S:.0f} s, {s['workers']} worker(s), {s['labs']} lab(s), "
            f"n <= {s['n_max']}",
            "met": s["p50_s"] < TARGET_P50_S,
            "value": f"p50 {s['p50_s']:.2f} s, p95 {s['p95_s']:.2f} s",
        }
        for s in settings
    ]


def main() -> int:
    args = parse_args()
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
    targets = targets_of(settings)
    profile: dict[str, Any] = {}
    missed = not all(t["met"] for t in targets)
    if args.profile == "always" or (args.profile == "auto" and missed):
        n_max = max(s["n_max"] for s in settings)
        log(f"a target is missed: timing and profiling the refit at n = {n_max} in-process")
        profile = profile_refit(n_max, args.out)
    publish(args.out, "loop", payload_of(info, settings, targets, profile), plot, print_table)
    return 0


def payload_of(
    info: dict[str, Any],
    settings: list[dict[str, Any]],
    targets: list[dict[str, Any]],
    profile: dict[str, Any],
) -> dict[str, Any]:
    """loop.json: the set-up, the machine, every setting's loops, the targets, the profile."""
    setup = (
        "devstack.Stack: gunicorn (2 x 8 threads), Celery prefork, Redis AOF always; "
        "LATP preset (q = 6, UCB, Kriging believer), auto_batch, seed grid of 80"
    )
    return {
        **header("loop", setup, info),
        "settings": settings,
        "targets": targets,
        "profile": profile,
    }


if __name__ == "__main__":
    sys.exit(main())
