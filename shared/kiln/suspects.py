"""Suspect results: measurements the rest of the data cannot explain.

Each training result is predicted by the model fitted to all the *others*, with the fitted
hyperparameters held fixed (closed-form leave-one-out, Rasmussen & Williams eq. 5.12; no refits):
``mu_{-i} = y_i - [K^-1 y]_i / [K^-1]_ii`` and ``sigma^2_{-i} = 1 / [K^-1]_ii``, ``K`` the training
covariance including its noise (:meth:`kiln.model.posterior.GPPosterior.leave_one_out`). The
standardised residual ``z_i = (y_i - mu_{-i}) / sigma_{-i}`` is standard normal when the model
describes the data; a result with ``|z_i|`` above :data:`SUSPECT_THRESHOLD` is a suspect: a typo, a
mislabelled pellet or a broken furnace, or a real effect the model has not seen yet. Nothing is
excluded automatically: the list is for a person to look at.

Residuals are reported on the model scale, signed: positive when the result is better than the
others predict (the model scale always maximises, :mod:`kiln.objective`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kiln.model.posterior import GPPosterior

__all__ = ["SUSPECT_THRESHOLD", "standardised_loo_residuals", "suspects"]

#: ``|z|`` above which a result is listed as a suspect. Under the model each ``z_i`` is standard
#: normal, so a correct result exceeds 3 with probability 0.27 %: in a campaign of 100 results
#: about one false suspect in four campaigns, while 2.5 (1.2 %) would list one in most campaigns
#: and bury the real typos. A result off by several noise standard deviations where the model is
#: confident is still found: a tenfold typo in a conductivity is one decade, many times the
#: measurement noise (0.2 decades in :mod:`kiln.lab`).
SUSPECT_THRESHOLD = 3.0


def standardised_loo_residuals(posterior: GPPosterior) -> np.ndarray:
    """``(y_i - mu_{-i}) / sigma_{-i}`` for every training point (unitless, exact)."""
    residuals, variances = posterior.leave_one_out()
    return residuals / np.sqrt(variances)


def suspects(
    posterior: GPPosterior,
    sample_ids: Sequence[str | None],
    *,
    threshold: float = SUSPECT_THRESHOLD,
    loo: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """The results whose standardised leave-one-out residual exceeds ``threshold`` in size.

    Args:
        posterior: The fitted model's posterior (its training points, in order).
        sample_ids: The training results' ids, in the same order (None for a result without).
        threshold: The ``|z|`` above which a result is listed.
        loo: ``posterior.leave_one_out()`` when the caller has it already (it inverts ``K``).

    Returns:
        ``[{"sample_id", "residual"}]``, most extreme first; ``residual`` is the signed ``z``.

    Raises:
        ValueError: When ``sample_ids`` does not match the training points.
    """
    if len(sample_ids) != posterior.n:
        raise ValueError(f"{len(sample_ids)} sample ids for {posterior.n} training points")
    if posterior.n < 2:  # one point predicts nothing about itself
        return []
    residuals, variances = loo if loo is not None else posterior.leave_one_out()
    z = residuals / np.sqrt(variances)
    flagged = np.flatnonzero(np.abs(z) > threshold)
    flagged = flagged[np.argsort(-np.abs(z[flagged]), kind="stable")]
    return [{"sample_id": sample_ids[int(i)], "residual": float(z[i])} for i in flagged]
