"""The exact Gaussian-process posterior with fixed hyperparameters: numpy and scipy only.

Split from :mod:`kiln.model.surrogate` (which fits hyperparameters with scikit-learn) so that a
process that only *reads* models, such as the HTTP intake answering predictions from a stored
model, never imports scikit-learn. Formulas: Rasmussen & Williams, *Gaussian Processes for
Machine Learning*, Alg. 2.1 and eq. 5.12.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.spatial.distance import cdist

from kiln.errors import ModelFitError

#: Jitter scikit-learn adds to the training diagonal (its ``alpha``); kept identical here.
JITTER = 1e-10


def normalisation(y: np.ndarray) -> tuple[float, float]:
    """Mean and std used to normalise targets, exactly as scikit-learn's ``normalize_y``."""
    mean = float(np.mean(y))
    std = float(np.std(y))
    if std < 10 * np.finfo(float).eps:
        std = 1.0
    return mean, std


def matern52(A: np.ndarray, B: np.ndarray, length_scale: np.ndarray, constant: float) -> np.ndarray:
    """``constant * Matern(nu=5/2)`` between the rows of ``A`` and ``B``.

    Equal to scikit-learn's ``ConstantKernel(constant) * Matern(length_scale, nu=2.5)`` but
    computed in place, which matters when ``A`` holds many thousands of candidates:
    ``k(r) = c (1 + sqrt(5) r + 5 r^2 / 3) exp(-sqrt(5) r)`` (R&W eq. 4.17).
    """
    scale = math.sqrt(5.0) / length_scale
    D = cdist(A * scale, B * scale)  # sqrt(5) r
    # c (1 + D + D^2 / 3) = c + D (c + D c / 3), then times exp(-D); in place where possible
    K = D * (constant / 3.0)
    K += constant
    K *= D
    K += constant
    np.negative(D, out=D)
    np.exp(D, out=D)
    K *= D
    return K


class GPPosterior:
    """Exact GP posterior with fixed hyperparameters, on the normalised target scale.

    Args:
        constant: Signal variance of the latent covariance.
        length_scale: Matern-5/2 length scales per input column.
        noise: Variance added to the training diagonal (white-noise level plus jitter); also
            the noise of a new measurement (a batch's fantasies).
        X: Training inputs, shape ``(n, d)``.
        y: Normalised training targets, shape ``(n,)``.
        point_noise: Each training point's own measurement variance (normalised units, shape
            ``(n,)``), added to ``noise`` on its diagonal entry; None when no result carries
            one (:mod:`kiln.measurement_error`).

    Attributes:
        L_: Lower Cholesky factor of ``K(X, X) + diag(noise + point_noise)``.
        alpha_: ``(K + diag(noise + point_noise))^-1 y``.
    """

    def __init__(
        self,
        constant: float,
        length_scale: np.ndarray,
        noise: float,
        X: np.ndarray,
        y: np.ndarray,
        point_noise: np.ndarray | None = None,
    ) -> None:
        self.constant = float(constant)
        self.length_scale = np.asarray(length_scale, dtype=float)
        self.noise = float(noise)
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.point_noise = None if point_noise is None else np.asarray(point_noise, dtype=float)
        # Rasmussen & Williams Alg. 2.1, lines 2-3.
        K = self.k(self.X, self.X)
        K[np.diag_indices_from(K)] += self.noise
        if self.point_noise is not None:
            K[np.diag_indices_from(K)] += self.point_noise
        try:
            self.L_ = cholesky(K, lower=True, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise ModelFitError(
                f"the kernel matrix is not positive definite ({exc}); the noise level "
                f"{self.noise:g} is too small for these inputs"
            ) from None
        self.alpha_ = cho_solve((self.L_, True), self.y, check_finite=False)

    @property
    def n(self) -> int:
        """Number of training points."""
        return int(self.X.shape[0])

    def train_noise(self) -> np.ndarray:
        """The variance on each training point's diagonal entry (``noise + point_noise``)."""
        if self.point_noise is None:
            return np.full(self.n, self.noise)
        return self.noise + self.point_noise

    def k(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Latent prior covariance between the rows of ``A`` and ``B``."""
        return matern52(A, B, self.length_scale, self.constant)

    def prior_var(self, A: np.ndarray) -> np.ndarray:
        """Latent prior variance ``k(a, a)`` (the signal variance everywhere)."""
        return np.full(A.shape[0], self.constant)

    def solve_cross(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(k(A, X), L^-1 k(X, A))`` for a block of points ``A``."""
        Ks = self.k(A, self.X)
        V = solve_triangular(self.L_, Ks.T, lower=True, check_finite=False)
        return Ks, V

    def mean(self, A: np.ndarray) -> np.ndarray:
        """Latent posterior mean at ``A`` alone: ``O(n)`` per point, no triangular solve."""
        return self.k(A, self.X) @ self.alpha_

    def mean_var(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent posterior mean and variance at ``A`` (normalised units, Alg. 2.1 lines 4-6)."""
        Ks, V = self.solve_cross(A)
        mu = Ks @ self.alpha_
        var = self.prior_var(A) - np.einsum("ij,ij->j", V, V)
        return mu, np.maximum(var, 0.0)

    def loo_residuals(self) -> np.ndarray:
        """Leave-one-out residuals ``y_i - mu_{-i}`` (R&W eq. 5.12), normalised units."""
        residuals, _ = self.leave_one_out()
        return residuals

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out residuals ``y_i - mu_{-i}`` and predictive variances ``sigma^2_{-i}``.

        Closed form with the hyperparameters held fixed (R&W eq. 5.12): ``y_i - mu_{-i} =
        [K^-1 y]_i / [K^-1]_ii`` and ``sigma^2_{-i} = 1 / [K^-1]_ii``, ``K`` the training
        covariance with its noise; normalised units. The variance is that of a measurement at
        ``x_i`` (it includes the point's noise), so ``residual / sqrt(variance)`` is standard
        normal under the model.
        """
        Kinv = cho_solve((self.L_, True), np.eye(self.n), check_finite=False)
        diag = np.diag(Kinv)
        return self.alpha_ / diag, 1.0 / diag
