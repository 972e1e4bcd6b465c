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
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from naive_batch import naive_select_batch
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from kiln.batch.selection import select_batch
from kiln.lab import VirtualLatpLab
from kiln.model.surrogate import GPSurrogate
from kiln.parameters import ContinuousParameter
from kiln.space import SearchSpace

RESULTS = Path(__file__).resolve().parent / "results"
QS = (1, 6, 24)
NS = (50, 200, 1000)
GRIDS = {10_000: (20, 25, 20), 100_000: (40, 50, 50), 1_000_000: (100, 100, 100)}
TARGET = {"q": 6, "n": 200, "N": 100_000}
TARGET_SECONDS = 1.0
TARGET_RATIO = 10.0
RANGES = {"acid_wt_pct": (-22.5, 7.5), "temperature_c": (800.0, 1100.0), "time_min": (10.0, 540.0)}
#: Alternatives predict every candidate at once: about three n x N float64 arrays.
ALT_MEMORY_CAP = 2 * 2**30
METHODS = ("kiln", "naive", "skopt")


# --------------------------------------------------------------------------------- problem
def space_for(n_candidates: int) -> SearchSpace:
    """The LATP box with steps that make its grid exactly ``n_candidates`` points."""
    shape = GRIDS[n_candidates]
    return SearchSpace(
        [
            ContinuousParameter(name, lo, hi, step=(hi - lo) / (k - 1))
            for (name, (lo, hi)), k in zip(RANGES.items(), shape, strict=True)
        ]
    )


def candidates_for(n_candidates: int) -> np.ndarray:
    """The space's step grid on the unit cube (equal to ``space.encode(space.grid())``)."""
    axes = [np.linspace(0.0, 1.0, k) for k in GRIDS[n_candidates]]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


def check_candidates(n_candidates: int, C: np.ndarray) -> None:
    """Spot-check the fast grid against the space's own encoding."""
    space = space_for(n_candidates)
    rows = np.random.default_rng(0).choice(len(C), size=50, replace=False)
    points = [space.decode(C[i]) for i in rows]
    np.testing.assert_allclose(space.encode(points), C[rows], atol=1e-9)


