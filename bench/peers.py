"""BayBE beside Kiln on bench-quality's problems, side by side in one run (`make bench-quality-peers`).

Runs bench/peers_baybe.py's BayBE (the opt-in `peers` extra) and bench-quality's methods
(kiln-service, kiln-library, random, and the paper's GP loop on pools) on the same problems,
seeds, initial points, noise and budgets, with bench-quality's own metrics and tables. BayBE
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
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import machine
from problems import Problem, load
from quality import RESULTS
from quality_methods import (
    KILN_METHODS,
    methods_for,
    peers_available,
    pools_supported,
    run_tasks,
    runs_of,
)
from quality_report import finish, plot, print_summary, report_head
from quality_summary import problem_facts, summarise

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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(SEEDS), help="comma-separated names")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per problem (all)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--baybe-only", action="store_true", help="run BayBE alone")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def report_problem(
    problem: Problem, results: list[dict[str, Any]], methods: list[str], out: Path
) -> dict[str, Any]:
    """Summarise, print and plot one problem beside BayBE; its entry in peers.json."""
    runs = runs_of(results, problem.name, methods)
    summary = summarise(problem, runs)
    print_summary(problem, summary)
    checks = compare(problem, summary)
    print_compare(checks)
    spaces = sorted({r["trace"]["space"] for r in runs["baybe"]})
    print(f"   BayBE's search space: {', '.join(spaces)}")
    plot(problem, summary, out / f"peers-{problem.name}.png")
    return {
        **problem_facts(problem),
        "goal": problem.goal,
        "baybe_space": spaces,
        "baybe_batch_seconds": [s for r in runs["baybe"] for s in r["trace"]["batch_seconds"]],
        "methods": summary,
        "kiln_vs_baybe": checks,
    }


def main(argv: list[str] | None = None) -> int:
    """Run BayBE and Kiln side by side; print the tables; write peers.json and the plots."""
    args = parse_args(argv)
    names = [n for n in args.problems.split(",") if n]
    seeds = {n: args.seeds or SEEDS.get(n, 5) for n in names}
    problems = {n: load(n) for n in names}
    if not peers_available():
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
    args.out.mkdir(parents=True, exist_ok=True)
    results, wall = run_tasks(tasks, args.jobs, "kiln-bench-peers-", started)
    report: dict[str, Any] = {
        **report_head(
            "bench-quality-peers",
            info,
            wall,
            {n: list(range(k)) for n, k in seeds.items()},
            args.jobs,
            pools,
        ),
        "peer": _peer_versions(),
        "problems": {},
    }
    for name in names:
        report["problems"][name] = report_problem(problems[name], results, methods(name), args.out)
    finish(report, args.out, "peers", wall)
    return 0


def _peer_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("baybe", "botorch", "gpytorch", "torch")}


if __name__ == "__main__":
    sys.exit(main())
