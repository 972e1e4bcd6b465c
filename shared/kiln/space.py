"""Versioned search spaces: an ordered set of parameters (:mod:`kiln.parameters`).

A :class:`SearchSpace` knows which points are allowed (``validate``/``contains``), lists the
candidates a batch is chosen from (``grid``/``sample``/``candidates``) and maps points to the
unit cube the surrogate works on (``encode``; categoricals are one-hot).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from kiln import encoding
from kiln.constraints.candidates import feasible_candidates
from kiln.constraints.checks import ConstraintSet
from kiln.errors import OutsideSpaceError, SpaceError, SpaceTooLargeError
from kiln.parameters import (
    MAX_DECIMALS,
    REL_TOL,
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    Parameter,
    Point,
    Value,
    clean_number,
    format_number,
    is_number,
    listed_position,
    parameter_from_dict,
    step_position,
)

DEFAULT_MAX_GRID = 200_000
DEFAULT_N_SAMPLES = 20_000


class SearchSpace:
    """An ordered set of parameters with a version number.

    Args:
        parameters: The parameters, in the order of the encoded columns.
        version: Incremented by the campaign each time the ranges change.
        constraints: The campaign's ``"constraints"`` (JSON list, see :mod:`kiln.constraints`) or
            a :class:`ConstraintSet`; candidates satisfy them all.

    Raises:
        SpaceError: On an empty list, duplicate names, a bad version or a bad constraint.
    """

    def __init__(
        self,
        parameters: Sequence[Parameter],
        version: int = 1,
        constraints: Sequence[Mapping[str, Any]] | ConstraintSet | None = None,
    ) -> None:
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
        if isinstance(constraints, ConstraintSet):
            constraints = constraints.to_list()
        self.constraints = ConstraintSet.from_json(constraints, self.parameters)

    # ----------------------------------------------------------------- (de)serialisation
    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> SearchSpace:
        """Build a space from ``{"parameters": [...], "version": 1, "constraints": [...]}``.

        Raises:
            SpaceError: With ``field`` naming the offending entry, e.g. ``"parameters[2].high"``.
        """
        if not isinstance(payload, Mapping):
            raise SpaceError("a space must be an object", field="parameters")
        raw = payload.get("parameters")
        if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
            raise SpaceError("parameters must be a list of parameter objects", field="parameters")
        params = [parameter_from_dict(p, path=f"parameters[{i}]") for i, p in enumerate(raw)]
        return cls(params, payload.get("version", 1), payload.get("constraints"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape accepted by :meth:`from_dict` (``constraints`` only when there are any)."""
        out: dict[str, Any] = {
            "parameters": [p.to_dict() for p in self.parameters],
            "version": self.version,
        }
        if self.constraints:
            out["constraints"] = self.constraints.to_list()
        return out

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
        return encoding.dim(self.parameters)

    def columns(self) -> list[tuple[str, str | None]]:
        """``(parameter, label)`` per encoded column; ``label`` is None for numeric columns."""
        return encoding.columns(self.parameters)

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
        if not is_number(value):
            unit = f" in {p.unit}" if p.unit else ""
            raise OutsideSpaceError(
                p.name, f"value {value!r} must be a number{unit}; send it as a JSON number"
            )
        if not math.isfinite(float(value)):
            raise OutsideSpaceError(
                p.name, f"value {value!r} must be finite; report the set-point actually used"
            )
        if p.scale == "log" and value <= 0:
            raise OutsideSpaceError(p.name, f"{format_number(value)} must be > 0 on a log scale")

    def check_value(self, name: str, value: Any) -> None:
        """Check one parameter's value: its type, finiteness, a listed label, > 0 on a log scale
        (no range check).

        Raises:
            OutsideSpaceError: Naming the parameter and the reason.
        """
        self._check_value(self._by_name[name], value)

    def check_point(self, point: Mapping[str, Any]) -> None:
        """Check that ``point`` can be encoded: known and complete names, types, labels, values
        > 0 on a log scale.

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
            tol = REL_TOL * max(1.0, abs(lo), abs(hi))
            if x < lo - tol or x > hi + tol:
                which = "hard limits" if (p.hard_low, p.hard_high) != (None, None) else "range"
                raise OutsideSpaceError(
                    p.name,
                    f"{format_number(x)} is outside the {which} [{format_number(lo)}, {format_number(hi)}]; measure inside "
                    "them or widen the campaign's space first",
                )
            ptol = REL_TOL * max(1.0, abs(p.low), abs(p.high))
            if x < p.low - ptol or x > p.high + ptol:
                flags.append(
                    f"{p.name} outside current range [{format_number(p.low)}, {format_number(p.high)}]"
                )
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
                ks = [listed_position(p, pt[p.name]) for pt in points]
            else:
                n = p.n_steps() or 1
                ks = [step_position(p, n, pt[p.name]) for pt in points]
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
        """Draw ``n`` random points: uniform (log-uniform on a log scale) where a continuous
        parameter has no step, else uniform over its steps or listed values.

        Args:
            n: Number of points.
            rng: Source of randomness.
        """
        cols: list[list[Value]] = []
        for p in self.parameters:
            if isinstance(p, ContinuousParameter):
                if p.step is None and p.scale == "log":
                    # log-uniform: uniform in the encoded (ln) coordinate
                    u = encoding.from_unit(p, rng.uniform(0.0, 1.0, size=n))
                    u = np.clip(u, p.low, p.high)
                    cols.append([clean_number(x, MAX_DECIMALS) for x in u])
                elif p.step is None:
                    u = rng.uniform(p.low, p.high, size=n)
                    cols.append([clean_number(x, MAX_DECIMALS) for x in u])
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

        Sampled candidates are de-duplicated (they may repeat on coarse steps). With constraints,
        only feasible candidates (:func:`~kiln.constraints.candidates.feasible_candidates`).

        Raises:
            InfeasibleConstraintsError: When the constraints leave no candidate.
        """
        if self.constraints:
            return feasible_candidates(self, rng, max_grid, n_samples)
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
        """Map points to the unit cube and one-hot columns (:func:`kiln.encoding.encode`)."""
        return encoding.encode(self.parameters, points)

    def decode(self, row: np.ndarray) -> Point:
        """Map one encoded row back to a point (:func:`kiln.encoding.decode`)."""
        return encoding.decode(self.parameters, row)

    def continuous_columns(self) -> list[int]:
        """Encoded columns of continuous parameters (those a local optimiser may move)."""
        return encoding.continuous_columns(self.parameters)

    def length_scales_in_units(self, length_scales: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Unit-cube length scales in each parameter's own units (see :mod:`kiln.encoding`)."""
        return encoding.length_scales_in_units(self.parameters, length_scales)

    def length_scale_factors(self) -> list[str]:
        """Parameters whose length scale in units is a factor, not a difference (log scale)."""
        return encoding.length_scale_factors(self.parameters)
