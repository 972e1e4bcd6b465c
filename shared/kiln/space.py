"""Versioned search spaces: continuous, discrete and categorical parameters.

A :class:`SearchSpace` knows which points are allowed (``validate``/``contains``), lists the
candidates a batch is chosen from (``grid``/``sample``/``candidates``) and maps points to the
unit cube the surrogate works on (``encode``; categoricals are one-hot).

Grid values are rounded to the number of decimals of ``low`` and ``step`` so that a step of
1.25 from -22.5 yields ``-11.25`` (not ``-11.250000000000002``) and integral grids yield ints,
which keeps the JSON the services emit clean.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np

from kiln.errors import OutsideSpaceError, SpaceError, SpaceTooLargeError

Number: TypeAlias = int | float
Value: TypeAlias = int | float | str
Point: TypeAlias = dict[str, Value]

DEFAULT_MAX_GRID = 200_000
DEFAULT_N_SAMPLES = 20_000
_MAX_DECIMALS = 12
_REL_TOL = 1e-9


def _decimals(x: float) -> int:
    """The fewest decimals (at most 12) that represent ``x`` exactly as typed."""
    for d in range(_MAX_DECIMALS + 1):
        if round(x, d) == x:
            return d
    return _MAX_DECIMALS


def _clean(x: float, decimals: int) -> Number:
    """Round ``x`` to ``decimals`` places; an int when no decimals are needed."""
    value = round(float(x), decimals)
    if decimals == 0:
        return int(value)
    return value + 0.0  # turns -0.0 into 0.0


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def _fmt(x: float) -> str:
    return f"{x:g}"


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
    """

    name: str
    low: float
    high: float
    step: float | None = None
    unit: str | None = None
    hard_low: float | None = None
    hard_high: float | None = None
    kind: Literal["continuous"] = field(default="continuous", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_finite(self.low, "low")
        _check_finite(self.high, "high")
        if self.high < self.low:
            raise SpaceError(
                f"high={_fmt(self.high)} is below low={_fmt(self.low)}; swap them", field="high"
            )
        if self.step is not None:
            _check_finite(self.step, "step")
            if self.step <= 0:
                raise SpaceError(f"step={_fmt(self.step)} must be positive", field="step")
        _check_hard_limits(self.low, self.high, self.hard_low, self.hard_high)

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
        return math.floor((self.high - self.low) / self.step + _REL_TOL) + 1

    def grid_values(self) -> list[Number]:
        """All grid values ``low + k * step`` inside ``[low, high]``, cleanly rounded."""
        n = self.n_steps()
        if n == 1:
            return [_clean(self.low, self.decimals)]
        if n is None or self.step is None:
            raise SpaceError(f"{self.name} has no step, so it has no grid", field="step")
        return [_clean(self.low + k * self.step, self.decimals) for k in range(n)]

    def snap(self, x: float) -> Number:
        """Clip ``x`` into the current range and round it to the nearest step."""
        x = min(max(float(x), self.low), self.high)
        if self.step is None:
            return _clean(x, _MAX_DECIMALS)
        n = self.n_steps() or 1
        k = min(max(round((x - self.low) / self.step), 0), n - 1)
        return _clean(self.low + k * self.step, self.decimals)

    def on_grid(self, x: float) -> bool:
        """Whether ``x`` lies in the current range and on a step."""
        tol = _REL_TOL * max(1.0, abs(self.high), abs(self.low))
        if not self.low - tol <= x <= self.high + tol:
            return False
        if self.step is None:
            return True
        k = (x - self.low) / self.step
        return abs(k - round(k)) < 1e-6

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of this parameter (optional fields only when set)."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
        }
        for key in ("step", "unit", "hard_low", "hard_high"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class DiscreteParameter:
    """A numeric parameter restricted to listed values (kept sorted and unique).

    Args:
        name: Parameter name, unique within a space.
        values: The allowed values.
        unit: Optional unit label.
        hard_low: Optional floor that a later widening may reach (``<= min(values)``).
        hard_high: Optional ceiling that a later widening may reach (``>= max(values)``).
    """

    name: str
    values: list[Number]
    unit: str | None = None
    hard_low: float | None = None
    hard_high: float | None = None
    kind: Literal["discrete"] = field(default="discrete", init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
            raise SpaceError("values must be a list of numbers", field="values")
        if len(self.values) == 0:
            raise SpaceError("values is empty; list at least one value", field="values")
        for i, v in enumerate(self.values):
            if not _is_number(v) or not math.isfinite(float(v)):
                raise SpaceError(f"value {v!r} is not a finite number", field=f"values[{i}]")
        clean = sorted({_num(v) for v in self.values})
        object.__setattr__(self, "values", clean)
        _check_hard_limits(self.low, self.high, self.hard_low, self.hard_high)

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
        return any(math.isclose(x, v, rel_tol=_REL_TOL, abs_tol=1e-12) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload of this parameter."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "values": list(self.values)}
        for key in ("unit", "hard_low", "hard_high"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


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
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
            raise SpaceError("values must be a list of strings", field="values")
        if len(self.values) == 0:
            raise SpaceError("values is empty; list at least one label", field="values")
        for i, v in enumerate(self.values):
            if not isinstance(v, str) or not v:
                raise SpaceError(f"label {v!r} is not a non-empty string", field=f"values[{i}]")
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


def _listed_position(p: DiscreteParameter, x: Any) -> int:
    """Index of the listed value ``x`` is (within tolerance), else -1."""
    if not _is_number(x):
        return -1
    k = int(np.searchsorted(p.values, float(x)))
    for j in (k - 1, k):
        if 0 <= j < len(p.values) and math.isclose(
            float(x), p.values[j], rel_tol=_REL_TOL, abs_tol=1e-12
        ):
            return j
    return -1


def _step_position(p: ContinuousParameter, n: int, x: Any) -> int:
    """Index of the grid step ``x`` is on (within tolerance), else -1."""
    if not _is_number(x) or not p.on_grid(float(x)):
        return -1
    if n == 1 or p.step is None:
        return 0
    return min(max(round((float(x) - p.low) / p.step), 0), n - 1)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise SpaceError(f"name {name!r} must be a non-empty string", field="name")


def _check_finite(x: Any, key: str) -> None:
    if not _is_number(x) or not math.isfinite(float(x)):
        raise SpaceError(f"{key}={x!r} must be a finite number", field=key)


def _check_hard_limits(
    low: float, high: float, hard_low: float | None, hard_high: float | None
) -> None:
    if hard_low is not None:
        _check_finite(hard_low, "hard_low")
        if hard_low > low:
            raise SpaceError(
                f"hard_low={_fmt(hard_low)} is above the range's low={_fmt(low)}; "
                "hard limits must contain the range",
                field="hard_low",
            )
    if hard_high is not None:
        _check_finite(hard_high, "hard_high")
        if hard_high < high:
            raise SpaceError(
                f"hard_high={_fmt(hard_high)} is below the range's high={_fmt(high)}; "
                "hard limits must contain the range",
                field="hard_high",
            )


_KINDS: dict[str, Any] = {
    "continuous": ContinuousParameter,
    "discrete": DiscreteParameter,
    "categorical": CategoricalParameter,
}
_FIELDS: dict[str, set[str]] = {
    "continuous": {"name", "kind", "low", "high", "step", "unit", "hard_low", "hard_high"},
    "discrete": {"name", "kind", "values", "unit", "hard_low", "hard_high"},
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


class SearchSpace:
    """An ordered set of parameters with a version number.

    Args:
        parameters: The parameters, in the order of the encoded columns.
        version: Incremented by the campaign each time the ranges change.

    Raises:
        SpaceError: On an empty list, duplicate names or a bad version.
    """

    def __init__(self, parameters: Sequence[Parameter], version: int = 1) -> None:
        if len(parameters) == 0:
            raise SpaceError("a space needs at least one parameter", field="parameters")
        seen: set[str] = set()
        for i, p in enumerate(parameters):
            if not isinstance(p, ContinuousParameter | DiscreteParameter | CategoricalParameter):
                raise SpaceError(f"{p!r} is not a parameter", field=f"parameters[{i}]")
            if p.name in seen:
                raise SpaceError(
                    f"name {p.name!r} is used twice; names must be unique",
                    field=f"parameters[{i}].name",
                )
            seen.add(p.name)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SpaceError(f"version={version!r} must be a positive integer", field="version")
        self.parameters: list[Parameter] = list(parameters)
        self.version = version
        self._by_name = {p.name: p for p in self.parameters}

    # ----------------------------------------------------------------- (de)serialisation
    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> SearchSpace:
        """Build a space from ``{"parameters": [...], "version": 1}``.

        Raises:
            SpaceError: With ``field`` naming the offending entry, e.g. ``"parameters[2].high"``.
        """
        if not isinstance(payload, Mapping):
            raise SpaceError("a space must be an object", field="parameters")
        raw = payload.get("parameters")
        if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
            raise SpaceError("parameters must be a list of parameter objects", field="parameters")
        params = [parameter_from_dict(p, path=f"parameters[{i}]") for i, p in enumerate(raw)]
        return cls(params, version=payload.get("version", 1))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape accepted by :meth:`from_dict`."""
        return {"parameters": [p.to_dict() for p in self.parameters], "version": self.version}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))

    def __repr__(self) -> str:
        return f"SearchSpace({self.parameters!r}, version={self.version})"

    # ----------------------------------------------------------------------- inspection
    @property
    def names(self) -> list[str]:
        """Parameter names in order."""
        return [p.name for p in self.parameters]

    def __getitem__(self, name: str) -> Parameter:
        return self._by_name[name]

    @property
    def dim(self) -> int:
        """Number of encoded columns (one per numeric parameter, one per category)."""
        return sum(len(p.values) if p.kind == "categorical" else 1 for p in self.parameters)

    def columns(self) -> list[tuple[str, str | None]]:
        """``(parameter, label)`` per encoded column; ``label`` is None for numeric columns."""
        cols: list[tuple[str, str | None]] = []
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                cols.extend((p.name, v) for v in p.values)
            else:
                cols.append((p.name, None))
        return cols

    def _check_value(self, p: Parameter, value: Any) -> None:
        """Raise OutsideSpaceError unless ``value`` has the right type (and is finite)."""
        if isinstance(p, CategoricalParameter):
            if not isinstance(value, str):
                raise OutsideSpaceError(
                    p.name, f"value {value!r} must be one of the labels {p.values}"
                )
            if value not in p.values:
                raise OutsideSpaceError(
                    p.name, f"{value!r} is not one of {p.values}; use a listed label"
                )
            return
        if not _is_number(value):
            unit = f" in {p.unit}" if p.unit else ""
            raise OutsideSpaceError(
                p.name, f"value {value!r} must be a number{unit}; send it as a JSON number"
            )
        if not math.isfinite(float(value)):
            raise OutsideSpaceError(
                p.name, f"value {value!r} must be finite; report the set-point actually used"
            )

    def check_value(self, name: str, value: Any) -> None:
        """Check one parameter's value: its type, finiteness, a listed label (no range check).

        Raises:
            OutsideSpaceError: Naming the parameter and the reason.
        """
        self._check_value(self._by_name[name], value)

    def check_point(self, point: Mapping[str, Any]) -> None:
        """Check that ``point`` can be encoded: known and complete names, types, labels.

        Unlike :meth:`validate`, ranges and hard limits are not checked: an old observation
        outside a narrowed space still trains the model.

        Raises:
            OutsideSpaceError: Naming the parameter and the reason.
        """
        if not isinstance(point, Mapping):
            raise OutsideSpaceError("parameters", f"{point!r} must be an object of values")
        for key in point:
            if key not in self._by_name:
                raise OutsideSpaceError(
                    str(key), f"unknown parameter {key!r}; this space has {self.names}"
                )
        for p in self.parameters:
            if p.name not in point:
                raise OutsideSpaceError(p.name, "missing; every parameter needs a value")
            self._check_value(p, point[p.name])

    def validate(self, point: Mapping[str, Any]) -> list[str]:
        """Check a measured point and return flags for accepted irregularities.

        A numeric value inside the hard limits but outside the current range is accepted and
        flagged, as is a value off the step grid or between listed values.

        Args:
            point: ``{parameter name: value}``.

        Returns:
            Flags such as ``["temperature_c outside current range [800, 1100]"]``.

        Raises:
            OutsideSpaceError: For unknown or missing parameters, non-finite numbers, wrong
                types, unknown labels, and numbers outside the hard limits (outside the current
                range when the parameter has no hard limits).
        """
        self.check_point(point)
        flags: list[str] = []
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                continue
            x = float(point[p.name])
            lo = p.hard_low if p.hard_low is not None else p.low
            hi = p.hard_high if p.hard_high is not None else p.high
            tol = _REL_TOL * max(1.0, abs(lo), abs(hi))
            if x < lo - tol or x > hi + tol:
                which = "hard limits" if (p.hard_low, p.hard_high) != (None, None) else "range"
                raise OutsideSpaceError(
                    p.name,
                    f"{_fmt(x)} is outside the {which} [{_fmt(lo)}, {_fmt(hi)}]; measure inside "
                    "them or widen the campaign's space first",
                )
            ptol = _REL_TOL * max(1.0, abs(p.low), abs(p.high))
            if x < p.low - ptol or x > p.high + ptol:
                flags.append(f"{p.name} outside current range [{_fmt(p.low)}, {_fmt(p.high)}]")
            elif not p.on_grid(x):
                what = "the step grid" if isinstance(p, ContinuousParameter) else "listed values"
                flags.append(f"{p.name} not on {what}")
        return flags

    def contains(self, point: Mapping[str, Any]) -> bool:
        """Whether ``point`` is a candidate: in the current range and on steps/listed values."""
        try:
            self.check_point(point)
        except OutsideSpaceError:
            return False
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                continue
            if not p.on_grid(float(point[p.name])):
                return False
        return True

    def key(self, point: Mapping[str, Any]) -> tuple[Value, ...]:
        """A hashable identity of a point, robust to float noise (12 significant digits)."""
        out: list[Value] = []
        for p in self.parameters:
            v = point[p.name]
            out.append(v if isinstance(p, CategoricalParameter) else float(f"{float(v):.12g}"))
        return tuple(out)

    # ------------------------------------------------------------------------ candidates
    def grid_size(self) -> int | None:
        """Number of grid points, or None when a continuous parameter has no step."""
        size = 1
        for p in self.parameters:
            if isinstance(p, ContinuousParameter):
                n = p.n_steps()
                if n is None:
                    return None
                size *= n
            else:
                size *= len(p.values)
        return size

    def grid_index(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Position of each point in :meth:`grid` (index arithmetic, no hashing), -1 off it.

        A numeric value counts as a grid value when it lies in the current range and on a step
        (or a listed value) within the tolerance of :meth:`ContinuousParameter.on_grid`.

        Raises:
            SpaceTooLargeError: When the space has no finite grid.
        """
        if self.grid_size() is None:
            raise SpaceTooLargeError("the space has a continuous parameter without a step")
        index = np.zeros(len(points), dtype=np.int64)
        found = np.ones(len(points), dtype=bool)
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                n = len(p.values)
                labels = {v: i for i, v in enumerate(p.values)}
                ks = [labels.get(pt[p.name], -1) for pt in points]
            elif isinstance(p, DiscreteParameter):
                n = len(p.values)
                ks = [_listed_position(p, pt[p.name]) for pt in points]
            else:
                n = p.n_steps() or 1
                ks = [_step_position(p, n, pt[p.name]) for pt in points]
            k = np.asarray(ks, dtype=np.int64)
            found &= k >= 0
            index = index * n + np.maximum(k, 0)
        return np.where(found, index, -1)

    def iter_grid(self) -> Iterator[Point]:
        """Iterate over the grid lazily (last parameter varies fastest)."""
        if self.grid_size() is None:
            raise SpaceTooLargeError(
                "the space has a continuous parameter without a step; sample it instead"
            )
        names = self.names
        for combo in itertools.product(*(p.grid_values() for p in self.parameters)):
            yield dict(zip(names, combo, strict=True))

    def grid(self, max_size: int = DEFAULT_MAX_GRID) -> list[Point]:
        """All grid points.

        Args:
            max_size: Size guard.

        Raises:
            SpaceTooLargeError: When the grid is infinite or larger than ``max_size``.
        """
        size = self.grid_size()
        if size is None:
            raise SpaceTooLargeError(
                "the space has a continuous parameter without a step; it has no finite grid, "
                "so sample candidates instead"
            )
        if size > max_size:
            raise SpaceTooLargeError(
                f"the grid has {size} points, more than the guard of {max_size}; "
                "coarsen the steps or sample candidates instead"
            )
        return list(self.iter_grid())

    def sample(self, n: int, rng: np.random.Generator) -> list[Point]:
        """Draw ``n`` random points (uniform; on steps and listed values where there are any).

        Args:
            n: Number of points.
            rng: Source of randomness.
        """
        cols: list[list[Value]] = []
        for p in self.parameters:
            if isinstance(p, ContinuousParameter):
                if p.step is None:
                    u = rng.uniform(p.low, p.high, size=n)
                    cols.append([_clean(x, _MAX_DECIMALS) for x in u])
                else:
                    ks = rng.integers(0, p.n_steps() or 1, size=n)
                    grid = p.grid_values()
                    cols.append([grid[k] for k in ks])
            else:
                idx = rng.integers(0, len(p.values), size=n)
                cols.append([p.values[i] for i in idx])
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]

    def candidates(
        self,
        rng: np.random.Generator,
        max_grid: int = DEFAULT_MAX_GRID,
        n_samples: int = DEFAULT_N_SAMPLES,
    ) -> list[Point]:
        """The grid when it is finite and at most ``max_grid``, else ``n_samples`` samples.

        Sampled candidates are de-duplicated (they may repeat on coarse steps).
        """
        if self.is_enumerable(max_grid):
            return self.grid(max_grid)
        seen: set[tuple[Value, ...]] = set()
        out: list[Point] = []
        for point in self.sample(n_samples, rng):
            k = self.key(point)
            if k not in seen:
                seen.add(k)
                out.append(point)
        return out

    def is_enumerable(self, max_grid: int = DEFAULT_MAX_GRID) -> bool:
        """Whether :meth:`candidates` returns the full grid."""
        size = self.grid_size()
        return size is not None and size <= max_grid

    # ------------------------------------------------------------------------- encoding
    def encode(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Map points to the unit cube (numeric) and one-hot columns (categorical).

        Numeric values are scaled by the current range, so values outside it (old
        observations after a narrowing) map outside ``[0, 1]``.

        Args:
            points: Points holding every parameter (see :meth:`check_point`).

        Returns:
            Array of shape ``(len(points), self.dim)``.

        Raises:
            OutsideSpaceError: For a missing parameter or an unknown label.
        """
        n = len(points)
        out = np.zeros((n, self.dim))
        col = 0
        for p in self.parameters:
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
                x = np.asarray(raw, dtype=float)
                out[:, col] = (x - p.low) / p.span
                col += 1
        return out

    def decode(self, row: np.ndarray) -> Point:
        """Map one encoded row back to a point, snapping to steps/listed values/labels."""
        point: Point = {}
        col = 0
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                k = len(p.values)
                point[p.name] = p.values[int(np.argmax(row[col : col + k]))]
                col += k
            else:
                point[p.name] = p.snap(p.low + float(row[col]) * p.span)
                col += 1
        return point

    def continuous_columns(self) -> list[int]:
        """Encoded columns of continuous parameters (those a local optimiser may move)."""
        cols: list[int] = []
        col = 0
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                col += len(p.values)
                continue
            if isinstance(p, ContinuousParameter):
                cols.append(col)
            col += 1
        return cols

    def length_scales_in_units(self, length_scales: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Convert unit-cube length scales to each parameter's own units.

        Numeric parameters get ``scale * (high - low)``; categoricals get one length scale per
        label, in one-hot units.
        """
        out: dict[str, Any] = {}
        col = 0
        for p in self.parameters:
            if isinstance(p, CategoricalParameter):
                k = len(p.values)
                out[p.name] = {v: float(length_scales[col + i]) for i, v in enumerate(p.values)}
                col += k
            else:
                out[p.name] = float(length_scales[col]) * p.span
                col += 1
        return out
