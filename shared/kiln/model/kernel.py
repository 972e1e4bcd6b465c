"""The surrogate's kernel and its hyperparameter bounds (normalised target, unit-cube inputs).

``ConstantKernel * Matern(nu=2.5, one length scale per encoded column) + WhiteKernel``; the bounds
are in the units :class:`kiln.model.surrogate.GPSurrogate` fits in (target mean 0, std 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel

from kiln.errors import ModelFitError

if TYPE_CHECKING:
    from kiln.model.surrogate import GPSurrogate

#: Length-scale bounds of a numeric column (unit cube). Above 10 the kernel's correlation across
#: the whole range exceeds 0.992: the input is already irrelevant, and a larger bound only adds a
#: flat stretch of likelihood where an optimiser started there (a warm start) stays. Cold optima
#: with 100 were equal on LATP data and at most 0.35 log-likelihood units higher on mixed data
#: (README, bench-refit).
LENGTH_SCALE_BOUNDS = (1e-2, 1e1)
#: Length-scale bounds of a one-hot column. Two labels differ by 1 in two one-hot columns, so
#: only the kernel at distances 0 and 1 matters: at 0.2 the correlation of two labels is already
#: 1e-5 (independent labels); smaller values add only flat likelihood, where restarts drawn in the
#: bounds were wasted. The upper end stays large: a one-hot length scale of ~30 with a large
#: signal variance is how this product kernel expresses a small additive offset between labels
#: (capping it at 5 cost 26 log-likelihood units on the mixed problem at n = 200).
CATEGORICAL_LENGTH_SCALE_BOUNDS = (2e-1, 1e2)
CONSTANT_BOUNDS = (1e-3, 1e3)
NOISE_BOUNDS = (1e-6, 1e0)


def length_scale_bounds(categorical: Sequence[bool]) -> np.ndarray:
    """Per-column length-scale bounds, shape ``(d, 2)``.

    Args:
        categorical: One flag per encoded column: True for a one-hot column of a categorical
            parameter (:data:`CATEGORICAL_LENGTH_SCALE_BOUNDS`), False for a numeric one
            (:data:`LENGTH_SCALE_BOUNDS`).
    """
    return np.array(
        [CATEGORICAL_LENGTH_SCALE_BOUNDS if c else LENGTH_SCALE_BOUNDS for c in categorical],
        dtype=float,
    ).reshape(-1, 2)


def make_kernel(
    dim: int,
    *,
    constant: float = 1.0,
    length_scale: ArrayLike = 0.5,
    noise_level: float = 1e-2,
    length_scale_bounds: ArrayLike = LENGTH_SCALE_BOUNDS,
    constant_bounds: tuple[float, float] = CONSTANT_BOUNDS,
    noise_bounds: tuple[float, float] = NOISE_BOUNDS,
) -> Kernel:
    """``ConstantKernel * Matern(nu=2.5, anisotropic) + WhiteKernel`` for ``dim`` columns.

    ``length_scale_bounds`` is one ``(low, high)`` pair for every column or one per column
    (shape ``(dim, 2)``, see :func:`length_scale_bounds`).
    """
    ls = np.asarray(length_scale, dtype=float)
    if ls.ndim == 0:
        ls = np.full(dim, float(ls))
    bounds = bounds_per_column(length_scale_bounds, dim)
    return ConstantKernel(constant, constant_bounds) * Matern(
        length_scale=ls, length_scale_bounds=bounds, nu=2.5
    ) + WhiteKernel(noise_level, noise_bounds)


def bounds_per_column(bounds: ArrayLike, dim: int) -> np.ndarray:
    """``bounds`` as a ``(dim, 2)`` array (one pair is repeated for every column)."""
    b = np.asarray(bounds, dtype=float)
    if b.shape == (2,):
        b = np.tile(b, (dim, 1))
    if b.shape != (dim, 2) or not (np.isfinite(b).all() and (b[:, 0] > 0).all()):
        raise ModelFitError(
            f"length-scale bounds must be positive (low, high) pairs, one per column ({dim}); "
            f"got shape {b.shape}"
        )
    if (b[:, 0] > b[:, 1]).any():
        raise ModelFitError("a length-scale bound has low > high; swap them")
    return b


def warm_kernel(start: GPSurrogate, bounds: np.ndarray) -> Kernel:
    """The default kernel started at ``start``'s hyperparameters (clipped into the bounds)."""
    dim = bounds.shape[0]
    ls = start.length_scale_
    if ls.shape != (dim,):
        raise ModelFitError(
            f"cannot warm-start from a model with {ls.size} length scales for {dim} columns"
        )
    return make_kernel(
        dim,
        constant=float(np.clip(start.constant_, *CONSTANT_BOUNDS)),
        length_scale=np.clip(ls, bounds[:, 0], bounds[:, 1]),
        noise_level=float(np.clip(start.noise_level_, *NOISE_BOUNDS)),
        length_scale_bounds=bounds,
    )
