"""How points of a search space map to the unit cube the surrogate works on, and back.

Numeric parameters are scaled by their current range (one column each): ``x`` itself, or
``ln x`` for a parameter on a log scale (:func:`to_unit`, :func:`from_unit`). Categoricals are
one-hot (one column per label).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kiln.errors import OutsideSpaceError
from kiln.parameters import (
    CategoricalParameter,
    ContinuousParameter,
    NumericParameter,
    Parameter,
    Point,
    format_number,
)


def _log_span(p: NumericParameter) -> float:
    """Width of the current range in ``ln`` units (1 when the range is a single point)."""
    return (math.log(p.high) - math.log(p.low)) or 1.0


def to_unit(p: NumericParameter, x: Any) -> np.ndarray:
    """A numeric parameter's values as unit-cube coordinates: ``(x - low) / span``, or on a log
    scale ``(ln x - ln low) / (ln high - ln low)``; values outside the range map outside
    ``[0, 1]``.

    Raises:
        OutsideSpaceError: For a value <= 0 on a log scale.
    """
    x = np.asarray(x, dtype=float)
    if p.scale != "log":
        return (x - p.low) / p.span
    bad = x[~(x > 0)]
    if bad.size:
        raise OutsideSpaceError(p.name, f"{format_number(bad[0])} must be > 0 on a log scale")
    return (np.log(x) - math.log(p.low)) / _log_span(p)


def from_unit(p: NumericParameter, u: Any) -> np.ndarray:
    """The inverse of :func:`to_unit`: ``low + u * span``, or ``low * (high / low) ** u``."""
    u = np.asarray(u, dtype=float)
    if p.scale != "log":
        return p.low + u * p.span
    return np.exp(math.log(p.low) + u * _log_span(p))


def dim(parameters: Sequence[Parameter]) -> int:
    """Number of encoded columns (one per numeric parameter, one per category)."""
    return sum(len(p.values) if p.kind == "categorical" else 1 for p in parameters)


def columns(parameters: Sequence[Parameter]) -> list[tuple[str, str | None]]:
    """``(parameter, label)`` per encoded column; ``label`` is None for numeric columns."""
    cols: list[tuple[str, str | None]] = []
    for p in parameters:
        if isinstance(p, CategoricalParameter):
            cols.extend((p.name, v) for v in p.values)
        else:
            cols.append((p.name, None))
    return cols


def encode(parameters: Sequence[Parameter], points: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Map points to the unit cube (numeric) and one-hot columns (categorical).

    Numeric values are scaled by the current range (:func:`to_unit`), so values outside it
    (old observations after a narrowing) map outside ``[0, 1]``.

    Args:
        points: Points holding every parameter (see :meth:`SearchSpace.check_point`).

    Returns:
        Array of shape ``(len(points), dim(parameters))``.

    Raises:
        OutsideSpaceError: For a missing parameter, an unknown label or a value <= 0 on a log
            scale.
    """
    n = len(points)
    out = np.zeros((n, dim(parameters)))
    col = 0
    for p in parameters:
        try:
            raw = [pt[p.name] for pt in points]
        except KeyError:
            raise OutsideSpaceError(p.name, "missing; every parameter needs a value") from None
        if isinstance(p, CategoricalParameter):
            index = {v: i for i, v in enumerate(p.values)}
            for r, v in enumerate(raw):
                if v not in index:
                    raise OutsideSpaceError(p.name, f"{v!r} is not one of {p.values}")
                out[r, col + index[v]] = 1.0
            col += len(p.values)
        else:
            out[:, col] = to_unit(p, raw)
            col += 1
    return out


def decode(parameters: Sequence[Parameter], row: np.ndarray) -> Point:
    """Map one encoded row back to a point, snapping to steps/listed values/labels."""
    point: Point = {}
    col = 0
    for p in parameters:
        if isinstance(p, CategoricalParameter):
            k = len(p.values)
            point[p.name] = p.values[int(np.argmax(row[col : col + k]))]
            col += k
        else:
            point[p.name] = p.snap(float(from_unit(p, row[col])))
            col += 1
    return point


def continuous_columns(parameters: Sequence[Parameter]) -> list[int]:
    """Encoded columns of continuous parameters (those a local optimiser may move)."""
    cols: list[int] = []
    col = 0
    for p in parameters:
        if isinstance(p, CategoricalParameter):
            col += len(p.values)
            continue
        if isinstance(p, ContinuousParameter):
            cols.append(col)
        col += 1
    return cols


def length_scales_in_units(
    parameters: Sequence[Parameter], length_scales: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """Convert unit-cube length scales to each parameter's own units.

    Numeric parameters get ``scale * (high - low)`` in their unit; a parameter on a log scale
    gets a factor instead, ``(high / low) ** scale``: the model's correlation falls off over
    that ratio of values (e.g. 3.0 for "from 10 to 30 min", not a difference in minutes).
    Categoricals get one length scale per label, in one-hot units.
    """
    out: dict[str, Any] = {}
    col = 0
    for p in parameters:
        if isinstance(p, CategoricalParameter):
            k = len(p.values)
            out[p.name] = {v: float(length_scales[col + i]) for i, v in enumerate(p.values)}
            col += k
        else:
            ls = float(length_scales[col])
            out[p.name] = math.exp(ls * _log_span(p)) if p.scale == "log" else ls * p.span
            col += 1
    return out


def length_scale_factors(parameters: Sequence[Parameter]) -> list[str]:
    """The parameters whose :func:`length_scales_in_units` entry is a factor (log scale)."""
    return [p.name for p in parameters if getattr(p, "scale", None) == "log"]
