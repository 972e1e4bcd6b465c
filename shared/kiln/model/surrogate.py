"""The Gaussian-process surrogate on the unit cube.

Kernel: ``ConstantKernel * Matern(nu=2.5, one length scale per encoded column) + WhiteKernel``,
fitted by scikit-learn's :class:`~sklearn.gaussian_process.GaussianProcessRegressor` on the
normalised target (mean 0, std 1). Hyperparameter bounds are in those units: signal variance
1e-3..1e3, noise variance 1e-6..1, and length scales on the unit cube 0.01..10 for a numeric
column and 0.2..100 for a one-hot column of a categorical parameter (:mod:`kiln.model.kernel`).

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
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from threadpoolctl import threadpool_limits

from kiln.errors import ModelFitError, NoObservationsError
from kiln.measurement_error import checked_noise_var
from kiln.model.kernel import (
    CATEGORICAL_LENGTH_SCALE_BOUNDS,
    CONSTANT_BOUNDS,
    LENGTH_SCALE_BOUNDS,
    NOISE_BOUNDS,
    bounds_per_column,
    length_scale_bounds,
    make_kernel,
    warm_kernel,
)
from kiln.model.posterior import JITTER, GPPosterior, matern52, normalisation

PREDICT_CHUNK = 25_000
#: BLAS threads while the marginal likelihood is optimised. Its many small evaluations (an
#: ``n x n`` Cholesky and gradient per step) gain nothing from threads on an idle machine and lose
#: several-fold on a busy one, where BLAS threads spin against the other processes
#: (``make bench-proposal``: n = 200 took 1.6 s on one thread and 14 s on two under load).
FIT_BLAS_THREADS = 1

__all__ = [
    "CATEGORICAL_LENGTH_SCALE_BOUNDS",
    "CONSTANT_BOUNDS",
    "JITTER",
    "LENGTH_SCALE_BOUNDS",
    "NOISE_BOUNDS",
    "GPPosterior",
    "GPSurrogate",
    "length_scale_bounds",
    "make_kernel",
    "matern52",
    "normalisation",
]


def _training_data(
    X: ArrayLike, y: ArrayLike, noise_var: ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``X`` (2-D), ``y`` (1-D) and ``noise_var`` as float arrays, checked to fit on.

    Raises:
        NoObservationsError: When there are no rows.
        ModelFitError: On mismatched shapes or non-finite data.
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
    return X, y, checked_noise_var(noise_var, y.shape[0])


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
        noise_var_: Each point's own noise variance (model scale) or None (kiln.measurement_error).
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
    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        start: GPSurrogate | None = None,
        noise_var: np.ndarray | None = None,
    ) -> GPSurrogate:
        """Fit the hyperparameters by maximising the marginal likelihood.

        Args:
            X: Encoded inputs, shape ``(n, d)``.
            y: Targets on the model scale, shape ``(n,)``; replicates are all kept (kiln.training).
            start: A surrogate fitted earlier (e.g. before the latest results arrived): the
                optimiser's first run starts from its hyperparameters instead of the defaults
                (a warm start; ``n_restarts`` random restarts still follow and the best
                optimum is kept). With a few new results the optimum has usually barely moved,
                so the warm run alone finds it in a fraction of the evaluations; it cannot
                leave a local optimum, which is what the restarts are for.
            noise_var: Each point's own noise variance, model scale, shape ``(n,)``, or None:
                over the target variance, a per-sample ``alpha`` under the fitted white noise.

        Returns:
            self

        Raises:
            NoObservationsError: When ``n == 0``.
            ModelFitError: On non-finite data, mismatched shapes or a failed fit.
        """
        X, y, noise_var = _training_data(X, y, noise_var)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = normalisation(y)
        if not (math.isfinite(mean) and math.isfinite(std)):
            # e.g. +-1e300 without a log transform: the variance overflows and every prediction
            # would silently be NaN.
            raise ModelFitError(
                f"the targets cannot be normalised: their spread overflows (mean {mean!r}, "
                f"std {std!r}); a value is likely off by many orders of magnitude"
            )
        bounds = bounds_per_column(
            LENGTH_SCALE_BOUNDS if self.length_scale_bounds is None else self.length_scale_bounds,
            X.shape[1],
        )
        kernel = make_kernel(X.shape[1], length_scale_bounds=bounds)
        if start is not None:
            kernel = warm_kernel(start, bounds)
        gpr = GaussianProcessRegressor(
            kernel=kernel,
            alpha=JITTER if noise_var is None else JITTER + noise_var / std**2,
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
            noise_var=noise_var,
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
        noise_var: np.ndarray | None = None,
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
        self.noise_var_ = noise_var
        self.posterior_ = GPPosterior(
            constant,
            length_scale,
            noise_level + JITTER,
            X,
            (y - self.y_mean_) / self.y_std_,
            None if noise_var is None else noise_var / self.y_std_**2,
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
            **({} if self.noise_var_ is None else {"noise_var": self.noise_var_.tolist()}),
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
            model.length_scale_bounds_ = bounds_per_column(
                LENGTH_SCALE_BOUNDS if bounds is None else bounds, X.shape[1]
            )
            model._set_state(
                constant=float(payload["constant"]),
                length_scale=np.asarray(payload["length_scale"], dtype=float),
                noise_level=float(payload["noise_level"]),
                X=X,
                y=y,
                log_marginal_likelihood=float(payload["log_marginal_likelihood"]),
                noise_var=checked_noise_var(payload.get("noise_var"), y.shape[0]),
            )
        except (KeyError, TypeError, ValueError, ModelFitError) as exc:
            raise ModelFitError(f"cannot rebuild the surrogate from its payload: {exc}") from None
        return model
