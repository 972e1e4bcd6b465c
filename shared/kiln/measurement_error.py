"""A result's own measurement error (``objective_sd``) and its noise variance on the model scale.

A result may carry ``objective_sd``: the standard deviation of its objective value, in the
objective's own unit (e.g. the spread of repeated impedance fits of one pellet). The Gaussian
process then gives that point its own noise: the variance is added to the point's diagonal entry
of the training covariance (scikit-learn's per-sample ``alpha``), on top of the fitted white
noise, which keeps modelling what no stated error explains. A precise measurement therefore
pulls the model harder than a rough one. Results without ``objective_sd`` are modelled exactly as
before (white noise and jitter only), so a campaign that never states one fits the same model.

The model works on a transformed scale (:mod:`kiln.objective`), so the sd is carried through the
transform by the delta method, ``sd_model ~= |d to_model / d x| * sd``:

* ``log10``: ``sd_model = sd / (x ln 10)`` (first order; good while ``sd`` is well below ``x``:
  at ``sd = x / 2`` the exact spread of ``log10`` differs by about 10 %);
* ``none``: ``sd_model = sd`` (negating a minimised objective does not change a spread).

The surrogate normalises its targets (mean 0, std 1), so the variance it adds is
``sd_model**2 / y_std**2`` (:meth:`kiln.model.surrogate.GPSurrogate.fit` does that division).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kiln.errors import InvalidObservationError, ModelFitError
from kiln.objective import Objective

__all__ = ["OBJECTIVE_SD", "check_objective_sd", "checked_noise_var", "model_scale_variance"]

#: The result field that carries a measurement's standard deviation (objective's unit).
OBJECTIVE_SD = "objective_sd"


def check_objective_sd(value: Any, *, field: str = OBJECTIVE_SD) -> float:
    """Return ``value`` as a float when it is a usable standard deviation.

    A standard deviation must be a finite number above zero (zero would claim an exact
    measurement, which the model cannot honour without ignoring every other result there). It is
    in the objective's unit; no upper limit is imposed: a very rough measurement simply weighs
    very little.

    Raises:
        InvalidObservationError: Naming ``field``, for non-numbers, NaN/inf and values ``<= 0``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidObservationError(field, f"{value!r} is not a number")
    sd = float(value)
    if not math.isfinite(sd):
        raise InvalidObservationError(field, f"{sd!r} is not finite; give the measured spread")
    if sd <= 0:
        raise InvalidObservationError(
            field,
            f"{sd!r} is not positive; a standard deviation is > 0 (omit it when unknown)",
        )
    return sd


def model_scale_variance(
    objective: Objective, values: Sequence[float], sds: Sequence[float | None]
) -> np.ndarray | None:
    """Each result's measurement variance on the model scale (0 where no sd was given).

    Args:
        objective: Its transform defines the model scale.
        values: Objective values in the original unit (checked already).
        sds: ``objective_sd`` per value (checked already), None where a result has none.

    Returns:
        Variances, shape ``(n,)``; None when no result carries an sd (nothing changes then).
    """
    if all(sd is None for sd in sds):
        return None
    x = np.asarray(values, dtype=float)
    sd = np.array([0.0 if s is None else float(s) for s in sds])
    if objective.transform == "log10":
        sd = sd / (x * math.log(10.0))  # delta method: d log10(x) / dx = 1 / (x ln 10)
    return sd**2


def checked_noise_var(noise_var: ArrayLike | None, n: int) -> np.ndarray | None:
    """Per-point model-scale variances as a float array of shape ``(n,)``, or None.

    Raises:
        ModelFitError: For another shape, or a value that is not finite and ``>= 0``.
    """
    if noise_var is None:
        return None
    v = np.asarray(noise_var, dtype=float)
    if v.shape != (n,) or not (np.isfinite(v).all() and (v >= 0).all()):
        raise ModelFitError(
            f"per-point noise variances must be {n} finite values >= 0; got shape {v.shape}"
        )
    return v
