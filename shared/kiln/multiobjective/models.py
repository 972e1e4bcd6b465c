"""One Gaussian process per objective, each fitted on the rows where its objective was measured.

A result missing one objective still trains the models of the others. The surrogates are
:class:`kiln.model.surrogate.GPSurrogate` as in the single-objective path (same kernel, bounds and
normalisation), so the fantasy machinery of :mod:`kiln.batch` applies to each unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kiln.errors import NoObservationsError
from kiln.model.surrogate import GPSurrogate


def fit_models(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    random_state: int = 0,
    n_restarts: int = 5,
    start: Sequence[GPSurrogate] | None = None,
) -> list[GPSurrogate]:
    """Fit one surrogate per column of ``Y`` on its measured (non-NaN) rows.

    Args:
        X: Encoded inputs ``(n, d)``.
        Y: Objectives on the model scale ``(n, k)``, NaN where not measured.
        random_state: Seed of the optimiser's restarts (the same for every objective).
        n_restarts: Restarts of each marginal-likelihood optimisation.
        start: Surrogates fitted earlier, one per objective, to warm-start from.

    Raises:
        NoObservationsError: When an objective has no measured value.
    """
    X = np.asarray(X, dtype=float)
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    models = []
    for j in range(Y.shape[1]):
        rows = ~np.isnan(Y[:, j])
        if not rows.any():
            raise NoObservationsError(f"objective {j} has no measured value to fit a model on")
        model = GPSurrogate(n_restarts=n_restarts, random_state=random_state)
        models.append(model.fit(X[rows], Y[rows, j], start=None if start is None else start[j]))
    return models


def predict_all(models: Sequence[GPSurrogate], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means and latent stds of every objective at ``X``: two ``(m, k)`` arrays."""
    pairs = [m.predict(X) for m in models]
    return np.column_stack([p[0] for p in pairs]), np.column_stack([p[1] for p in pairs])
