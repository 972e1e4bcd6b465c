"""scikit-optimize on a fixed candidate pool, for side-by-side benchmarks with Kiln.

``skopt.Optimizer`` with ``acq_optimizer="sampling"`` scores ``n_points`` random draws of its
space (``Space.rvs``) and takes the best. :class:`PoolOptimizer` makes those draws the given pool
(encoded on the unit cube, the space being ``Real(0, 1)`` per column, so skopt's ``normalize``
transform is the identity): skopt then scores exactly Kiln's candidates. Everything else is
skopt's own: the GP refit with hyperparameter optimisation at every ``tell``, the copy-and-refit
in ``ask``, the constant lies of ``ask(n_points=q, strategy=...)``. The pool's Python rows are
built once outside any timing (skopt's own ``rvs`` would build random rows at every refit).

skopt minimises: pass ``-y`` for a maximised target; ``LCB`` of ``-y`` is UCB of ``y`` and
``cl_min`` lies with the best value observed so far (Kiln's ``constant_liar_max``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from skopt import Optimizer
from skopt.learning import GaussianProcessRegressor
from skopt.learning.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from skopt.space import Real

from kiln.model.surrogate import CONSTANT_BOUNDS, LENGTH_SCALE_BOUNDS, NOISE_BOUNDS


def kiln_like_gp(dim: int, n_restarts: int = 2, seed: int = 0) -> GaussianProcessRegressor:
    """skopt's GP with Kiln's kernel family, starting values and bounds.

    ``constant * Matern(nu=2.5, one length scale per column) + white noise`` on a normalised
    target; skopt drops the white noise when it predicts (the latent std, as Kiln). Two
    optimiser restarts per fit is skopt's own default (Kiln's cold fit uses five).
    """
    kernel = ConstantKernel(1.0, CONSTANT_BOUNDS) * Matern(
        length_scale=np.full(dim, 0.5), length_scale_bounds=LENGTH_SCALE_BOUNDS, nu=2.5
    ) + WhiteKernel(1e-2, NOISE_BOUNDS)
    return GaussianProcessRegressor(
        kernel=kernel,
        normalize_y=True,
        noise="gaussian",
        n_restarts_optimizer=n_restarts,
        random_state=seed,
    )


class PoolOptimizer(Optimizer):
    """``skopt.Optimizer`` whose acquisition sampling returns a fixed pool of candidates.

    Args:
        pool: Encoded candidates, shape ``(m, d)``, inside the unit cube.
        **kwargs: ``base_estimator``, ``acq_func``, ``acq_func_kwargs``, ``random_state``...
    """

    def __init__(self, pool: np.ndarray | list[list[float]], **kwargs: Any) -> None:
        rows = pool.tolist() if isinstance(pool, np.ndarray) else pool
        dim = len(rows[0])
        self._pool_rows = rows
        self._kwargs = dict(kwargs)
        kwargs.setdefault("n_initial_points", 0)
        super().__init__(
            [Real(0.0, 1.0) for _ in range(dim)],
            acq_optimizer="sampling",
            acq_optimizer_kwargs={"n_points": len(rows)},
            **kwargs,
        )
        self.space.rvs = self._pool  # type: ignore[method-assign]

    def _pool(self, n_samples: int = 1, random_state: Any = None) -> list[list[float]]:
        if n_samples >= len(self._pool_rows):
            return self._pool_rows
        # a few rows (skopt's stand-in for a point it has seen): random rows of the pool
        rng = check_random_state(random_state)
        picked = rng.choice(len(self._pool_rows), size=n_samples, replace=False)
        return [self._pool_rows[int(i)] for i in picked]

    def copy(self, random_state: Any = None) -> PoolOptimizer:
        """A copy that keeps the pool (skopt's ``ask`` refits a copy to tell it the lies)."""
        kwargs = {**self._kwargs, "random_state": random_state}
        kwargs["base_estimator"] = self.base_estimator_
        opt = PoolOptimizer(self._pool_rows, **kwargs)
        if self.Xi:
            opt._tell(self.Xi, self.yi)
        return opt
