"""How a prediction and an acquisition value read: an interval on the model's scale, no raw 1e-85.

A proposal carries ``predicted_mean`` and ``predicted_std`` in the objective's unit. With a
``log10`` objective the model works on log10 of the value: the mean is ``10**m`` and the std is
the first-order spread ``ln(10) * mean * s`` of the model-scale std ``s``. So ``s`` is recovered
exactly and the one-std interval is ``[mean / 10**s, mean * 10**s]``: asymmetric, never negative,
as a log-normal spread is. With ``transform: none`` the interval is ``mean ± std``.

A proposal of a multi-objective campaign carries ``predicted``: ``{name: {"mean", "std"}}``, each
read the same way with its objective's transform.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


def objective_specs(campaign: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """A campaign's objectives as a list: its ``objectives`` (2-4), else its one ``objective``."""
    campaign = campaign or {}
    specs = campaign.get("objectives") or [campaign.get("objective") or {}]
    return [dict(s) for s in specs]


def prediction_columns(
    campaign: Mapping[str, Any] | None,
) -> list[tuple[str, Callable[[Mapping[str, Any]], str]]]:
    """The prediction columns of a proposals table: a heading and how to read a proposal.

    One column for a single-objective campaign (``predicted_mean``/``predicted_std``, as
    always); one per objective for a multi-objective one (the proposal's ``predicted``), and
    with outcome constraints the modelled probability of meeting them all.
    """
    specs = objective_specs(campaign)
    if not (campaign or {}).get("objectives"):
        spec = specs[0]
        heading = " ".join(w for w in ("predicted", spec.get("unit") or "", "(±1 std)") if w)
        transform = spec.get("transform", "log10")
        return [
            (
                heading,
                lambda p: format_prediction(
                    p.get("predicted_mean"), p.get("predicted_std"), transform
                ),
            )
        ]
    columns = [(_moo_heading(spec), _moo_cell(spec)) for spec in specs]
    if (campaign or {}).get("outcome_constraints"):
        columns.append(("P(meets constraints)", _probability))
    return columns


def _probability(proposal: Mapping[str, Any]) -> str:
    value = proposal.get("probability_feasible")
    return "-" if value is None else f"{float(value):.2f}"


def _moo_heading(spec: Mapping[str, Any]) -> str:
    unit = f" {spec['unit']}" if spec.get("unit") else ""
    return f"{spec.get('name')}{unit} (±1 std)"


def _moo_cell(spec: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    name, transform = spec.get("name"), spec.get("transform", "log10")

    def cell(proposal: Mapping[str, Any]) -> str:
        predicted = (proposal.get("predicted") or {}).get(name) or {}
        return format_prediction(predicted.get("mean"), predicted.get("std"), transform)

    return cell
