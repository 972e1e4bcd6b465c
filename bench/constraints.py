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

Usage: ``make bench-constraints`` (10 seeds, budget 60 runs; about 2 min on the loaded 2-core
machine) or ``.venv/bin/python bench/constraints.py [--seeds N] [--budget R] [--full]``
(``--full``: 20 seeds). Writes bench/results/constraints.json; prints the seeds and steps.
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


def run(furnace: Furnace, method: str, seed: int, budget: int) -> dict[str, Any]:
    """One seed of one method: furnace runs to the target (or the budget) and batch times."""
    rng = np.random.default_rng([seed, 17])
    propose_batch = kiln_batches(furnace, method == "kiln-shared") if method != "random" else None
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
    for method in METHODS:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None, help="seeds (default 10, --full 20)")
    parser.add_argument("--budget", type=int, default=60, help="furnace runs per seed")
    parser.add_argument("--full", action="store_true", help="20 seeds")
    parser.add_argument("--out", type=Path, default=RESULTS / "constraints.json")
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (20 if args.full else 10)
    furnace = Furnace()
    qualifying = sum(furnace.reached(p) for p in furnace.grid)
    print(f"bench-constraints: {machine.summary(machine.describe())}")
    print(f"latp-furnace, {len(furnace.grid)} feasible grid points, best "
          f"{furnace.best:.3e} S/cm; target {TARGET:.0%} of it ({qualifying} points); seeds "
          f"0..{n_seeds - 1}, budget {args.budget} furnace runs")  # fmt: skip
    started = time.perf_counter()
    results = []
    for seed in range(n_seeds):
        for method in METHODS:
            r = run(furnace, method, seed, args.budget)
            results.append(r)
            mark = "" if r["reached"] else " (not reached)"
            print(f"  seed {seed} {method:<12} {r['runs']:>3} furnace runs in {r['steps']:>3} "
                  f"batches{mark}, batch {np.median(r['batch_s']):.2f} s median "
                  f"({np.median(r['batch_cpu_s']):.2f} s CPU)", flush=True)  # fmt: skip
    summary = summarise(results)
    print(f"\n{'method':<12} {'reached':>8} {'runs q25/med/q75':>18} {'batch s med/max':>16} "
          f"{'CPU s med':>9}")  # fmt: skip
    for method, s in summary.items():
        q = "/".join(f"{v:g}" for v in s["runs_q25_median_q75"])
        print(f"{method:<12} {s['reached']:>4}/{s['seeds']:<3} {q:>18} "
              f"{s['batch_s_median']:>8.2f}/{s['batch_s_max']:<7.2f} {s['batch_cpu_s_median']:>9.2f}")  # fmt: skip
    wall = time.perf_counter() - started
    print(f"wall {wall:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "bench-constraints", "machine": machine.describe(), "budget": args.budget, "seeds": n_seeds,
              "target": TARGET, "best": furnace.best, "summary": summary, "runs": results,
              "wall_s": wall}  # fmt: skip
    args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
