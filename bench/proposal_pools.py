"""bench-proposal's candidate-pool case (``--pool``): the worker's ``propose`` call over a
10^5-row pool beside the grid path over the same points, the one-off cost of building a pool,
and the grid path's pending/measured masks as they were against now."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from harness.timing import timed
from proposal_cases import RANGES, TARGET, box, observations, space_for

from kiln.candidate_rows import candidate_rows
from kiln.model.fitted import fit_model
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter
from kiln.pool import CandidatePool
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

POOL_ROWS = 100_000
POOL_TARGET_SECONDS = 1.0
GRID_PATH = "grid path (10^5 grid points)"
GRID_POOL = "pool = the grid's 10^5 points"
FREE_POOL = "pool of 10^5 off-grid rows"


@dataclass
class PoolInputs:
    """What every case is given: the spaces, data, pending proposals and the pools' rows."""

    grid_space: SearchSpace
    free_space: SearchSpace
    obs: list[dict[str, Any]]
    objective: Objective
    strategy: Strategy
    rng: np.random.Generator
    shuffled: list[dict[str, Any]]
    free_rows: list[dict[str, Any]]
    pending_grid: list[dict[str, Any]]
    pending_free: list[dict[str, Any]]


def pool_inputs(q: int, n: int) -> PoolInputs:
    """The LATP data of `n` results, the grid's points shuffled and 10^5 random off-grid rows."""
    grid_space = space_for(POOL_ROWS)
    free_space = SearchSpace([ContinuousParameter(k, lo, hi) for k, (lo, hi) in RANGES.items()])
    X, y = observations(n)
    lows, spans = box()
    obs = [
        {"parameters": dict(zip(RANGES, map(float, row), strict=True)), "objective": float(v)}
        for row, v in zip(lows + X * spans, y, strict=True)
    ]
    rng = np.random.default_rng(7)
    grid = grid_space.grid()
    shuffled = [grid[i] for i in rng.permutation(len(grid))]
    U = lows + rng.uniform(size=(POOL_ROWS, 3)) * spans
    free_rows = [dict(zip(RANGES, map(float, row), strict=True)) for row in U]
    pending_grid = [{"parameters": grid[i]} for i in rng.choice(len(grid), 6, replace=False)]
    pending_free = [{"parameters": free_rows[i]} for i in rng.choice(POOL_ROWS, 6, replace=False)]
    return PoolInputs(
        grid_space,
        free_space,
        obs,
        Objective("log10_conductivity", transform="none"),
        Strategy(batch_size=q),
        rng,
        shuffled,
        free_rows,
        pending_grid,
        pending_free,
    )


def pool_cases(a: PoolInputs) -> tuple[dict[str, Callable[[], Any]], dict[str, float]]:
    """The three ``propose`` calls to time, and how long building each pool took."""
    t_grid_pool, grid_pool = timed(lambda: CandidatePool.from_rows(a.grid_space, a.shuffled))
    t_free_pool, free_pool = timed(lambda: CandidatePool.from_rows(a.free_space, a.free_rows))
    grid_model = fit_model(a.grid_space, a.objective, a.obs)
    free_model = fit_model(a.free_space, a.objective, a.obs)
    grid_args = (a.grid_space, a.objective, a.obs, a.pending_grid, a.strategy)
    free_args = (a.free_space, a.objective, a.obs, a.pending_free, a.strategy)
    cases: dict[str, Callable[[], Any]] = {
        GRID_PATH: lambda: propose(*grid_args, model=grid_model),
        GRID_POOL: lambda: propose(*grid_args, model=grid_model, pool=grid_pool),
        FREE_POOL: lambda: propose(*free_args, model=free_model, pool=free_pool),
    }
    return cases, {"grid points": t_grid_pool, "off-grid rows": t_free_pool}


def time_cases(
    cases: dict[str, Callable[[], Any]], repeats: int, q: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Seconds of every run per case, interleaved (load hits every case alike); their picks."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    picks: dict[str, Any] = {}
    for _ in range(repeats):
        for name, call in cases.items():
            t, batch = timed(call)
            times[name].append(t)
            assert batch.model is not None and len(batch.proposals) == q
            picks[name] = [p.candidate for p in batch.proposals]
    return times, picks


def mask_times(a: PoolInputs) -> dict[str, float]:
    """The grid path's pending/measured masks: a key per candidate, twice (before) vs now."""
    points = [p["parameters"] for p in a.obs] + [p["parameters"] for p in a.pending_grid]
    candidates = a.grid_space.candidates(a.rng)
    Xc = a.grid_space.encode(candidates)
    space = a.grid_space
    t_old, _ = timed(lambda: [[space.key(c) for c in candidates] for _ in range(2)])
    t_new, _ = timed(lambda: candidate_rows(space, candidates, Xc, points))
    return {"before (key every candidate, twice)": t_old, "now": t_new}


def pool_case(repeats: int, q: int = TARGET["q"], n: int = TARGET["n"]) -> dict[str, Any]:
    """Time ``propose`` over a 10^5-row pool beside the grid path (see bench/proposal.py)."""
    inputs = pool_inputs(q, n)
    cases, from_rows = pool_cases(inputs)
    times, picks = time_cases(cases, repeats, q)
    masks = mask_times(inputs)
    medians = {k: statistics.median(v) for k, v in times.items()}
    out = {
        "rows": POOL_ROWS,
        "q": q,
        "n": n,
        "pending": 6,
        "repeats": repeats,
        "propose_median_s": medians,
        "propose_all_s": times,
        "ratio_to_grid_path": {k: v / medians[GRID_PATH] for k, v in medians.items()},
        "from_rows_s": from_rows,
        "grid_masks_s": masks,
        "picks": picks,
        "target_s": POOL_TARGET_SECONDS,
        "load_average": os.getloadavg(),
    }
    print_pool_case(out)
    return out


def print_pool_case(out: dict[str, Any]) -> None:
    """The pool case's lines and its target's verdict."""
    medians, repeats = out["propose_median_s"], out["repeats"]
    grid_s = medians[GRID_PATH]
    print(
        f"\ncandidate pools: propose() with a stored model, q = {out['q']}, n = {out['n']}, "
        f"6 pending, median of {repeats}"
    )
    for name, t in medians.items():
        print(f"  {name:<32} {t:7.3f} s  ({t / grid_s:4.2f} x the grid path)")
    print(
        f"  one-off: from_rows (validate + encode) {out['from_rows_s']['grid points']:.2f} s "
        f"(grid points), {out['from_rows_s']['off-grid rows']:.2f} s (off-grid rows)"
    )
    t_old, t_new = out["grid_masks_s"].values()
    print(f"  grid path masks: {t_old:.3f} s before (key x 2 x 10^5), {t_new * 1e3:.1f} ms now")
    worst = max(medians[GRID_POOL], medians[FREE_POOL])
    verdict = "met" if worst < POOL_TARGET_SECONDS else "MISSED"
    print(
        f"  target: a proposal over 10^5 rows < {POOL_TARGET_SECONDS:.0f} s: {verdict} "
        f"(worst pool median {worst:.3f} s); load average {os.getloadavg()[0]:.2f}"
    )
