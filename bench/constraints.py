"""Furnace runs to a good LATP pellet: batches that share one firing against free batches.

The problem: the virtual LATP lab (kiln.lab) on the ``latp-furnace`` preset (kiln.presets): the
iteration 3-4 grid without the forbidden hot long holds. One furnace fires one temperature and
holding time per run, so a batch whose six pellets need six firings costs six furnace runs.

Methods, each from no data, the same seeds and the same noise stream per sample index:

- ``kiln-shared``: ``propose`` with the preset's strategy (batch 6, ``batch_shared``
  temperature + time, one group): one furnace run per batch;
- ``kiln-free``: ``propose`` with batch 6 and no sharing; a batch costs as many furnace runs as it
  has distinct (temperature, time) settings;
- ``random``: a random feasible firing with 6 distinct random acid levels per run.

Metric: furnace runs until a measured pellet's TRUE conductivity reaches 95 % of the best
feasible grid point's (15 of the 2,394 feasible points qualify, each with its own firing); runs
that do not within the budget count as the budget (censored, reported). Also the time of each
``propose`` call (fit + batch), per method.

Opt-in peers (``--peers``, the ``peers`` extra, bench/peers_constraints.py): BayBE 0.15 on the
same grid, seeds and noise, one furnace as a ``DiscreteBatchConstraint`` on temperature and on
time; ``baybe`` tries 10 random firings per batch (BayBE's default ``max_n_subsets``),
``baybe-all`` every feasible firing.

Usage: ``make bench-constraints`` (10 seeds, budget 60 runs; about 2 min on the loaded 2-core
machine) or ``.venv/bin/python bench/constraints.py [--seeds N] [--budget R] [--full]
[--methods a,b] [--peers] [--max-wall S]`` (``--full``: 20 seeds). Writes
bench/results/constraints.json (with ``--peers``: constraints-peers.json, rewritten after every
seed); prints the seeds and steps. ``make bench-constraints-peers``: 20 seeds with the peers,
starting no new seed after 30 min.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import machine
import numpy as np

from kiln.lab import VirtualLatpLab
from kiln.objective import Objective
from kiln.presets import latp_furnace_campaign
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("kiln-shared", "kiln-free", "random")
#: With ``--peers`` (bench/peers_constraints.py): BayBE trying ``--baybe-subsets`` random firings
#: per batch (its default, 10), and BayBE trying every feasible firing per batch.
PEERS = ("baybe", "baybe-all")
#: Methods started on no new seed once ``--max-wall`` has passed (the others run every seed).
SLOW = ("baybe-all",)
TARGET = 0.95
FIRING = ("temperature_c", "time_min")


class Furnace:
    """The lab, the feasible grid's truth and the target, for one campaign."""

    def __init__(self) -> None:
        body = latp_furnace_campaign()
        self.body = body
        self.space = SearchSpace.from_dict(
            {"parameters": body["parameters"], "constraints": body["constraints"]}
        )
        self.objective = Objective.from_dict(body["objective"])
        self.lab = VirtualLatpLab(seed=0)
        self.grid = self.space.candidates(np.random.default_rng(0))
        self.best = float(max(self.conductivity(p) for p in self.grid))

    def conductivity(self, p: dict[str, Any]) -> float:
        truth = self.lab.truth(p["acid_wt_pct"], p["temperature_c"], p["time_min"])
        return float(truth["conductivity"])

    def reached(self, p: dict[str, Any]) -> bool:
        return self.conductivity(p) >= TARGET * self.best


