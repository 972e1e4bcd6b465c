"""BayBE beside Kiln on bench-quality's problems, side by side in one run (`make bench-quality-peers`).

Runs bench/peers_baybe.py's BayBE (the opt-in `peers` extra) and bench/quality.py's methods
(kiln-service, kiln-library, random, and the paper's GP loop on pools) on the same problems,
seeds, initial points, noise and budgets, with bench/quality.py's own metrics and tables. BayBE
takes 3-15 s per batch on the grid problems (Kiln well under one), so it runs on fewer seeds than
`make bench-quality`: ``SEEDS`` per problem by default (said in the output), all methods on the
same seeds so every comparison is paired.

Usage: ``make bench-quality-peers`` or ``.venv/bin/python bench/peers.py [--problems a,b]
[--seeds N] [--jobs 2] [--baybe-only]``. Writes bench/results/peers.json and
bench/results/peers-<problem>.png; prints a table per problem and where Kiln's median is behind
BayBE's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import quality
from quality import (
    KILN_METHODS,
    RESULTS,
    RedisServer,
    load,
    machine,
    methods_for,
    pools_supported,
    run_one,
)

#: Seeds per problem of a default run: about 30 minutes on the 2 shared cores (BayBE's grid
#: batches take 3-15 s each; its pool batches under 2 s, so the pools get more seeds).
SEEDS = {
    "latp": 5,
    "hartmann6": 5,
    "branin-cat": 5,
    "decoy-3d": 5,
    "mixed-4": 5,
    "crossed-barrel": 10,
    "agnp": 10,
}


def _median(summary: Mapping[str, Any], problem: Any, method: str) -> dict[str, float | None]:
    """The median a comparison reads: final regret (grids) or experiments to 50 / 80 % (pools)."""
    s = summary[method]
    if problem.pool is None:
        return {"regret": s["final"]["regret"][1]}
    return {lv: s["levels"][lv]["needed_quartiles"][1] for lv in ("50%", "80%")}


def compare(problem: Any, summary: Mapping[str, Any]) -> dict[str, Any]:
    """Kiln's medians against BayBE's (lower is better for both: regret, experiments needed)."""
    if "baybe" not in summary:
        return {}
    peer = _median(summary, problem, "baybe")
    out: dict[str, Any] = {"baybe": peer}
    for method in KILN_METHODS:
        if method not in summary:
            continue
        mine = _median(summary, problem, method)
        out[method] = {
            "median": mine,
            "at_least_as_good": {
                k: mine[k] is not None and (peer[k] is None or mine[k] <= peer[k]) for k in mine
            },
        }
    return out


def print_compare(checks: Mapping[str, Any]) -> None:
    """One line per Kiln method: its medians beside BayBE's."""
    if not checks:
        return
    peer = checks["baybe"]
    for method in KILN_METHODS:
        if method not in checks:
            continue
        c = checks[method]
        pairs = "; ".join(
            f"{k} {_num(c['median'][k])} vs BayBE {_num(peer[k])}: "
            + ("at least as good" if c["at_least_as_good"][k] else "BEHIND")
            for k in c["median"]
        )
        print(f"   {method} median {pairs}")


def _num(x: float | None) -> str:
    return "inf" if x is None else f"{x:.3g}"


def main(argv: list[str] | None = None) -> int:
    """Run BayBE and Kiln side by side; print the tables; write peers.json and the plots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(SEEDS), help="comma-separated names")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per problem (all)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--baybe-only", action="store_true", help="run BayBE alone")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = [n for n in args.problems.split(",") if n]
    seeds = {n: args.seeds or SEEDS.get(n, 5) for n in names}
    problems = {n: load(n) for n in names}
    if not quality.peers_available():
        print("bench-quality-peers: BayBE is not installed (make bench-quality-peers installs it)")
        return 1
    pools = pools_supported()

    def methods(name: str) -> list[str]:
        if args.baybe_only:
            return ["baybe"]
        return methods_for(problems[name], pools=pools, peers=True)

    info = machine.describe()
    print(f"bench-quality-peers: {machine.summary(info)}")
    print(
        "seeds per problem (the same for every method): "
        + ", ".join(f"{n} {k}" for n, k in seeds.items())
        + f"; {args.jobs} processes, one BLAS / torch thread each"
    )
    tasks = [(n, m, s) for n in names for m in methods(n) for s in range(seeds[n])]
    order = {"baybe": 0, "kiln-library": 1, "kiln-service": 2, "paper-gp": 3, "random": 4}
    tasks.sort(key=lambda t: (order[t[1]], -seeds[t[0]], t[0], t[2]))
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="kiln-bench-peers-") as tmp,
        RedisServer(Path(tmp)) as redis_server,
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
    ):
        futures = {
            pool.submit(run_one, n, None, m, s, redis_server.url): (n, m, s) for n, m, s in tasks
        }
        for done, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            if done % max(1, len(tasks) // 20) == 0 or done == len(tasks):
                print(
                    f"  {done}/{len(tasks)} runs, {time.perf_counter() - started:.0f} s", flush=True
                )
    wall = time.perf_counter() - started
    report: dict[str, Any] = {
        "benchmark": "bench-quality-peers",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "load_average_after": machine.load_average(),
        "wall_seconds": wall,
        "seeds": {n: list(range(k)) for n, k in seeds.items()},
        "jobs": args.jobs,
        "pools_supported": pools,
        "peer": _peer_versions(),
        "problems": {},
    }
    for name in names:
        problem = problems[name]
        runs = {
            m: sorted(
                (r for r in results if r["problem"] == name and r["method"] == m),
                key=lambda r: r["seed"],
            )
            for m in methods(name)
        }
        if problem.pool is None:
            summary = quality.summarise_grid(problem, runs)
            quality.print_grid(problem, summary)
        else:
            summary = quality.summarise_pool(problem, runs)
            quality.print_pool(problem, summary)
        checks = compare(problem, summary)
        print_compare(checks)
        spaces = sorted({r["trace"]["space"] for r in runs["baybe"]})
        print(f"   BayBE's search space: {', '.join(spaces)}")
        quality.plot(problem, summary, args.out / f"peers-{name}.png")
        report["problems"][name] = {
            "description": problem.description,
            "n_init": problem.n_init,
            "batch_size": problem.batch_size,
            "n_batches": problem.n_batches,
            "goal": problem.goal,
            "baybe_space": spaces,
            "baybe_batch_seconds": [s for r in runs["baybe"] for s in r["trace"]["batch_seconds"]],
            "methods": summary,
            "kiln_vs_baybe": checks,
        }
    print(
        f"\nwall time {wall:.0f} s; load average before {info['load_average']}, after "
        f"{report['load_average_after']}"
    )
    path = args.out / "peers.json"
    path.write_text(json.dumps(quality._finite(report), indent=1, allow_nan=False) + "\n")
    print(f"wrote {path} and {args.out}/peers-<problem>.png")
    return 0


def _peer_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("baybe", "botorch", "gpytorch", "torch")}


if __name__ == "__main__":
    sys.exit(main())
