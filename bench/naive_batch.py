"""The reference that kiln's rank-1 batches are tested and benchmarked against (slow by design)."""

from __future__ import annotations

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor

from kiln import acquisition as acq
from kiln.batch.picks import Pick, Selection, greedy, lie_value, start_masks
from kiln.model.surrogate import JITTER, GPSurrogate


def naive_select_batch(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    q: int,
    *,
    acquisition: str = "ucb",
    kappa: float = 1.96,
    xi: float = 0.01,
    batch_method: str = "kriging_believer",
    pending: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> Selection:
    """Reference implementation of :func:`select_batch` that refits at every step.

    Each step fits a fresh scikit-learn ``GaussianProcessRegressor`` (the surrogate's fitted
    kernel, ``optimizer=None``, ``normalize_y=False``; the surrogate's normalisation applied
    outside) on the observations plus all fantasies, and predicts every candidate. The
    observations keep their own measurement variances (per-sample ``alpha``); fantasies get the
    jitter only (their noise is the kernel's white noise). It exists to test and benchmark the
    rank-1 version; it is slow by construction.
    """
    m = candidates.shape[0]
    excluded, measured, rng = start_masks(m, excluded, measured, rng)
    ym, ys = surrogate.y_mean_, surrogate.y_std_
    noise = surrogate.noise_level_
    lie = lie_value(batch_method, surrogate.y_train_)
    best = float(np.max(surrogate.y_train_))
    X = surrogate.X_train_.copy()
    y = (surrogate.y_train_ - ym) / ys
    own = surrogate.posterior_.point_noise
    point_noise = np.zeros(len(y)) if own is None else own

    def refit() -> GaussianProcessRegressor:
        alpha = JITTER + np.append(point_noise, np.zeros(len(y) - len(point_noise)))
        gpr = GaussianProcessRegressor(
            kernel=surrogate.kernel_, alpha=alpha, optimizer=None, normalize_y=False
        )
        return gpr.fit(X, y)

    def fantasy(gpr: GaussianProcessRegressor, x: np.ndarray) -> float:
        return float(gpr.predict(x[None, :])[0]) if lie is None else (lie - ym) / ys

    pending = np.empty((0, candidates.shape[1])) if pending is None else pending
    for p in pending:
        f = fantasy(refit(), p)
        X, y = np.vstack([X, p]), np.append(y, f)

    def choose(pool: np.ndarray, repeats: bool, step: int) -> Pick:
        nonlocal X, y
        gpr = refit()
        mu_n, sd_total = gpr.predict(candidates, return_std=True)
        # scikit-learn's std includes the white noise (k(x, x) of the WhiteKernel): remove it
        sd = ys * np.sqrt(np.maximum(sd_total**2 - noise, 0.0))
        mu = ym + ys * mu_n
        values = np.where(
            pool, acq.score(acquisition, mu, sd, best, kappa, xi, spread=ys, rng=rng), -np.inf
        )
        i = int(np.argmax(values))
        f = fantasy(gpr, candidates[i])
        X, y = np.vstack([X, candidates[i]]), np.append(y, f)
        return Pick(i, candidates[i], float(values[i]), float(mu[i]), float(sd[i]))

    return greedy(q, excluded, measured, choose)
