"""The metrics of `make bench-quality`: best-so-far curves, top-set counts, AF and EF.

Pool metrics follow Liang et al. (2021): the top set is the best ceil(5 %) of the pool; a run's
curve counts how many top-set rows it has measured after each experiment; the acceleration
factor (AF) at a level is the experiments random sampling needs to find that share of the top
set divided by the experiments the method needs (medians over seeds); the enhancement factor
(EF) at a budget is the share the method found divided by the share random finds.

Random sampling without replacement is computed exactly, not simulated: in a random order of N
rows, the k-th of K top rows appears at expected position k (N + 1) / (K + 1) (the negative
hypergeometric mean), and after n experiments the expected share found is n / N.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np


def best_so_far(values: Sequence[float], goal: str) -> np.ndarray:
    """Running best of true values (max for "maximize", min otherwise)."""
    v = np.asarray(values, dtype=float)
    return np.maximum.accumulate(v) if goal == "maximize" else np.minimum.accumulate(v)


def top_found_curve(rows: Sequence[int], top_set: Collection[int], budget: int) -> np.ndarray:
    """Top-set rows found after each of `budget` experiments (the last count carried on).

    A run that stopped early (all found, or the pool ran out) keeps its last count.
    """
    hits = np.cumsum([r in top_set for r in rows[:budget]], dtype=int)
    out = np.empty(budget, dtype=int)
    n = len(hits)
    out[:n] = hits
    out[n:] = hits[-1] if n else 0
    return out


def level_count(level: float, top_size: int) -> int:
    """How many top-set rows a share `level` of it is (rounded up, at least 1)."""
    return max(1, math.ceil(level * top_size - 1e-9))


def experiments_to(curve: Sequence[int], count: int) -> int | None:
    """Experiments until the curve first reaches `count`, or None within its budget."""
    reached = np.flatnonzero(np.asarray(curve) >= count)
    return int(reached[0]) + 1 if reached.size else None


def random_experiments_to(pool_size: int, top_size: int, count: int) -> float:
    """Expected experiments random sampling without replacement needs to find `count` top rows."""
    return count * (pool_size + 1) / (top_size + 1)


def median_needed(needed: Sequence[int | None]) -> float:
    """Median experiments over seeds; a seed that never got there counts as infinite."""
    return float(np.median([math.inf if n is None else n for n in needed]))


def acceleration_factor(
    needed: Sequence[int | None], pool_size: int, top_size: int, count: int
) -> float | None:
    """Random's expected experiments / the method's median, or None if the median never got there."""
    median = median_needed(needed)
    if not math.isfinite(median):
        return None
    return random_experiments_to(pool_size, top_size, count) / median


def enhancement_factor(
    curves: Sequence[Sequence[int]], pool_size: int, top_size: int, budget: int
) -> float:
    """Mean share of the top set found after `budget` experiments / random's expected share."""
    found = float(np.mean([c[budget - 1] for c in curves])) / top_size
    return found / (budget / pool_size)


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile); infinities allowed."""
    v = np.asarray(values, dtype=float)
    if not v.size:
        return math.nan, math.nan, math.nan
    with np.errstate(invalid="ignore"):
        q = np.percentile(v, [25, 50, 75])
    q = np.where(np.isnan(q), math.inf, q)  # between two infinities
    return float(q[0]), float(q[1]), float(q[2])
