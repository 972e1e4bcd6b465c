"""Local continuous refinement of the best sampled candidates (L-BFGS-B, then snapped)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

from kiln.batch.fantasy import FantasyState
from kiln.batch.picks import Pick

_SAME_POINT = 1e-9


@dataclass(frozen=True)
class Polisher:
    """Local continuous refinement of the best sampled candidates.

    Attributes:
        columns: Encoded columns the optimiser may move (continuous parameters).
        snap: Maps an encoded row to the encoded row of the nearest allowed point
            (steps, listed values); applied after the optimiser.
        n_starts: How many of the best candidates start an L-BFGS-B run.
        maxiter: Iteration cap per run.
        feasible: Whether a snapped row satisfies the space's constraints; an infeasible
            polished point is dropped (the candidate it started from stands), never returned.
    """

    columns: Sequence[int]
    snap: Callable[[np.ndarray], np.ndarray]
    n_starts: int = 3
    maxiter: int = 50
    feasible: Callable[[np.ndarray], bool] | None = None


def _near(x: np.ndarray, points: np.ndarray) -> bool:
    return points.shape[0] > 0 and float(cdist(x[None, :], points).min()) < _SAME_POINT


def polish(
    pick: Pick,
    values: np.ndarray,
    candidates: np.ndarray,
    state: FantasyState,
    score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    polisher: Polisher,
    forbid: np.ndarray,
) -> Pick | None:
    """Improve the best sampled candidates with L-BFGS-B over the continuous columns."""
    cols = np.asarray(polisher.columns, dtype=int)
    if cols.size == 0:
        return None
    ys = state.surrogate.y_std_
    ym = state.surrogate.y_mean_

    def model_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu, var = state.predict(X)
        return ym + ys * mu, ys * np.sqrt(var)

    finite = np.flatnonzero(np.isfinite(values))
    starts = finite[np.argsort(values[finite])[::-1][: polisher.n_starts]]
    best: Pick | None = None
    for i in starts:
        base = candidates[i].copy()

        def negative(z: np.ndarray, base: np.ndarray = base) -> float:
            x = base.copy()
            x[cols] = z
            return -float(score(*model_scale(x[None, :]))[0])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = minimize(
                negative,
                base[cols],
                method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * cols.size,
                options={"maxiter": polisher.maxiter},
            )
        x = base.copy()
        x[cols] = res.x
        x = polisher.snap(x)
        if _near(x, forbid) or (polisher.feasible is not None and not polisher.feasible(x)):
            continue
        mu, sd = model_scale(x[None, :])
        value = float(score(mu, sd)[0])
        if value > pick.acquisition_value and (best is None or value > best.acquisition_value):
            best = Pick(None, x, value, float(mu[0]), float(sd[0]))
    if best is not None:
        # a polished point that lands on a candidate row takes that row's identity
        dist = cdist(best.x[None, :], candidates)[0]
        j = int(np.argmin(dist))
        if dist[j] < _SAME_POINT:
            best = Pick(j, candidates[j], best.acquisition_value, best.mean, best.std)
    return best