def kiln_batches(furnace: Furnace, shared: bool) -> Callable[[list[dict[str, Any]], int], Any]:
    strategy = dict(furnace.body["strategy"])
    if not shared:
        strategy.pop("batch_shared")
    st = Strategy.from_dict(strategy)

    def batch(observations: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
        out = propose(furnace.space, furnace.objective, observations, [], st, random_state=seed)
        return [p.parameters for p in out.proposals]

    return batch


def random_batch(furnace: Furnace, rng: np.random.Generator) -> list[dict[str, Any]]:
    firings = sorted({tuple(p[n] for n in FIRING) for p in furnace.grid})
    firing = firings[int(rng.integers(len(firings)))]
    rows = [p for p in furnace.grid if tuple(p[n] for n in FIRING) == firing]
    picks = rng.choice(len(rows), size=min(6, len(rows)), replace=False)
    return [rows[i] for i in picks]


def batches(furnace: Furnace, method: str, subsets: int) -> Callable[..., Any] | None:
    """The batch function of a method (None: random); :data:`PEERS` need the peers extra."""
    if method == "random":
        return None
    if method in PEERS:
        from peers_constraints import baybe_batches  # the opt-in peers extra

        strategy = furnace.body["strategy"]
        return baybe_batches(
            furnace.grid, furnace.body["constraints"], strategy["batch_shared"]["parameters"],
            furnace.body["objective"]["name"], strategy["batch_size"],
            len(furnace.grid) if method == "baybe-all" else subsets,
        )  # fmt: skip
    return kiln_batches(furnace, method == "kiln-shared")


def run(furnace: Furnace, method: str, seed: int, budget: int, subsets: int = 10) -> dict[str, Any]:
    """One seed of one method: furnace runs to the target (or the budget) and batch times."""
    rng = np.random.default_rng([seed, 17])
    propose_batch = batches(furnace, method, subsets)
    observations: list[dict[str, Any]] = []
    runs, times, cpu, steps = 0, [], [], 0
    while runs < budget:
        started, cpu_started = time.perf_counter(), time.process_time()
        if propose_batch is None:
            batch = random_batch(furnace, rng)
        else:
            batch = propose_batch(observations, seed * 1000 + steps)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        steps += 1
        firings = len({tuple(p[n] for n in FIRING) for p in batch})
        for p in batch:
            noise = np.random.default_rng([seed, 99, len(observations)])
            measured = furnace.lab.measure(p, noise)
            observations.append({"parameters": p, "objective": measured["objective"]})
        # a free batch is fired setting by setting: stop at the run that made the target
        for k, firing in enumerate(_firing_order(batch), 1):
            if any(furnace.reached(p) for p in batch if tuple(p[n] for n in FIRING) == firing):
                return {"method": method, "seed": seed, "runs": runs + k, "reached": True,
                        "steps": steps, "batch_s": times, "batch_cpu_s": cpu}  # fmt: skip
        runs += firings
    return {"method": method, "seed": seed, "runs": budget, "reached": False, "steps": steps,
            "batch_s": times, "batch_cpu_s": cpu}  # fmt: skip


def _firing_order(batch: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    for p in batch:
        f = tuple(p[n] for n in FIRING)
        if f not in seen:
            seen.append(f)
    return seen


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method in dict.fromkeys(r["method"] for r in results):
        rows = [r for r in results if r["method"] == method]
        if not rows:
            continue
        runs = np.array([r["runs"] for r in rows], dtype=float)
        times = np.concatenate([r["batch_s"] for r in rows])
        cpu = np.concatenate([r["batch_cpu_s"] for r in rows])
        out[method] = {
            "seeds": len(rows),
            "reached": int(sum(r["reached"] for r in rows)),
            "runs_q25_median_q75": [float(np.percentile(runs, q)) for q in (25, 50, 75)],
            "runs_mean": float(runs.mean()),
            "batch_s_median": float(np.median(times)),
            "batch_s_max": float(times.max()),
            "batch_cpu_s_median": float(np.median(cpu)),
            "batches": int(times.size),
        }
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds (default 10, --full 20)")
    parser.add_argument("--budget", type=int, default=60, help="furnace runs per seed")
    parser.add_argument("--full", action="store_true", help="20 seeds")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default bench/results/constraints.json (constraints-peers.json)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help=f"add {PEERS} (the peers extra; bench/peers_constraints.py)",
    )
    parser.add_argument("--methods", default=None, help=f"comma-separated subset of {METHODS}")
    parser.add_argument(
        "--baybe-subsets",
        type=int,
        default=10,
        help="BayBE's max_n_subsets: firings `baybe` tries per batch (default 10)",
    )
    parser.add_argument("--max-wall", type=float, default=None,
                        help=f"run {SLOW} on no new seed after this many seconds")  # fmt: skip
    args = parser.parse_args(argv)
    args.n_seeds = args.seeds or (20 if args.full else 10)
    args.methods = list(args.methods.split(",") if args.methods else METHODS)
    args.methods += list(PEERS) * args.peers
    name = "constraints-peers.json" if args.peers else "constraints.json"
    args.out = args.out or RESULTS / name
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    methods = args.methods
    furnace = Furnace()
    qualifying = sum(furnace.reached(p) for p in furnace.grid)
    print(f"bench-constraints: {machine.summary(machine.describe())}")
    print(f"latp-furnace, {len(furnace.grid)} feasible grid points, best "
          f"{furnace.best:.3e} S/cm; target {TARGET:.0%} of it ({qualifying} points); seeds "
          f"0..{args.n_seeds - 1}, budget {args.budget} furnace runs; methods {', '.join(methods)}"
          + (f" (baybe tries {args.baybe_subsets} firings per batch)" if args.peers else ""))  # fmt: skip
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    seeds = 0
    for seed in range(args.n_seeds):
        late = args.max_wall is not None and time.perf_counter() - started > args.max_wall
        for method in methods:
            if late and method in SLOW:
                continue
            r = run(furnace, method, seed, args.budget, args.baybe_subsets)
            results.append(r)
            mark = "" if r["reached"] else " (not reached)"
            print(f"  seed {seed} {method:<12} {r['runs']:>3} furnace runs in {r['steps']:>3} "
                  f"batches{mark}, batch {np.median(r['batch_s']):.2f} s median "
                  f"({np.median(r['batch_cpu_s']):.2f} s CPU)", flush=True)  # fmt: skip
        seeds += 1
        # each seed: a checkpoint
        write(args, furnace, results, seeds, time.perf_counter() - started)
    summary = summarise(results)
    print(f"\n{'method':<12} {'reached':>8} {'runs q25/med/q75':>18} {'batch s med/max':>16} "
          f"{'CPU s med':>9}")  # fmt: skip
    for method, s in summary.items():
        q = "/".join(f"{v:g}" for v in s["runs_q25_median_q75"])
        print(f"{method:<12} {s['reached']:>4}/{s['seeds']:<3} {q:>18} "
              f"{s['batch_s_median']:>8.2f}/{s['batch_s_max']:<7.2f} {s['batch_cpu_s_median']:>9.2f}")  # fmt: skip
    print(f"{seeds} seeds, wall {time.perf_counter() - started:.0f} s; wrote {args.out}")
    return 0


def write(
    args: argparse.Namespace,
    furnace: Furnace,
    results: list[dict[str, Any]],
    seeds: int,
    wall: float,
) -> None:
    """The report (rewritten after every seed, so a stopped run keeps the seeds it finished)."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "bench-constraints", "machine": machine.describe(),
              "budget": args.budget, "seeds": seeds, "target": TARGET, "best": furnace.best,
              "methods": args.methods, "summary": summarise(results), "runs": results,
              "wall_s": wall}  # fmt: skip
    if args.peers:
        report["baybe"] = {"version": "0.15", "baybe_max_n_subsets": args.baybe_subsets,
                           "baybe-all_max_n_subsets": len(furnace.grid)}  # fmt: skip
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
