"""How a prediction and an acquisition value read: an interval on the model's scale, no raw 1e-85.

A proposal carries ``predicted_mean`` and ``predicted_std`` in the objective's unit. With a
``log10`` objective the model works on log10 of the value: the mean is ``10**m`` and the std is
the first-order spread ``ln(10) * mean * s`` of the model-scale std ``s``. So ``s`` is recovered
exactly and the one-std interval is ``[mean / 10**s, mean * 10**s]``: asymmetric, never negative,
as a log-normal spread is. With ``transform: none`` the interval is ``mean ± std``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Acquisition values below this fraction of the batch's largest read as "≈0".
NEGLIGIBLE = 1e-6


def prediction_interval(
    mean: float | None, std: float | None, transform: str = "log10"
) -> tuple[float, float] | None:
    """The one-std interval of a prediction on the model's scale, in the objective's unit.

    Returns:
        ``(low, high)``, or None without a prediction (a space-filling batch).
    """
    if mean is None or std is None:
        return None
    if transform != "log10":
        return mean - std, mean + std
    if mean <= 0:
        return None
    factor = 10.0 ** (std / (math.log(10.0) * mean))
    return mean / factor, mean * factor


def format_prediction(mean: float | None, std: float | None, transform: str = "log10") -> str:
    """A prediction as a chemist reads it: ``1.1e-04 – 5.2e-04`` (log10) or ``3.2 ± 0.4``."""
    interval = prediction_interval(mean, std, transform)
    if interval is None or mean is None or std is None:
        return "-" if mean is None else f"{mean:.2e}"
    if transform != "log10":
        return f"{mean:.3g} ± {std:.2g}"
    low, high = interval
    return f"{low:.1e} – {high:.1e}"


def format_acquisitions(values: Sequence[float | None]) -> list[str]:
    """Acquisition values of one batch, 3 significant digits; negligible ones as "≈0"."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    out = []
    for v in values:
        if v is None or not math.isfinite(v):
            out.append("-")
        elif top > 0 and 0 <= v < NEGLIGIBLE * top:
            out.append("≈0")
        else:
            out.append(f"{v:.3g}")
    return out
