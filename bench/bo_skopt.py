"""The virtual-experiment protocol (``kiln.virtual_experiments``) with scikit-optimize's GP.

One repeat is :func:`kiln.virtual_experiments.run_repeat` with the model and acquisition swapped:
the same seeded initial draws (with replacement), the same observation noise drawn in the same
order, the same stopping rule (the pool's best index picked, at most ``N - n`` tries). The model is
scikit-optimize as ``gp_minimize`` sets it up: ``Optimizer(base_estimator="GP")`` (its default GP:
constant x Matern 5/2 with one length scale per column, Gaussian noise, normalised target,
2 optimiser restarts per fit, refitted at every ``tell``), ``acq_func`` ``"LCB"`` (kappa 1.96) or
``"EI"`` (xi 0.01) on the negated target, scored over exactly the pool
(:class:`skopt_pool.PoolOptimizer`). Where Kiln's protocol lets a GP strategy pick a point it has
seen again (and counts the try), skopt's ``ask`` replaces such a pick by a random pool point: that
is skopt's own behaviour and it is kept; the variant "LCB, repeats allowed"
(``avoid_duplicates=False``) re-picks like Kiln does, to separate the model from that rule.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from kiln.virtual_experiments import repeat_seed, summarise

#: skopt variants: id -> (Kiln's strategy it faces, skopt's acquisition, avoid repeated picks,
#: label). "lcb_repeats" re-picks like Kiln's protocol does (``avoid_duplicates=False``), which
#: separates skopt's model from its random stand-ins for repeated picks.
VARIANTS: dict[str, tuple[str, str, bool, str]] = {
    "lcb": ("ucb", "LCB", True, "skopt GP-LCB"),
    "ei": ("ei", "EI", True, "skopt GP-EI"),
    "lcb_repeats": ("ucb", "LCB", False, "skopt GP-LCB, repeats allowed"),
}


def run_skopt_repeat(
    X: np.ndarray,
    y: np.ndarray,
    variant: str,
    n_init: int,
    seed: int,
    *,
    noise_sd: float,
    kappa: float = 1.96,
    xi: float = 0.01,
) -> dict[str, Any]:
    """One repeat with skopt choosing the picks; ``{"found", "extra_tries", "replaced"}``.

    ``variant`` is a key of :data:`VARIANTS`.
    """
    from skopt.utils import cook_estimator
    from skopt_pool import PoolOptimizer

    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X = np.asarray(X, dtype=float)
        n_pool = y.shape[0]
        rng = np.random.default_rng(seed)
        best = int(np.argmax(y))
        seen = [int(i) for i in rng.integers(0, n_pool, size=n_init)]
        y_seen = [float(v) for v in y[seen] + noise_sd * rng.standard_normal(n_init)]
        if best in seen:
            return {"found": True, "extra_tries": 0, "replaced": 0}
        index = {tuple(row): i for i, row in enumerate(X.tolist())}
        gp = cook_estimator("GP", space=[(0.0, 1.0)] * X.shape[1], random_state=seed % 2**31)
        _, acq_func, avoid, _ = VARIANTS[variant]
        opt = PoolOptimizer(
            X,
            base_estimator=gp,
            acq_func=acq_func,
            acq_func_kwargs={"kappa": kappa, "xi": xi},
            avoid_duplicates=avoid,
            random_state=seed % 2**31,
        )
        opt.tell([X[i].tolist() for i in seen], [-v for v in y_seen])
        budget = n_pool - n_init
        for tries in range(1, budget + 1):
            x = opt.ask()
            pick = index[tuple(x)]
            if pick == best:
                return {"found": True, "extra_tries": tries, "replaced": _replaced(caught)}
            value = float(y[pick] + noise_sd * rng.standard_normal())
            opt.tell(x, -value)
        return {"found": False, "extra_tries": budget, "replaced": _replaced(caught)}


def _replaced(caught: Sequence[warnings.WarningMessage]) -> int:
    return sum("using random point" in str(w.message) for w in caught)


def _run_chunk(
    X: np.ndarray, y: np.ndarray, jobs: list[tuple[str, int, int]], noise_sd: float
) -> list[tuple[str, int, dict[str, Any]]]:
    return [(s, n, run_skopt_repeat(X, y, s, n, seed, noise_sd=noise_sd)) for s, n, seed in jobs]


def run_skopt_protocol(
    X: np.ndarray,
    y: np.ndarray,
    *,
    variants: Sequence[str],
    n_inits: Sequence[int],
    repeats: int,
    noise_sd: float,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, dict[int, dict[str, Any]]], int]:
    """The protocol for skopt: (the :func:`summarise` table, picks skopt replaced at random).

    Repeat ``r`` at size ``n`` has Kiln's seed (:func:`repeat_seed`), so both start from the
    same initial draws and noise.
    """
    sizes = [n for n in n_inits if 1 <= n < y.shape[0]]
    tasks = [(v, n, repeat_seed(n, r)) for n in sizes for r in range(repeats) for v in variants]
    chunks = [tasks[i : i + 4] for i in range(0, len(tasks), 4)]
    outcomes: dict[tuple[str, int], list[dict[str, Any]]] = {
        (v, n): [] for v in variants for n in sizes
    }
    replaced = 0
    done = 0
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(_run_chunk, X, y, chunk, noise_sd): len(chunk) for chunk in chunks}
        for future in as_completed(futures):
            for s, n, out in future.result():
                outcomes[(s, n)].append(out)
                replaced += int(out["replaced"])
            done += futures[future]
            if progress is not None:
                progress(done, len(tasks))
    return summarise(outcomes), replaced
