"""The parameters of a search space: continuous, discrete and categorical, and their JSON.

A numeric parameter may be on a log scale (``scale="log"``, for holding times and other
quantities that act by factors): the surrogate and random sampling then work on ``ln x``
(:mod:`kiln.encoding`). Linear is the default and is stored as an absent ``scale``.

Grid values are rounded to the number of decimals of ``low`` and ``step`` so that a step of
1.25 from -22.5 yields ``-11.25`` (not ``-11.250000000000002``) and integral grids yield ints,
which keeps the JSON the services emit clean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np

from kiln.errors import SpaceError

Number: TypeAlias = int | float
Value: TypeAlias = int | float | str
Point: TypeAlias = dict[str, Value]
Scale: TypeAlias = Literal["linear", "log"] | None

#: The values of a numeric parameter's ``scale``; "linear" is stored as no scale at all.
SCALES = ("linear", "log")

MAX_DECIMALS = 12
REL_TOL = 1e-9


def _decimals(x: float) -> int:
    """The fewest decimals (at most 12) that represent ``x`` exactly as typed."""
    for d in range(MAX_DECIMALS + 1):
        if round(x, d) == x:
            return d
    return MAX_DECIMALS


def clean_number(x: float, decimals: int) -> Number:
    """Round ``x`` to ``decimals`` places; an int when no decimals are needed."""
    value = round(float(x), decimals)
    if decimals == 0:
        return int(value)
    return value + 0.0  # turns -0.0 into 0.0


def is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def format_number(x: float) -> str:
    return f"{x:g}"


def _set_fields(param: Any, keys: Sequence[str]) -> dict[str, Any]:
    """The optional fields of ``param`` that are set, in the order of ``keys``."""
    return {key: getattr(param, key) for key in keys if getattr(param, key) is not None}


@dataclass(frozen=True)
class ContinuousParameter:
    """A real-valued parameter on ``[low, high]``, optionally restricted to steps from ``low``.

    Args:
        name: Parameter name, unique within a space.
        low: Lower end of the current range.
        high: Upper end of the current range (``>= low``).
        step: Optional grid step; candidates are ``low + k * step`` up to ``high``.
        unit: Optional unit label, for display only.
        hard_low: Optional floor that a later widening may reach (``<= low``).
        hard_high: Optional ceiling that a later widening may reach (``>= high``).
        scale: ``"log"`` to encode and sample ``ln x`` (then ``low`` and ``hard_low`` must be
            positive); ``"linear"`` or None (the default) for ``x`` itself.
    """

    name: str
    low: float
    high: float
    step: float | None = None
    unit: str | None = None
    hard_low: float | None = None
    hard_high: float | None = None
    scale: Scale = None
    kind: Literal["continuous"] = field(default="continuous", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_finite(self.low, "low")
        _check_finite(self.high, "high")
        if self.high < self.low:
            raise SpaceError(
                f"high={format_number(self.high)} is below low={format_number(self.low)}; swap them",
                field="high",
            )
        if self.step is not None:
            _check_finite(self.step, "step")
            if self.step <= 0:
                raise SpaceError(f"step={format_number(self.step)} must be positive", field="step")
        _check_hard_limits(self.low, self.high, self.hard_low, self.hard_high)
        _set_scale(self, "low")

    @property
    def decimals(self) -> int:
        """Decimals used to round grid values (those of ``low`` and ``step``)."""
        parts = [self.low] + ([self.step] if self.step is not None else [])
        return max(_decimals(float(p)) for p in parts)

    @property
    def span(self) -> float:
        """Width of the current range (1 when the range is a single point)."""
        return float(self.high - self.low) or 1.0

    def n_steps(self) -> int | None:
        """Number of grid values, or None without a step (1 when ``low == high``)."""
        if self.high == self.low:
            return 1
        if self.step is None:
            return None
        return math.floor((self.high - self.low) / self.step + REL_TOL) + 1

    def grid_values(self) -> list[Number]:
        """All grid values ``low + k * step`` inside ``[low, high]``, cleanly rounded."""
        n = self.n_steps()
        if n == 1:
            return [clean_number(self.low, self.decimals)]
        if n is None or self.step is None:
            raise SpaceError(f"{self.name} has no step, so it has no grid", field="step")
        return [clean_number(self.low + k * self.step, self.decimals) for k in range(n)]

    def snap(self, x: float) -> Number:
        """Clip ``x`` into the current range and round it to the nearest step."""
        x = min(max(float(x), self.low), self.high)
        if self.step is None:
            return clean_number(x, MAX_DECIMALS)
        n = self.n_steps() or 1
        k = min(max(round((x - self.low) / self.step), 0), n - 1)
        return clean_number(self.low + k * self.step, self.decimals)

    def on_grid(self, x: float) -> bool:
        """Whether ``x`` lies in the current range and on a step."""
        tol = REL_TOL * max(1.0, abs(self.high), abs(self.low))
        if not self.low - tol <= x <= self.high + tol:
            return False
        if self.step is None:
            return True
        k = (x - self.low) / self.step
        return abs(k - round(k)) < 1e-6

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of this parameter (optional fields only when set)."""
        out = {"name": self.name, "kind": self.kind, "low": self.low, "high": self.high}
        return out | _set_fields(self, ("step", "unit", "hard_low", "hard_high", "scale"))