def observations(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random syntheses measured by the virtual lab: unit-cube X, log10 conductivity."""
    rng = np.random.default_rng([seed, n])
    X = rng.uniform(size=(n, 3))
    lab = VirtualLatpLab(seed=seed)
    lows = np.array([lo for lo, _ in RANGES.values()])
    spans = np.array([hi - lo for lo, hi in RANGES.values()])
    y = np.empty(n)
    for i, row in enumerate(lows + X * spans):
        params = dict(zip(RANGES, (float(v) for v in row), strict=True))
        y[i] = np.log10(lab.measure(params, rng)["objective"])
    return X, y


# ------------------------------------------------------------------------------- methods
def run_kiln(model: GPSurrogate, C: np.ndarray, q: int) -> list[int]:
    return [p.index for p in select_batch(model, C, q).picks]  # type: ignore[misc]


def run_naive(model: GPSurrogate, C: np.ndarray, q: int) -> list[int]:
    return [p.index for p in naive_select_batch(model, C, q).picks]  # type: ignore[misc]


def make_skopt(rows: list[list[float]], seed: int) -> Any:
    from skopt_pool import PoolOptimizer, kiln_like_gp

    return PoolOptimizer(
        rows,
        base_estimator=kiln_like_gp(3, seed=seed),
        acq_func="LCB",
        acq_func_kwargs={"kappa": 1.96},
        random_state=seed,
    )


def run_skopt(
    rows: list[list[float]], X: np.ndarray, y: np.ndarray, q: int, seed: int
) -> tuple[float, float, list[list[float]], int]:
    """(tell seconds, ask seconds, picks, picks skopt replaced by a random point)."""
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = make_skopt(rows, seed)
        start = time.perf_counter()
        opt.tell(X.tolist(), (-y).tolist())
        tell = time.perf_counter() - start
        start = time.perf_counter()
        picks = opt.ask(n_points=q, strategy="cl_min")
        ask = time.perf_counter() - start
    replaced = sum("evaluated at point" in str(w.message) for w in caught)
    return tell, ask, picks, replaced


def skopt_fit_seconds(X: np.ndarray, y: np.ndarray) -> float:
    """One fit of skopt's GP (hyperparameters optimised), as ``tell`` does it."""
    from skopt_pool import kiln_like_gp

    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, _ = timed(lambda: kiln_like_gp(X.shape[1]).fit(X, -y))
    return t


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# --------------------------------------------------------------------------- memory child
def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case once in this (fresh) process and report its peak memory."""
    data = np.load(spec["data"])
    X, y = data["X"], data["y"]
    model = GPSurrogate.from_dict(json.loads(Path(spec["model"]).read_text()))
    C = candidates_for(spec["N"])
    method, q = spec["method"], spec["q"]
    rows = C.tolist() if method == "skopt" else None
    before = _rss_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    if method == "kiln":
        run_kiln(model, C, q)
    elif method == "naive":
        run_naive(model, C, q)
    else:
        assert rows is not None
        run_skopt(rows, X, y, q, seed=0)
    peak = _rss_kib("VmHWM")
    return {
        "rss_before_mib": before / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_above_before_mib": (peak - before) / 1024,
        "hwm_reset": reset,
    }


def measure_memory(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ planning
def unchunked_bytes(n: int, N: int) -> int:
    return 3 * n * N * 8


def plan_alternative(
    method: str, q: int, n: int, N: int, unit: dict[str, float], cap: float
) -> tuple[int, str | None, float]:
    """(repeats, reason to skip or None, predicted seconds per run) for naive or skopt."""
    is_target = (q, n, N) == (TARGET["q"], TARGET["n"], TARGET["N"])
    scale_sweep = (N / TARGET["N"]) * max((n / TARGET["n"]) ** 2, 0.25)
    if method == "naive":
        predicted = unit["naive_per_pick"] * q * scale_sweep
    else:
        fits = q + 2
        predicted = fits * (
            unit["skopt_per_fit"] * (n / TARGET["n"]) ** 2 + unit["skopt_per_sweep"] * scale_sweep
        )
    if is_target:
        return 3, None, predicted
    if unchunked_bytes(n, N) > ALT_MEMORY_CAP:
        need = unchunked_bytes(n, N) / 2**30
        return 0, f"unchunked prediction needs ~{need:.1f} GiB (cap 2 GiB)", predicted
    if predicted > cap:
        return 0, f"predicted {predicted:.0f} s per run > cap {cap:.0f} s", predicted
    return (3 if predicted <= 20 else 1), None, predicted


# ------------------------------------------------------------------------- candidate pools
POOL_ROWS = 100_000
POOL_TARGET_SECONDS = 1.0


def pool_case(repeats: int, q: int = TARGET["q"], n: int = TARGET["n"]) -> dict[str, Any]:
    """Time ``propose`` over a 10^5-row pool beside the grid path (see the module docstring)."""
    from kiln.candidate_rows import candidate_rows
    from kiln.model.fitted import fit_model
    from kiln.objective import Objective
    from kiln.pool import CandidatePool
    from kiln.propose import propose
    from kiln.strategy import Strategy

    grid_space = space_for(POOL_ROWS)
    free_space = SearchSpace([ContinuousParameter(k, lo, hi) for k, (lo, hi) in RANGES.items()])
    X, y = observations(n)
    lows = np.array([lo for lo, _ in RANGES.values()])
    spans = np.array([hi - lo for lo, hi in RANGES.values()])
    obs = [
        {"parameters": dict(zip(RANGES, map(float, row), strict=True)), "objective": float(v)}
        for row, v in zip(lows + X * spans, y, strict=True)
    ]
    objective = Objective("log10_conductivity", transform="none")
    strategy = Strategy(batch_size=q)
    rng = np.random.default_rng(7)
    grid = grid_space.grid()
    shuffled = [grid[i] for i in rng.permutation(len(grid))]
    U = lows + rng.uniform(size=(POOL_ROWS, 3)) * spans
    free_rows = [dict(zip(RANGES, map(float, row), strict=True)) for row in U]
    pending_grid = [{"parameters": grid[i]} for i in rng.choice(len(grid), 6, replace=False)]
    pending_free = [{"parameters": free_rows[i]} for i in rng.choice(POOL_ROWS, 6, replace=False)]

    t_grid_pool, grid_pool = timed(lambda: CandidatePool.from_rows(grid_space, shuffled))
    t_free_pool, free_pool = timed(lambda: CandidatePool.from_rows(free_space, free_rows))
    grid_model = fit_model(grid_space, objective, obs)
    free_model = fit_model(free_space, objective, obs)
    cases: dict[str, Callable[[], Any]] = {
        "grid path (10^5 grid points)": lambda: propose(
            grid_space, objective, obs, pending_grid, strategy, model=grid_model
        ),
        "pool = the grid's 10^5 points": lambda: propose(
            grid_space, objective, obs, pending_grid, strategy, model=grid_model, pool=grid_pool
        ),
        "pool of 10^5 off-grid rows": lambda: propose(
            free_space, objective, obs, pending_free, strategy, model=free_model, pool=free_pool
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    picks: dict[str, Any] = {}
    for _ in range(repeats):  # interleaved: load hits every case alike
        for name, call in cases.items():
            t, batch = timed(call)
            times[name].append(t)
            assert batch.model is not None and len(batch.proposals) == q
            picks[name] = [p.candidate for p in batch.proposals]
    points = [p["parameters"] for p in obs] + [p["parameters"] for p in pending_grid]
    candidates = grid_space.candidates(rng)
    Xc = grid_space.encode(candidates)
    t_old_masks, _ = timed(lambda: [[grid_space.key(c) for c in candidates] for _ in range(2)])
    t_new_masks, _ = timed(lambda: candidate_rows(grid_space, candidates, Xc, points))
    medians = {k: statistics.median(v) for k, v in times.items()}
    grid_s = medians["grid path (10^5 grid points)"]
    out = {
        "rows": POOL_ROWS,
        "q": q,
        "n": n,
        "pending": 6,
        "repeats": repeats,
        "propose_median_s": medians,
        "propose_all_s": times,
        "ratio_to_grid_path": {k: v / grid_s for k, v in medians.items()},
        "from_rows_s": {"grid points": t_grid_pool, "off-grid rows": t_free_pool},
        "grid_masks_s": {"before (key every candidate, twice)": t_old_masks, "now": t_new_masks},
        "picks": picks,
        "target_s": POOL_TARGET_SECONDS,
        "load_average": os.getloadavg(),
    }
    print(
        f"\ncandidate pools: propose() with a stored model, q = {q}, n = {n}, 6 pending, "
        f"median of {repeats}"
    )
    for name, t in medians.items():
        print(f"  {name:<32} {t:7.3f} s  ({t / grid_s:4.2f} x the grid path)")
    print(
        f"  one-off: from_rows (validate + encode) {t_grid_pool:.2f} s (grid points), "
        f"{t_free_pool:.2f} s (off-grid rows)"
    )
    print(
        f"  grid path masks: {t_old_masks:.3f} s before (key x 2 x 10^5), "
        f"{t_new_masks * 1e3:.1f} ms now"
    )
    worst = max(medians["pool = the grid's 10^5 points"], medians["pool of 10^5 off-grid rows"])
    verdict = "met" if worst < POOL_TARGET_SECONDS else "MISSED"
    print(
        f"  target: a proposal over 10^5 rows < {POOL_TARGET_SECONDS:.0f} s: {verdict} "
        f"(worst pool median {worst:.3f} s); load average {os.getloadavg()[0]:.2f}"
    )
    return out


# ----------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.pool:
        load = os.getloadavg()
        print(
            f"bench-proposal --pool on {platform.node()} ({os.cpu_count()} cores); load "
            f"average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        pools = pool_case(args.repeats)
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "proposal_pool.json"
        path.write_text(json.dumps({"benchmark": "proposal-pool", **pools}, indent=2) + "\n")
        print(f"wrote {path}")
        return 0

    load_start = os.getloadavg()
    print(
        f"bench-proposal on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}); load average {load_start[0]:.2f} "
        f"{load_start[1]:.2f} {load_start[2]:.2f} (shared machine: absolute times are noisy, "
        "ratios are measured side by side)"
    )
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

    tmp = Path(tempfile.mkdtemp(prefix="kiln-bench-proposal-"))
    # ------------------------------------------------------------------ refits, per n
    refits: dict[int, dict[str, Any]] = {}
    models: dict[int, GPSurrogate] = {}
    data: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for n in tqdm(sorted({c[1] for c in cells}), desc="refits", unit="n"):
        X, y = observations(n)
        data[n] = (X, y)
        cold_times, before = [], None
        for _ in range(1 if n >= 1000 else 3):
            t, before = timed(lambda X=X, y=y: GPSurrogate(n_restarts=5).fit(X[:-1], y[:-1]))
            cold_times.append(t)
        assert before is not None
        warm_times, warm_cpu, model = [], [], None
        for _ in range(5):
            cpu = time.process_time()
            t, model = timed(
                lambda X=X, y=y, b=before: GPSurrogate(n_restarts=0).fit(X, y, start=b)
            )
            warm_times.append(t)
            warm_cpu.append(time.process_time() - cpu)
        assert model is not None
        models[n] = model
        np.savez(tmp / f"data-{n}.npz", X=X, y=y)
        (tmp / f"model-{n}.json").write_text(json.dumps(model.to_dict()))
        refits[n] = {
            "cold_s": cold_times,
            "warm_s": warm_times,
            "cold_median_s": statistics.median(cold_times),
            "warm_median_s": statistics.median(warm_times),
            "warm_cpu_median_s": statistics.median(warm_cpu),
            "kernel": str(model.kernel_),
            "log_marginal_likelihood_warm": model.log_marginal_likelihood_,
            "log_marginal_likelihood_cold_n_minus_1": before.log_marginal_likelihood_,
        }

    # ------------------------------------------------------------------ batches, per cell
    candidates: dict[int, np.ndarray] = {}
    pool_rows: dict[int, list[list[float]]] = {}
    unit: dict[str, float] = {}
    warmed: set[int] = set()
    rows_out: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    bar = tqdm(cells, desc="cells", unit="cell")
    for q, n, N in bar:
        bar.set_postfix_str(f"q={q} n={n} N={N:.0e}")
        if N not in candidates:
            candidates[N] = candidates_for(N)
            check_candidates(N, candidates[N])
        C = candidates[N]
        X, y = data[n]
        model = models[n]
        is_target = (q, n, N) == (TARGET["q"], TARGET["n"], TARGET["N"])
        plans: dict[str, tuple[int, str | None, float]] = {}
        for method in ("naive", "skopt"):
            plans[method] = (
                (3, None, float("nan"))
                if is_target
                else plan_alternative(method, q, n, N, unit, args.cap)
            )
            if plans[method][1] is not None:
                skipped.append(
                    {"method": method, "q": q, "n": n, "N": N, "reason": plans[method][1]}
                )
        if plans["skopt"][0] and N not in pool_rows:
            pool_rows[N] = C.tolist()
        if N not in warmed:
            run_kiln(model, C, q)  # warm-up: imports, first-touch pages
            warmed.add(N)
        times: dict[str, list[float]] = {
            m: [] for m in ("kiln", "kiln_cpu", "naive", "tell", "ask")
        }
        kiln_picks = naive_picks = None
        skopt_info: dict[str, Any] = {}
        load_cell = os.getloadavg()[0]
        repeats = args.repeats
        for r in range(max(repeats, plans["naive"][0], plans["skopt"][0])):
            if r < repeats:
                cpu = time.process_time()
                t, kiln_picks = timed(lambda m=model, C=C, q=q: run_kiln(m, C, q))
                times["kiln"].append(t)
                times["kiln_cpu"].append(time.process_time() - cpu)
                if t > 5 and r >= 2:
                    repeats = r + 1  # slow cells: three repeats are enough
            if r < plans["naive"][0]:
                t, naive_picks = timed(lambda m=model, C=C, q=q: run_naive(m, C, q))
                times["naive"].append(t)
            if r < plans["skopt"][0]:
                tell, ask, picks, replaced = run_skopt(pool_rows[N], X, y, q, seed=r)
                times["tell"].append(tell)
                times["ask"].append(ask)
                skopt_info = {
                    "distinct_picks": len({tuple(p) for p in picks}),
                    "replaced_by_random": replaced,
                }
        med = {k: statistics.median(v) if v else None for k, v in times.items()}
        warm = refits[n]["warm_median_s"]
        row: dict[str, Any] = {
            "q": q,
            "n": n,
            "N": N,
            "load_1min": load_cell,
            "repeats": {k: len(v) for k, v in times.items()},
            "times_s": times,
            "kiln_refit_cold_s": refits[n]["cold_median_s"],
            "kiln_refit_warm_s": warm,
            "kiln_batch_s": med["kiln"],
            "kiln_batch_cpu_s": med["kiln_cpu"],
            "kiln_total_s": warm + med["kiln"],
            "kiln_total_cold_s": refits[n]["cold_median_s"] + med["kiln"],
            "naive_batch_s": med["naive"],
            "naive_total_s": None if med["naive"] is None else warm + med["naive"],
            "skopt_tell_s": med["tell"],
            "skopt_ask_s": med["ask"],
            "skopt_total_s": None if med["tell"] is None else med["tell"] + med["ask"],
            "same_picks_kiln_naive": None if naive_picks is None else kiln_picks == naive_picks,
            "skopt": skopt_info,
            "skipped": {m: plans[m][1] for m in ("naive", "skopt") if plans[m][1]},
            "predicted_alt_s": {m: plans[m][2] for m in ("naive", "skopt")},
        }
        for alt in ("naive", "skopt"):
            total = row[f"{alt}_total_s"]
            row[f"ratio_{alt}"] = None if total is None else total / row["kiln_total_s"]
        row["ratio_naive_batch"] = (
            None if med["naive"] is None else med["naive"] / med["kiln"]  # type: ignore[operator]
        )
        row["ratio_skopt_batch"] = (
            None if med["ask"] is None else med["ask"] / med["kiln"]  # type: ignore[operator]
        )
        if is_target:  # per-unit costs that predict the other cells' alternatives
            unit["naive_per_pick"] = med["naive"] / q  # type: ignore[operator]
            per_round = (med["tell"] + med["ask"]) / (q + 2)  # type: ignore[operator]
            unit["skopt_per_fit"] = skopt_fit_seconds(X, y)
            unit["skopt_per_sweep"] = max(per_round - unit["skopt_per_fit"], 0.0)
            row["skopt"]["seconds_per_fit"] = unit["skopt_per_fit"]
            row["skopt"]["seconds_per_sweep"] = unit["skopt_per_sweep"]
        if not args.no_memory and q == TARGET["q"]:
            row["memory"] = {}
            for method in METHODS:
                if method != "kiln" and plans[method][0] == 0:
                    continue
                spec = {
                    "method": method,
                    "q": q,
                    "N": N,
                    "data": str(tmp / f"data-{n}.npz"),
                    "model": str(tmp / f"model-{n}.json"),
                }
                row["memory"][method] = measure_memory(spec)
        rows_out.append(row)
    bar.close()
    load_end = os.getloadavg()

    report = summarise(rows_out, refits, skipped, load_start, load_end)
    if args.profile or not (report["under_1s"] and report["ten_times_both"]):
        report["profile"] = profile_target(models, data, candidates, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "proposal",
        "machine": {
            "node": platform.node(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": load_start,
            "load_average_end": load_end,
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
        "refits": {str(n): v for n, v in refits.items()},
        "results": rows_out,
        "skipped": skipped,
        "pool": pool_case(args.repeats),
    }
    (args.out / "proposal.json").write_text(json.dumps(payload, indent=2, default=float) + "\n")
    plot(rows_out, args.out / "proposal.png")
    print(f"wrote {args.out / 'proposal.json'} and {args.out / 'proposal.png'}")
    return 0


def profile_target(
    models: dict[int, GPSurrogate],
    data: dict[int, tuple[np.ndarray, np.ndarray]],
    candidates: dict[int, np.ndarray],
    out: Path,
) -> dict[str, Any]:
    """pyinstrument over Kiln's target cell (warm refit + batch, three times)."""
    from pyinstrument import Profiler

    n, N, q = TARGET["n"], TARGET["N"], TARGET["q"]
    X, y = data[n]
    before = GPSurrogate(n_restarts=0).fit(X[:-1], y[:-1], start=models[n])
    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in range(3):
        model = GPSurrogate(n_restarts=0).fit(X, y, start=before)
        run_kiln(model, candidates[N], q)
    profiler.stop()
    text = profiler.output_text(show_all=False, color=False)
    path = out / "proposal-profile.txt"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    shares: dict[str, float] = {}

    wanted = {"fit", "log_marginal_likelihood", "select_batch", "_evaluate", "matern52"}

    def walk(frame: Any, active: frozenset[str] = frozenset()) -> None:
        key = f"{frame.function} ({Path(frame.file_path or '').name})"
        if frame.function in wanted and key not in active:  # outermost call only
            shares[key] = shares.get(key, 0.0) + frame.time
            active = active | {key}
        for child_frame in frame.children:
            walk(child_frame, active)

    if root is not None:
        walk(root)
    total = root.time if root is not None else 0.0
    print(f"\nprofile of Kiln's target cell (3 x warm refit + batch, {total:.2f} s): {path}")
    for key, t in sorted(shares.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {t / max(total, 1e-9):6.1%}  {key}")
    return {"file": str(path), "total_s": total, "inclusive_s": shares}


def _fmt(x: float | None, spec: str = "7.3f") -> str:
    return "-" if x is None else format(x, spec)


def summarise(
    rows: list[dict[str, Any]],
    refits: dict[int, dict[str, Any]],
    skipped: list[dict[str, Any]],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> dict[str, Any]:
    """Print the tables and the target verdicts; return the verdicts."""
    print("\nrefit (GPSurrogate.fit), median seconds")
    print(f"{'n':>5} {'cold, 5 restarts':>17} {'warm, 0 restarts':>17}  kernel (warm)")
    for n, r in sorted(refits.items()):
        print(f"{n:>5} {r['cold_median_s']:>17.3f} {r['warm_median_s']:>17.3f}  {r['kernel']}")

    print("\nrefit + batch, median seconds (total = warm refit + batch; skopt = tell + ask)")
    head = (
        f"{'q':>3} {'n':>5} {'N':>9} | {'kiln batch':>10} {'total':>7} | {'naive':>7} "
        f"{'ratio':>6} | {'skopt':>7} {'ratio':>6} | {'same':>4} {'load':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in sorted(rows, key=lambda r: (r["n"], r["N"], r["q"])):
        same = r["same_picks_kiln_naive"]
        print(
            f"{r['q']:>3} {r['n']:>5} {r['N']:>9,} | {r['kiln_batch_s']:>10.3f} "
            f"{r['kiln_total_s']:>7.3f} | {_fmt(r['naive_total_s'])} "
            f"{_fmt(r['ratio_naive'], '5.1f')}x | {_fmt(r['skopt_total_s'])} "
            f"{_fmt(r['ratio_skopt'], '5.1f')}x | {'-' if same is None else str(same):>4} "
            f"{r['load_1min']:>5.2f}"
        )
    mem_rows = [r for r in rows if "memory" in r]
    if mem_rows:
        print("\npeak memory at q = 6, MiB above the process's RSS before the batch")
        print(f"{'n':>5} {'N':>9} | {'kiln':>7} {'naive':>7} {'skopt':>7} | unchunked n*N*8")
        for r in sorted(mem_rows, key=lambda r: (r["n"], r["N"])):
            cells = [
                _fmt(r["memory"].get(m, {}).get("peak_above_before_mib"), "7.0f") for m in METHODS
            ]
            print(
                f"{r['n']:>5} {r['N']:>9,} | {' '.join(f'{c:>7}' for c in cells)} | "
                f"{r['n'] * r['N'] * 8 / 2**20:>8.0f}"
            )
    if skipped:
        print("\nskipped alternative cells")
        for s in skipped:
            print(f"  {s['method']:<5} q={s['q']:<2} n={s['n']:<4} N={s['N']:<9,} {s['reason']}")

    target = next(
        r for r in rows if (r["q"], r["n"], r["N"]) == (TARGET["q"], TARGET["n"], TARGET["N"])
    )
    q6 = [r for r in rows if r["q"] == TARGET["q"]]
    min_naive = min((r["ratio_naive"] for r in q6 if r["ratio_naive"]), default=None)
    min_skopt = min((r["ratio_skopt"] for r in q6 if r["ratio_skopt"]), default=None)
    big = [r for r in mem_rows if r["N"] == 1_000_000 and "kiln" in r["memory"]]
    cpu_total = refits[TARGET["n"]]["warm_cpu_median_s"] + target["kiln_batch_cpu_s"]
    verdict = {
        "target_cell": TARGET,
        "kiln_total_cpu_s": cpu_total,
        "kiln_total_s": target["kiln_total_s"],
        "kiln_batch_s": target["kiln_batch_s"],
        "kiln_total_cold_refit_s": target["kiln_total_cold_s"],
        "under_1s": target["kiln_total_s"] < TARGET_SECONDS,
        "under_1s_with_cold_refit": target["kiln_total_cold_s"] < TARGET_SECONDS,
        "ratio_naive": target["ratio_naive"],
        "ratio_skopt": target["ratio_skopt"],
        "ratio_naive_batch_only": target["ratio_naive_batch"],
        "ratio_skopt_ask_only": target["ratio_skopt_batch"],
        "min_ratio_naive_q6": min_naive,
        "min_ratio_skopt_q6": min_skopt,
        "ten_times_both": bool(
            target["ratio_naive"] >= TARGET_RATIO and target["ratio_skopt"] >= TARGET_RATIO
        ),
        "kiln_peak_mib_at_1e6": {
            str(r["n"]): r["memory"]["kiln"].get("peak_above_before_mib") for r in big
        },
        "load_average_start": load_start,
        "load_average_end": load_end,
    }
    print(
        f"\ntarget q=6, n=200, N=10^5: kiln {target['kiln_total_s']:.3f} s "
        f"(warm refit {target['kiln_refit_warm_s']:.3f} + batch {target['kiln_batch_s']:.3f}; "
        f"CPU {cpu_total:.3f} s; with the cold refit {target['kiln_total_cold_s']:.3f} s): "
        f"{'MET' if verdict['under_1s'] else 'NOT MET'} (< {TARGET_SECONDS:.0f} s on "
        f"{os.cpu_count()} cores; cold refit: "
        f"{'met' if verdict['under_1s_with_cold_refit'] else 'not met'})"
    )
    print(
        f"ratios at the target cell: naive {target['ratio_naive']:.1f}x "
        f"(batch alone {target['ratio_naive_batch']:.1f}x), skopt {target['ratio_skopt']:.1f}x "
        f"(ask alone {target['ratio_skopt_batch']:.1f}x): "
        f"{'MET' if verdict['ten_times_both'] else 'NOT MET'} (>= {TARGET_RATIO:.0f}x both)"
    )
    print(
        f"smallest ratio over the measured q=6 cells: naive {_fmt(min_naive, '.1f')}x, "
        f"skopt {_fmt(min_skopt, '.1f')}x"
    )
    if big:
        print(
            "kiln peak memory at N=10^6: "
            + ", ".join(
                f"n={r['n']}: {r['memory']['kiln'].get('peak_above_before_mib', 0):.0f} MiB "
                f"(unchunked k(C, X) alone: {r['n'] * r['N'] * 8 / 2**20:.0f} MiB)"
                for r in big
            )
        )
    print(
        f"load average: start {load_start[0]:.2f} / end {load_end[0]:.2f} (1 min) on "
        f"{os.cpu_count()} cores"
    )
    return verdict


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    styles = {
        "kiln": ("Kiln (warm refit + believer)", "tab:blue", "o"),
        "naive": ("naive believer", "tab:orange", "s"),
        "skopt": ("scikit-optimize cl_min", "tab:green", "^"),
    }
    q6 = [r for r in rows if r["q"] == TARGET["q"]]
    for ax, n in zip(axes[:2], (TARGET["n"], 1000), strict=True):
        for method, (label, color, marker) in styles.items():
            pts = sorted(
                (r["N"], r[f"{method}_total_s"])
                for r in q6
                if r["n"] == n and r[f"{method}_total_s"] is not None
            )
            if pts:
                ax.plot(*zip(*pts, strict=True), marker=marker, color=color, label=label)
        ax.axhline(TARGET_SECONDS, color="0.5", linestyle=":", linewidth=1)
        ax.set(xscale="log", yscale="log", xlabel="candidates N", ylabel="refit + batch [s]")
        ax.set_title(f"q = 6, n = {n}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    ax = axes[2]
    for method, (label, color, marker) in styles.items():
        for n, ls in ((200, "-"), (1000, "--")):
            pts = sorted(
                (r["N"], r["memory"][method]["peak_above_before_mib"])
                for r in q6
                if r["n"] == n
                and "memory" in r
                and "peak_above_before_mib" in r["memory"].get(method, {})
            )
            if pts:
                ax.plot(
                    *zip(*pts, strict=True),
                    marker=marker,
                    color=color,
                    linestyle=ls,
                    label=f"{label.split(' (')[0]}, n={n}",
                )
    Ns = sorted(GRIDS)
    for n, ls in ((200, "-"), (1000, "--")):
        ax.plot(
            Ns,
            [n * N * 8 / 2**20 for N in Ns],
            color="0.6",
            linestyle=ls,
            linewidth=1,
            label=f"one n x N float64 matrix, n={n}",
        )
    ax.set(xscale="log", yscale="log", xlabel="candidates N", ylabel="peak memory [MiB]")
    ax.set_title("peak memory above baseline, q = 6")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.suptitle("Proposal latency on the virtual LATP lab (UCB, medians)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
