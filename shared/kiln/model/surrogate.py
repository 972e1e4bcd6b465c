"""The Gaussian-process surrogate on the unit cube.

Kernel: ``ConstantKernel * Matern(nu=2.5, one length scale per encoded column) + WhiteKernel``,
fitted by scikit-learn's :class:`~sklearn.gaussian_process.GaussianProcessRegressor` on the
normalised target (mean 0, std 1). Hyperparameter bounds are in those units: signal variance
1e-3..1e3, noise variance 1e-6..1, and length scales on the unit cube 0.01..10 for a numeric
column and 0.2..100 for a one-hot column of a categorical parameter (see
:func:`length_scale_bounds`).

After fitting, predictions come from :class:`GPPosterior`, an explicit exact posterior with the
fitted hyperparameters held fixed (Rasmussen & Williams, *Gaussian Processes for Machine
Learning*, Alg. 2.1). The posterior is rebuilt from plain JSON (hyperparameter values and the
training arrays) without refitting, and the Kriging-believer batches in :mod:`kiln.batch` update
the same object, so every number the library reports comes from one set of formulas.

``predict`` returns the std of the latent function, i.e. *without* the observation noise (that
is what the acquisitions explore); ``include_noise=True`` adds it, which matches what
scikit-learn's own ``predict(return_std=True)`` reports for a kernel with a ``WhiteKernel``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Kernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

from kiln.errors import ModelFitError, NoObservationsError
from kiln.model.posterior import JITTER, GPPosterior, matern52, normalisation

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
PREDICT_CHUNK = 25_000
#: BLAS threads while the marginal likelihood is optimised. Its many small evaluations (an
#: ``n x n`` Cholesky and gradient per step) gain nothing from threads on an idle machine and lose
#: several-fold on a busy one, where BLAS threads spin against the other processes
#: (``make bench-proposal``: n = 200 took 1.6 s on one thread and 14 s on two under load).
FIT_BLAS_THREADS = 1

__all__ = [
    "JITTER",
    "GPPosterior",
    "GPSurrogate",
    "length_scale_bounds",
    "make_kernel",
    "matern52",
    "normalisation",
]


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
    bounds = _bounds_per_column(length_scale_bounds, dim)
    return ConstantKernel(constant, constant_bounds) * Matern(
        length_scale=ls, length_scale_bounds=bounds, nu=2.5
    ) + WhiteKernel(noise_level, noise_bounds)


def _bounds_per_column(bounds: ArrayLike, dim: int) -> np.ndarray:
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


def _warm_kernel(start: GPSurrogate, bounds: np.ndarray) -> Kernel:
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


class GPSurrogate:
    """Gaussian-process regression on unit-cube inputs with a normalised target.

    Args:
        n_restarts: Extra random restarts of the marginal-likelihood optimiser (each starts at
            a point drawn uniformly in the log of the bounds).
        random_state: Seed of the restarts.
        length_scale_bounds: Length-scale bounds: one ``(low, high)`` pair for every column, or
            one per column (:func:`length_scale_bounds`); None for :data:`LENGTH_SCALE_BOUNDS`.

    Attributes:
        kernel_: The fitted scikit-learn kernel (including the white noise).
        log_marginal_likelihood_: Its log marginal likelihood (normalised target).
        length_scale_bounds_: The length-scale bounds used, shape ``(d, 2)``.
        X_train_, y_train_: Training data (``y`` on the model scale).
        y_mean_, y_std_: The fixed target normalisation.
        posterior_: The :class:`GPPosterior` used for every prediction.
    """

    def __init__(
        self,
        n_restarts: int = 5,
        random_state: int = 0,
        length_scale_bounds: ArrayLike | None = None,
    ) -> None:
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.length_scale_bounds = length_scale_bounds

    # ------------------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray, *, start: GPSurrogate | None = None) -> GPSurrogate:
        """Fit the hyperparameters by maximising the marginal likelihood.

        Args:
            X: Encoded inputs, shape ``(n, d)``.
            y: Targets on the model scale, shape ``(n,)``.
            start: A surrogate fitted earlier (e.g. before the latest results arrived): the
                optimiser's first run starts from its hyperparameters instead of the defaults
                (a warm start; ``n_restarts`` random restarts still follow and the best
                optimum is kept). With a few new results the optimum has usually barely moved,
                so the warm run alone finds it in a fraction of the evaluations; it cannot
                leave a local optimum, which is what the restarts are for.

        Returns:
            self

        Raises:
            NoObservationsError: When ``n == 0``.
            ModelFitError: On non-finite data, mismatched shapes or a failed fit.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float).ravel()
        if X.ndim != 2:
            raise ModelFitError(f"X must be 2-D (n, d), got shape {X.shape}")
        if X.shape[0] == 0:
            raise NoObservationsError("there are no observations to fit the surrogate on")
        if X.shape[0] != y.shape[0]:
            raise ModelFitError(f"X has {X.shape[0]} rows but y has {y.shape[0]} values")
        if not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise ModelFitError("X and y must be finite; drop or fix non-finite observations")
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = normalisation(y)
        if not (math.isfinite(mean) and math.isfinite(std)):
            # e.g. +-1e300 without a log transform: the variance overflows and every prediction
            # would silently be NaN.
            raise ModelFitError(
                f"the targets cannot be normalised: their spread overflows (mean {mean!r}, "
                f"std {std!r}); a value is likely off by many orders of magnitude"
            )
        bounds = _bounds_per_column(
            LENGTH_SCALE_BOUNDS if self.length_scale_bounds is None else self.length_scale_bounds,
            X.shape[1],
        )
        kernel = make_kernel(X.shape[1], length_scale_bounds=bounds)
        if start is not None:
            kernel = _warm_kernel(start, bounds)
        gpr = GaussianProcessRegressor(
            kernel=kernel,
            alpha=JITTER,
            normalize_y=True,
            n_restarts_optimizer=self.n_restarts,
            random_state=self.random_state,
        )
        try:
            with warnings.catch_warnings():
                # A hyperparameter on its bound is expected (e.g. an irrelevant input gets the
                # largest length scale); it is not an error of the fit.
                warnings.simplefilter("ignore", ConvergenceWarning)
                with threadpool_limits(FIT_BLAS_THREADS, user_api="blas"):
                    gpr.fit(X, y)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise ModelFitError(f"the Gaussian process could not be fitted: {exc}") from None
        if not math.isfinite(gpr.log_marginal_likelihood_value_):
            raise ModelFitError(
                "the Gaussian process could not be fitted: its log marginal likelihood is "
                f"{gpr.log_marginal_likelihood_value_!r}"
            )
        params = gpr.kernel_.get_params()
        self.length_scale_bounds_ = bounds
        self._set_state(
            constant=float(params["k1__k1__constant_value"]),
            length_scale=np.atleast_1d(params["k1__k2__length_scale"]).astype(float),
            noise_level=float(params["k2__noise_level"]),
            X=X,
            y=y,
            log_marginal_likelihood=float(gpr.log_marginal_likelihood_value_),
        )
        return self

    def _set_state(
        self,
        *,
        constant: float,
        length_scale: np.ndarray,
        noise_level: float,
        X: np.ndarray,
        y: np.ndarray,
        log_marginal_likelihood: float,
    ) -> None:
        """Set every learned attribute from hyperparameter values and data (no optimisation)."""
        self.kernel_ = make_kernel(
            X.shape[1],
            constant=constant,
            length_scale=length_scale,
            noise_level=noise_level,
            length_scale_bounds=self.length_scale_bounds_,
        )
        self.X_train_ = X
        self.y_train_ = y
        self.y_mean_, self.y_std_ = normalisation(y)
        self.log_marginal_likelihood_ = log_marginal_likelihood
        self.posterior_ = GPPosterior(
            constant, length_scale, noise_level + JITTER, X, (y - self.y_mean_) / self.y_std_
        )

    # ---------------------------------------------------------------------- inspection
    def _check_fitted(self) -> None:
        if not hasattr(self, "posterior_"):
            raise ModelFitError("the surrogate is not fitted yet; call fit() first")

    @property
    def constant_(self) -> float:
        """Signal variance (normalised units)."""
        return float(self.kernel_.k1.k1.constant_value)

    @property
    def length_scale_(self) -> np.ndarray:
        """Length scales per encoded column (unit-cube units)."""
        return np.atleast_1d(np.asarray(self.kernel_.k1.k2.length_scale, dtype=float))

    @property
    def noise_level_(self) -> float:
        """White-noise variance (normalised units)."""
        return float(self.kernel_.k2.noise_level)

    @property
    def noise_std_model_(self) -> float:
        """Observation-noise std on the model scale."""
        return math.sqrt(self.noise_level_) * self.y_std_

    # ---------------------------------------------------------------------- prediction
    def predict(
        self, X: np.ndarray, return_std: bool = True, *, include_noise: bool = False
    ) -> Any:
        """Posterior mean (and std) on the model scale.

        Args:
            X: Encoded inputs, shape ``(m, d)``.
            return_std: Also return the std.
            include_noise: Add the observation noise to the variance (the std of a new
                measurement rather than of the latent function).

        Returns:
            ``(mu, sd)`` arrays of shape ``(m,)``, or ``mu`` alone when ``return_std`` is False.
        """
        self._check_fitted()
        X = np.atleast_2d(np.asarray(X, dtype=float))
        mu = np.empty(X.shape[0])
        var = np.empty(X.shape[0])
        for start in range(0, X.shape[0], PREDICT_CHUNK):
            sl = slice(start, start + PREDICT_CHUNK)
            if return_std:
                mu[sl], var[sl] = self.posterior_.mean_var(X[sl])
            else:  # the mean alone skips the O(n^2) variance per point
                mu[sl] = self.posterior_.mean(X[sl])
        mu = self.y_mean_ + self.y_std_ * mu
        if not return_std:
            return mu
        if include_noise:
            var = var + self.noise_level_
        return mu, self.y_std_ * np.sqrt(var)

    def loo_residuals(self) -> np.ndarray:
        """Leave-one-out residuals on the model scale (closed form, no refits)."""
        self._check_fitted()
        return self.y_std_ * self.posterior_.loo_residuals()

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: settings, fitted hyperparameter values and the training arrays."""
        self._check_fitted()
        return {
            "type": "gp_constant_matern52_white",
            "n_restarts": self.n_restarts,
            "random_state": self.random_state,
            "constant": self.constant_,
            "length_scale": [float(v) for v in self.length_scale_],
            "noise_level": self.noise_level_,
            "jitter": JITTER,
            "length_scale_bounds": self.length_scale_bounds_.tolist(),
            "log_marginal_likelihood": self.log_marginal_likelihood_,
            "X_train": self.X_train_.tolist(),
            "y_train": self.y_train_.tolist(),
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> GPSurrogate:
        """Rebuild a fitted surrogate from :meth:`to_dict` output without refitting.

        The Cholesky factor is recomputed from the stored hyperparameters and data, which
        reproduces the original predictions exactly.

        Raises:
            ModelFitError: When the payload is malformed.
        """
        try:
            # Models stored before per-column bounds existed: the bounds do not change their
            # predictions, and a warm start from them uses the new fit's own bounds.
            bounds = payload.get("length_scale_bounds")
            model = cls(
                n_restarts=int(payload["n_restarts"]),
                random_state=int(payload["random_state"]),
                length_scale_bounds=bounds,
            )
            X = np.asarray(payload["X_train"], dtype=float)
            y = np.asarray(payload["y_train"], dtype=float)
            if X.ndim != 2 or y.shape != (X.shape[0],):
                raise ValueError(f"X_train {X.shape} and y_train {y.shape} do not match")
            model.length_scale_bounds_ = _bounds_per_column(
                LENGTH_SCALE_BOUNDS if bounds is None else bounds, X.shape[1]
            )
            model._set_state(
                constant=float(payload["constant"]),
                length_scale=np.asarray(payload["length_scale"], dtype=float),
                noise_level=float(payload["noise_level"]),
                X=X,
                y=y,
                log_marginal_likelihood=float(payload["log_marginal_likelihood"]),
            )
        except (KeyError, TypeError, ValueError, ModelFitError) as exc:
            raise ModelFitError(f"cannot rebuild the surrogate from its payload: {exc}") from None
        return model
