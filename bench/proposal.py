"""Proposal latency: refit + batch, Kiln's fast Kriging believer against a naive refitting
believer and scikit-optimize, side by side in one run.

Problem: the virtual LATP lab (``kiln.lab``) measures ``n`` random syntheses in its 3-D space
(acid -22.5..7.5 wt%, 800..1100 °C, 10..540 min; log-normal noise); the target is
log10(conductivity), maximised. Candidates are the space's regular step grid encoded to the unit
cube: 20 x 25 x 20 = 10^4, 40 x 50 x 50 = 10^5 and 100^3 = 10^6 points. UCB, kappa = 1.96.

* **kiln**: refit = ``GPSurrogate.fit`` (cold: 5 optimiser restarts, what the worker does today;
  warm: from the model of the first n-1 results, no restarts, ``fit_model(warm_start=...)``),
  batch = ``kiln.batch.selection.select_batch`` (Kriging believer: rank-1 fantasies, lazy exact scoring,
  chunked). Total = warm refit + batch.
* **naive**: the same refit, then ``naive_batch.naive_select_batch``: a scikit-learn GP refitted
  (fixed hyperparameters) on data + fantasies at every pick, predicting all N candidates at once.
  Its picks must equal Kiln's. Total = warm refit + its batch.
* **skopt**: ``skopt.Optimizer`` with a GP of Kiln's kernel family and bounds (2 restarts, skopt's
  default), ``acq_func="LCB"`` (kappa 1.96) on ``-y``, ``acq_optimizer="sampling"`` over exactly
  the same candidates (``bench/skopt_pool.py``); refit = ``tell(X, -y)``, batch =
  ``ask(n_points=q, strategy="cl_min")``. Comparable: same data, candidates, kernel family,
  acquisition. Not the same algorithm: skopt re-optimises the hyperparameters at every lie
  (q + 2 fits per tell + ask) and its cl_min lie is the best value seen (Kiln's
  constant_liar_max), not the believer's mean; it scores all N candidates at every fit without
  chunking; it replaces a repeated pick by a random pool point. It runs with one BLAS thread, as
  Kiln's own fit does (many small matrices: threads only cost on a busy machine).

Times are medians of repeats interleaved per cell (kiln, naive, skopt, kiln, ...), so machine load
hits all three alike; the load average is recorded. Peak memory is measured once per method at
q = 6 in a fresh subprocess (peak RSS above the process's RSS before the batch: ``VmHWM`` after
resetting it through ``/proc/self/clear_refs``). Alternatives' cells that would take longer than
``--cap`` seconds per run, or need more than 2 GiB for their unchunked prediction, are skipped and
listed with the reason; the target cell (q = 6, n = 200, N = 10^5) always runs for all three.

**Candidate pools** (``--pool`` runs only this part): the whole ``kiln.propose.propose`` call
the worker makes (a stored model reused, 6 pending proposals, q = 6, n = 200) over a 10^5-row
pool, side by side with the grid path over the same 10^5 points: (a) the grid's points as pool
rows (shuffled), (b) 10^5 random off-grid rows of the same box without steps. Also the one-off
cost of validating and encoding the pool (``CandidatePool.from_rows``), and the pending/measured
masks of the grid path as they were (``SearchSpace.key`` over every candidate, twice) against
now (index arithmetic on the grid).

Run: ``make bench-proposal`` (all cells) or ``.venv/bin/python bench/proposal.py --quick``.
Writes ``bench/results/proposal.json`` and ``bench/results/proposal.png`` (``--pool``:
``bench/results/proposal_pool.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness.report import write_json
from harness.timing import timed
from proposal_cases import (
    ALT_MEMORY_CAP,
    GRIDS,
    METHODS,
    NS,
    QS,
    TARGET,
    candidates_for,
    check_candidates,
    is_target,
    observations,
    plan_alternative,
    run_kiln,
    run_naive,
    run_skopt,
    skopt_fit_seconds,
)
from proposal_pools import pool_case
from proposal_profile import child, measure_memory, profile_target
from proposal_report import plot, summarise
from tqdm import tqdm

from kiln.model.surrogate import GPSurrogate

RESULTS = Path(__file__).resolve().parent / "results"
Plan = tuple[int, str | None, float]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the target cell and N = 10^6 only")
    parser.add_argument("--repeats", type=int, default=5, help="repeats of Kiln's batch")
    parser.add_argument("--cap", type=float, default=60.0, help="max seconds per alt. run")
    parser.add_argument("--profile", action="store_true", help="profile the target cell")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--ns", help="observation counts, comma-separated (default 50,200,1000)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--pool", action="store_true", help="the candidate-pool case only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_pool_only(args: argparse.Namespace) -> int:
    """``--pool``: the candidate-pool case alone, into proposal_pool.json."""
    load = os.getloadavg()
    print(
        f"bench-proposal --pool on {platform.node()} ({os.cpu_count()} cores); load "
        f"average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    pools = pool_case(args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    path = write_json(args.out / "proposal_pool.json", {"benchmark": "proposal-pool", **pools})
    print(f"wrote {path}")
    return 0


def plan_cells(args: argparse.Namespace) -> list[tuple[int, int, int]]:
    """The (q, n, N) cells to run, the target cell first."""
    ns = (TARGET["n"], 1000) if args.quick else NS
    if args.ns:
        ns = tuple(sorted({TARGET["n"], *(int(v) for v in args.ns.split(","))}))
    cells = [(TARGET["q"], TARGET["n"], TARGET["N"])]
    for n in ns:
        for N in GRIDS:
            for q in QS:
                if args.quick and not (q == TARGET["q"] and N in (TARGET["N"], 1_000_000)):
                    continue
                if (q, n, N) not in cells:
                    cells.append((q, n, N))
    return cells


def measure_refit(n: int, tmp: Path) -> tuple[dict[str, Any], GPSurrogate, np.ndarray, np.ndarray]:
    """Cold and warm refits at `n`; the data and the warm model saved for the memory child."""
    X, y = observations(n)
    cold_times, before = [], None
    for _ in range(1 if n >= 1000 else 3):
        t, before = timed(lambda X=X, y=y: GPSurrogate(n_restarts=5).fit(X[:-1], y[:-1]))
        cold_times.append(t)
    assert before is not None
    warm_times, warm_cpu, model = [], [], None
    for _ in range(5):
        cpu = time.process_time()
        t, model = timed(lambda X=X, y=y, b=before: GPSurrogate(n_restarts=0).fit(X, y, start=b))
        warm_times.append(t)
        warm_cpu.append(time.process_time() - cpu)
    assert model is not None
    np.savez(tmp / f"data-{n}.npz", X=X, y=y)
    (tmp / f"model-{n}.json").write_text(json.dumps(model.to_dict()))
    refit = {
        "cold_s": cold_times,
        "warm_s": warm_times,
        "cold_median_s": statistics.median(cold_times),
        "warm_median_s": statistics.median(warm_times),
        "warm_cpu_median_s": statistics.median(warm_cpu),
        "kernel": str(model.kernel_),
        "log_marginal_likelihood_warm": model.log_marginal_likelihood_,
        "log_marginal_likelihood_cold_n_minus_1": before.log_marginal_likelihood_,
    }
    return refit, model, X, y


class Cells:
    """The cells' shared state: data and models per n, candidates per N, the alternatives'
    unit costs (measured at the target cell) and the rows and skips so far."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.refits: dict[int, dict[str, Any]] = {}
        self.models: dict[int, GPSurrogate] = {}
        self.data: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.candidates: dict[int, np.ndarray] = {}
        self.pool_rows: dict[int, list[list[float]]] = {}
        self.unit: dict[str, float] = {}
        self.warmed: set[int] = set()
        self.rows: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []

    def refit_all(self, ns: list[int]) -> None:
        for n in tqdm(ns, desc="refits", unit="n"):
            self.refits[n], self.models[n], X, y = measure_refit(n, self.tmp)
            self.data[n] = (X, y)

    def plans(self, q: int, n: int, N: int) -> dict[str, Plan]:
        """Repeats (or why not) of each alternative at this cell; skips recorded."""
        plans: dict[str, Plan] = {}
        for method in ("naive", "skopt"):
            plans[method] = (
                (3, None, float("nan"))
                if is_target(q, n, N)
                else plan_alternative(method, q, n, N, self.unit, self.args.cap)
            )
            if plans[method][1] is not None:
                self.skipped.append(
                    {"method": method, "q": q, "n": n, "N": N, "reason": plans[method][1]}
                )
        return plans

    def prepare(self, q: int, n: int, N: int, plans: dict[str, Plan]) -> np.ndarray:
        """The candidates of size N (checked once), skopt's rows, Kiln warmed up once per N."""
        if N not in self.candidates:
            self.candidates[N] = candidates_for(N)
            check_candidates(N, self.candidates[N])
        C = self.candidates[N]
        if plans["skopt"][0] and N not in self.pool_rows:
            self.pool_rows[N] = C.tolist()
        if N not in self.warmed:
            run_kiln(self.models[n], C, q)  # warm-up: imports, first-touch pages
            self.warmed.add(N)
        return C

    def time_cell(self, q: int, n: int, N: int, plans: dict[str, Plan]) -> dict[str, Any]:
        """Repeats interleaved per cell (kiln, naive, skopt, kiln, ...): times and picks."""
        C, model, (X, y) = self.candidates[N], self.models[n], self.data[n]
        times: dict[str, list[float]] = {
            m: [] for m in ("kiln", "kiln_cpu", "naive", "tell", "ask")
        }
        out: dict[str, Any] = {"times": times, "kiln": None, "naive": None, "skopt": {}}
        repeats = self.args.repeats
        for r in range(max(repeats, plans["naive"][0], plans["skopt"][0])):
            if r < repeats:
                cpu = time.process_time()
                t, out["kiln"] = timed(lambda m=model, C=C, q=q: run_kiln(m, C, q))
                times["kiln"].append(t)
                times["kiln_cpu"].append(time.process_time() - cpu)
                if t > 5 and r >= 2:
                    repeats = r + 1  # slow cells: three repeats are enough
            if r < plans["naive"][0]:
                t, out["naive"] = timed(lambda m=model, C=C, q=q: run_naive(m, C, q))
                times["naive"].append(t)
            if r < plans["skopt"][0]:
                tell, ask, picks, replaced = run_skopt(self.pool_rows[N], X, y, q, seed=r)
                times["tell"].append(tell)
                times["ask"].append(ask)
                out["skopt"] = {
                    "distinct_picks": len({tuple(p) for p in picks}),
                    "replaced_by_random": replaced,
                }
        return out

    def run(self, q: int, n: int, N: int) -> None:
        """One cell: plan, time, summarise into a row, and its memory at q = 6."""
        plans = self.plans(q, n, N)
        self.prepare(q, n, N, plans)
        load_cell = os.getloadavg()[0]
        timing = self.time_cell(q, n, N, plans)
        row, med = self.row(q, n, N, plans, timing, load_cell)
        if is_target(q, n, N):  # per-unit costs that predict the other cells' alternatives
            self.measure_units(row, med, q, n)
        if not self.args.no_memory and q == TARGET["q"]:
            row["memory"] = {
                method: measure_memory(self.memory_spec(method, q, n, N))
                for method in METHODS
                if method == "kiln" or plans[method][0] != 0
            }
        self.rows.append(row)

    def measure_units(self, row: dict[str, Any], med: dict[str, Any], q: int, n: int) -> None:
        X, y = self.data[n]
        self.unit["naive_per_pick"] = med["naive"] / q
        per_round = (med["tell"] + med["ask"]) / (q + 2)
        self.unit["skopt_per_fit"] = skopt_fit_seconds(X, y)
        self.unit["skopt_per_sweep"] = max(per_round - self.unit["skopt_per_fit"], 0.0)
        row["skopt"]["seconds_per_fit"] = self.unit["skopt_per_fit"]
        row["skopt"]["seconds_per_sweep"] = self.unit["skopt_per_sweep"]

    def memory_spec(self, method: str, q: int, n: int, N: int) -> dict[str, Any]:
        return {
            "method": method,
            "q": q,
            "N": N,
            "data": str(self.tmp / f"data-{n}.npz"),
            "model": str(self.tmp / f"model-{n}.json"),
        }

    def row(
        self,
        q: int,
        n: int,
        N: int,
        plans: dict[str, Plan],
        timing: dict[str, Any],
        load_cell: float,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The cell's JSON row (medians, totals and ratios) and the medians themselves."""
        times = timing["times"]
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        refit = self.refits[n]
        warm = refit["warm_median_s"]
        naive_picks = timing["naive"]
        row: dict[str, Any] = {
            "q": q,
            "n": n,
            "N": N,
            "load_1min": load_cell,
            "repeats": {k: len(v) for k, v in times.items()},
            "times_s": times,
            "kiln_refit_cold_s": refit["cold_median_s"],
            "kiln_refit_warm_s": warm,
            "kiln_batch_s": med["kiln"],
            "kiln_batch_cpu_s": med["kiln_cpu"],
            "kiln_total_s": warm + med["kiln"],
            "kiln_total_cold_s": refit["cold_median_s"] + med["kiln"],
            "naive_batch_s": med["naive"],
            "naive_total_s": None if med["naive"] is None else warm + med["naive"],
            "skopt_tell_s": med["tell"],
            "skopt_ask_s": med["ask"],
            "skopt_total_s": None if med["tell"] is None else med["tell"] + med["ask"],
            "same_picks_kiln_naive": None if naive_picks is None else timing["kiln"] == naive_picks,
            "skopt": timing["skopt"],
            "skipped": {m: plans[m][1] for m in ("naive", "skopt") if plans[m][1]},
            "predicted_alt_s": {m: plans[m][2] for m in ("naive", "skopt")},
        }
        for alt in ("naive", "skopt"):
            total = row[f"{alt}_total_s"]
            row[f"ratio_{alt}"] = None if total is None else total / row["kiln_total_s"]
        row["ratio_naive_batch"] = None if med["naive"] is None else med["naive"] / med["kiln"]
        row["ratio_skopt_batch"] = None if med["ask"] is None else med["ask"] / med["kiln"]
        return row, med


def payload_of(args: argparse.Namespace, cells: Cells, report: dict[str, Any]) -> dict[str, Any]:
    """proposal.json: the machine, settings, verdicts, refits, cells and the pool case."""
    return {
        "benchmark": "proposal",
        "machine": {
            "node": platform.node(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": report["load_average_start"],
            "load_average_end": report["load_average_end"],
        },
        "settings": {
            "acquisition": "ucb",
            "kappa": 1.96,
            "kiln_batch_method": "kriging_believer",
            "skopt": 'Optimizer(GP, acq_func="LCB", acq_optimizer="sampling" over the same '
            'candidates), ask(n_points=q, strategy="cl_min"), one BLAS thread',
            "kiln_repeats": args.repeats,
            "alt_cap_s": args.cap,
            "alt_memory_cap_bytes": ALT_MEMORY_CAP,
            "quick": args.quick,
        },
        "targets": report,
        "refits": {str(n): v for n, v in cells.refits.items()},
        "results": cells.rows,
        "skipped": cells.skipped,
        "pool": pool_case(args.repeats),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.pool:
        return run_pool_only(args)
    load_start = os.getloadavg()
    print(
        f"bench-proposal on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}); load average {load_start[0]:.2f} "
        f"{load_start[1]:.2f} {load_start[2]:.2f} (shared machine: absolute times are noisy, "
        "ratios are measured side by side)"
    )
    cell_list = plan_cells(args)
    cells = Cells(args, Path(tempfile.mkdtemp(prefix="kiln-bench-proposal-")))
    cells.refit_all(sorted({c[1] for c in cell_list}))
    bar = tqdm(cell_list, desc="cells", unit="cell")
    for q, n, N in bar:
        bar.set_postfix_str(f"q={q} n={n} N={N:.0e}")
        cells.run(q, n, N)
    bar.close()
    report = summarise(cells.rows, cells.refits, cells.skipped, load_start, os.getloadavg())
    if args.profile or not (report["under_1s"] and report["ten_times_both"]):
        report["profile"] = profile_target(cells.models, cells.data, cells.candidates, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "proposal.json", payload_of(args, cells, report), default=float)
    plot(cells.rows, args.out / "proposal.png")
    print(f"wrote {args.out / 'proposal.json'} and {args.out / 'proposal.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