@dataclass(frozen=True)
class DiscreteParameter:
    """A numeric parameter restricted to listed values (kept sorted and unique).

    Args:
        name: Parameter name, unique within a space.
        values: The allowed values.
        unit: Optional unit label.
        hard_low: Optional floor that a later widening may reach (``<= min(values)``).
        hard_high: Optional ceiling that a later widening may reach (``>= max(values)``).
        scale: ``"log"`` to encode ``ln x`` (then the values and ``hard_low`` must be positive);
            ``"linear"`` or None (the default) for ``x`` itself.
    """

    name: str
    values: list[Number]
    unit: str | None = None
    hard_low: float | None = None
    hard_high: float | None = None
    scale: Scale = None
    kind: Literal["discrete"] = field(default="discrete", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_listed(self.values, "numbers", "value", "a finite number", _finite_number)
        clean = sorted({_num(v) for v in self.values})
        object.__setattr__(self, "values", clean)
        _check_hard_limits(self.low, self.high, self.hard_low, self.hard_high)
        _set_scale(self, "values")

    @property
    def low(self) -> float:
        """Smallest listed value."""
        return float(self.values[0])

    @property
    def high(self) -> float:
        """Largest listed value."""
        return float(self.values[-1])

    @property
    def span(self) -> float:
        """Width of the listed range (1 when there is a single value)."""
        return (self.high - self.low) or 1.0

    def grid_values(self) -> list[Number]:
        """The listed values."""
        return list(self.values)

    def snap(self, x: float) -> Number:
        """The listed value nearest to ``x``."""
        idx = int(np.argmin(np.abs(np.asarray(self.values, dtype=float) - float(x))))
        return self.values[idx]

    def on_grid(self, x: float) -> bool:
        """Whether ``x`` is one of the listed values."""
        return any(math.isclose(x, v, rel_tol=REL_TOL, abs_tol=1e-12) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of this parameter."""
        out = {"name": self.name, "kind": self.kind, "values": list(self.values)}
        return out | _set_fields(self, ("unit", "hard_low", "hard_high", "scale"))


@dataclass(frozen=True)
class CategoricalParameter:
    """A parameter taking one of listed strings (one-hot encoded for the surrogate).

    Args:
        name: Parameter name, unique within a space.
        values: The allowed labels, in the order of their one-hot columns.
    """

    name: str
    values: list[str]
    kind: Literal["categorical"] = field(default="categorical", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_listed(self.values, "strings", "label", "a non-empty string", _label)
        if len(set(self.values)) != len(self.values):
            raise SpaceError("labels are repeated; list each once", field="values")
        object.__setattr__(self, "values", list(self.values))

    def grid_values(self) -> list[str]:
        """The listed labels."""
        return list(self.values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of this parameter."""
        return {"name": self.name, "kind": self.kind, "values": list(self.values)}


Parameter: TypeAlias = ContinuousParameter | DiscreteParameter | CategoricalParameter
NumericParameter: TypeAlias = ContinuousParameter | DiscreteParameter


def _num(v: Any) -> Number:
    """A plain Python int or float (numpy scalars are converted)."""
    if isinstance(v, int | np.integer):
        return int(v)
    return float(v)


def listed_position(p: DiscreteParameter, x: Any) -> int:
    """Index of the listed value ``x`` is (within tolerance), else -1."""
    if not is_number(x):
        return -1
    k = int(np.searchsorted(p.values, float(x)))
    for j in (k - 1, k):
        if 0 <= j < len(p.values) and math.isclose(
            float(x), p.values[j], rel_tol=REL_TOL, abs_tol=1e-12
        ):
            return j
    return -1


def step_position(p: ContinuousParameter, n: int, x: Any) -> int:
    """Index of the grid step ``x`` is on (within tolerance), else -1."""
    if not is_number(x) or not p.on_grid(float(x)):
        return -1
    if n == 1 or p.step is None:
        return 0
    return min(max(round((float(x) - p.low) / p.step), 0), n - 1)


def _set_scale(param: ContinuousParameter | DiscreteParameter, low_field: str) -> None:
    """Check ``param.scale`` and store "linear" as None; a log scale needs positive values."""
    if param.scale not in (*SCALES, None):
        raise SpaceError(
            f"scale={param.scale!r} is unknown; use one of {list(SCALES)}", field="scale"
        )
    if param.scale == "linear":
        object.__setattr__(param, "scale", None)
        return
    if param.scale is None:
        return
    if param.low <= 0:
        raise SpaceError(
            f"the lowest value {format_number(param.low)} is not positive, so it has no log "
            "scale; raise it above 0 or use scale 'linear'",
            field=low_field,
        )
    if param.hard_low is not None and param.hard_low <= 0:
        raise SpaceError(
            f"hard_low={format_number(param.hard_low)} is not positive, so it has no log scale; "
            "raise it above 0 or use scale 'linear'",
            field="hard_low",
        )


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise SpaceError(f"name {name!r} must be a non-empty string", field="name")


def _check_listed(
    values: Any, kinds: str, item: str, what: str, valid: Callable[[Any], bool]
) -> None:
    """A non-empty list whose every entry is ``valid`` (errors name the entry)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise SpaceError(f"values must be a list of {kinds}", field="values")
    if len(values) == 0:
        raise SpaceError(f"values is empty; list at least one {item}", field="values")
    for i, v in enumerate(values):
        if not valid(v):
            raise SpaceError(f"{item} {v!r} is not {what}", field=f"values[{i}]")


def _finite_number(v: Any) -> bool:
    return is_number(v) and math.isfinite(float(v))


def _label(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


def _check_finite(x: Any, key: str) -> None:
    if not is_number(x) or not math.isfinite(float(x)):
        raise SpaceError(f"{key}={x!r} must be a finite number", field=key)


def _check_hard_limits(
    low: float, high: float, hard_low: float | None, hard_high: float | None
) -> None:
    if hard_low is not None:
        _check_finite(hard_low, "hard_low")
        if hard_low > low:
            raise SpaceError(
                f"hard_low={format_number(hard_low)} is above the range's low={format_number(low)}; "
                "hard limits must contain the range",
                field="hard_low",
            )
    if hard_high is not None:
        _check_finite(hard_high, "hard_high")
        if hard_high < high:
            raise SpaceError(
                f"hard_high={format_number(hard_high)} is below the range's high={format_number(high)}; "
                "hard limits must contain the range",
                field="hard_high",
            )


_KINDS: dict[str, Any] = {
    "continuous": ContinuousParameter,
    "discrete": DiscreteParameter,
    "categorical": CategoricalParameter,
}
_FIELDS: dict[str, set[str]] = {
    "continuous": {"name", "kind", "low", "high", "step", "unit", "hard_low", "hard_high", "scale"},
    "discrete": {"name", "kind", "values", "unit", "hard_low", "hard_high", "scale"},
    "categorical": {"name", "kind", "values"},
}


def parameter_from_dict(payload: Mapping[str, Any], *, path: str = "parameter") -> Parameter:
    """Build one parameter from its JSON payload.

    Args:
        payload: A dict with ``kind`` and the kind's fields (see DESIGN.md).
        path: Prefix for the ``field`` of errors, e.g. ``"parameters[2]"``.

    Returns:
        The parameter.

    Raises:
        SpaceError: On an unknown kind or field, a missing field or an invalid value; its
            ``field`` is e.g. ``"parameters[2].high"``.
    """
    if not isinstance(payload, Mapping):
        raise SpaceError("a parameter must be an object", field=path)
    # optional fields sent as null are the same as absent (serialisers often emit them)
    payload = {k: v for k, v in payload.items() if v is not None}
    kind = payload.get("kind")
    if kind not in _KINDS:
        raise SpaceError(
            f"kind {kind!r} is unknown; use one of {sorted(_KINDS)}", field=f"{path}.kind"
        )
    unknown = set(payload) - _FIELDS[kind]
    if unknown:
        key = sorted(unknown)[0]
        raise SpaceError(
            f"field {key!r} is not allowed for a {kind} parameter; allowed: "
            f"{sorted(_FIELDS[kind])}",
            field=f"{path}.{key}",
        )
    required = {"name", "low", "high"} if kind == "continuous" else {"name", "values"}
    for key in sorted(required):
        if key not in payload:
            raise SpaceError(f"{key} is required for a {kind} parameter", field=f"{path}.{key}")
    kwargs = {k: v for k, v in payload.items() if k != "kind"}
    try:
        param: Parameter = _KINDS[kind](**kwargs)
    except SpaceError as exc:
        sub = f".{exc.field}" if exc.field else ""
        raise SpaceError(str(exc), field=f"{path}{sub}") from None
    return param
