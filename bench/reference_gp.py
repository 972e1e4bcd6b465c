"""The GP loop of Liang et al. (2021), re-implemented as the reference line on the pool problems.

What it does, as that paper describes its GP baseline (no code of theirs is used):

- inputs are the pool's raw values (no scaling: the anisotropic kernel's length scales absorb
  the units, and its optimiser restarts sample them over their whole log-range);
- scikit-learn's GaussianProcessRegressor with ConstantKernel * Matern(nu=2.5, one length scale
  per input) + WhiteKernel, normalize_y=True, 3 optimiser restarts;
- acquisition mean + 1 * std for maximisation (-mean + std for minimisation: the lower
  confidence bound), evaluated over every pool row not measured yet;
- ONE pick per step (batch of 1, refit after every experiment), as in the paper's protocol;
  Kiln runs in batches (the problem's batch size), which is the harder setting for Kiln.

The measured value of a pool row is its pool value (the problem's ``measure``, no noise).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from problems import Problem
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

#: The paper's exploration weight: mean + RATIO * std.
RATIO = 1.0
#: Optimiser restarts of each fit (log-uniform draws inside the hyperparameter bounds).
RESTARTS = 3


def run_reference_gp(problem: Problem, seed: int, *, stop_when_all_found: bool = True) -> dict:
    """One seeded run on a pool problem; returns the trace format of bench/problems.

    The budget is the problem's: ``n_init + batch_size * n_batches`` experiments, one by one.
    With ``stop_when_all_found`` the run ends once the whole top set is measured (the metrics
    carry the last count forward).
    """
    if problem.pool is None:
        raise ValueError(f"{problem.name} has no candidate pool")
    rng = np.random.default_rng([seed, 31])
    names = problem.names
    X_pool = np.array([[row[n] for n in names] for row in problem.pool], dtype=float)
    points = problem.initial_points(seed)
    rows = [problem.row_of(p) for p in points]
    values = list(problem.measure(points, rng))
    budget = problem.n_init + problem.batch_size * problem.n_batches
    step_seconds: list[float] = []
    sign = 1.0 if problem.goal == "maximize" else -1.0
    top = problem.top_set
    while len(rows) < min(budget, len(X_pool)):
        if stop_when_all_found and top <= set(rows):
            break
        started = time.perf_counter()
        open_rows = np.setdiff1d(np.arange(len(X_pool)), rows)
        gp = GaussianProcessRegressor(
            kernel=ConstantKernel(1.0) * Matern(length_scale=np.ones(len(names)), nu=2.5)
            + WhiteKernel(),
            normalize_y=True,
            n_restarts_optimizer=RESTARTS,
            random_state=int(rng.integers(2**31)),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(X_pool[rows], np.asarray(values))
        mean, std = gp.predict(X_pool[open_rows], return_std=True)
        pick = int(open_rows[int(np.argmax(sign * mean + RATIO * std))])
        point = problem.point(pick)
        rows.append(pick)
        points.append(point)
        values.extend(problem.measure([point], rng))
        step_seconds.append(time.perf_counter() - started)
    return {
        "points": points,
        "values": [float(v) for v in values],
        "batch_seconds": step_seconds,
        "n_init": problem.n_init,
    }


def describe() -> dict[str, Any]:
    """The settings, for the benchmark's JSON."""
    return {
        "inputs": "raw pool values",
        "kernel": "ConstantKernel * Matern(nu=2.5, anisotropic) + WhiteKernel",
        "normalize_y": True,
        "optimizer_restarts": RESTARTS,
        "acquisition": f"mean + {RATIO} * std (maximise) / -mean + {RATIO} * std (minimise)",
        "batch": "one pick per step",
    }
