"""A space's constraints, checked over encoded rows at once.

:class:`ConstraintSet` binds the parsed constraints (:mod:`kiln.constraints.definitions`) to the
parameters' encoding (:mod:`kiln.encoding`): a numeric value is ``from_unit`` of its column
(``low + column * span``, or geometric on a log scale), a label the argmax of its one-hot
block. Comparisons allow a float tolerance in the direction that keeps values on a boundary as
typed (``time_min > 120`` does not hold at 120 plus rounding noise).

Tolerance of ``==`` (linear): half the smallest change one step of a term makes (``|a_i|`` times
its step, or the smallest gap between its listed values). The grid points on the plane pass and a
point one such step off does not. With a continuous term without a step the tolerance is only the
float tolerance: candidates are made to satisfy such an equality by solving it for that term
(:meth:`ConstraintSet.repair`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kiln import encoding
from kiln.constraints.definitions import (
    Condition,
    Constraint,
    LinearConstraint,
    parse_constraints,
)
from kiln.parameters import (
    REL_TOL,
    CategoricalParameter,
    ContinuousParameter,
    DiscreteParameter,
    Parameter,
)


class ConstraintSet:
    """The constraints of a space, bound to its parameters.

    Args:
        parameters: The space's parameters (their order is the encoding's).
        constraints: Parsed constraints.
    """

    def __init__(self, parameters: Sequence[Parameter], constraints: Sequence[Constraint]) -> None:
        self.parameters = list(parameters)
        self.constraints = list(constraints)
        self._column: dict[str, int] = {}
        col = 0
        for p in self.parameters:
            self._column[p.name] = col
            col += len(p.values) if isinstance(p, CategoricalParameter) else 1
        self._by_name = {p.name: p for p in self.parameters}

    @classmethod
    def from_json(cls, raw: Any, parameters: Sequence[Parameter]) -> ConstraintSet:
        """Parse and validate (see :func:`~kiln.constraints.definitions.parse_constraints`)."""
        return cls(parameters, parse_constraints(raw, parameters))

    def __len__(self) -> int:
        return len(self.constraints)

    def __bool__(self) -> bool:
        return bool(self.constraints)

    def to_list(self) -> list[dict[str, Any]]:
        """The JSON list accepted by :meth:`from_json`."""
        return [c.to_dict() for c in self.constraints]

    def describe(self, which: Sequence[int] | None = None) -> str:
        """``constraints.0 (a + b <= 1), ...`` for the given (default: all) constraints."""
        idx = range(len(self.constraints)) if which is None else which
        return ", ".join(f"constraints.{i} ({self.constraints[i].describe()})" for i in idx)

    # ---------------------------------------------------------------------------- values
    def _values(self, X: np.ndarray, name: str) -> np.ndarray:
        """A numeric parameter's values, or a categorical's label index, per encoded row."""
        p, col = self._by_name[name], self._column[name]
        if isinstance(p, CategoricalParameter):
            return np.argmax(X[:, col : col + len(p.values)], axis=1)
        return encoding.from_unit(p, X[:, col])

    def _numeric(self, name: str) -> ContinuousParameter | DiscreteParameter:
        p = self._by_name[name]
        assert not isinstance(p, CategoricalParameter)  # parsing admits numeric ones only here
        return p

    def _float_tol(self, scale: float) -> float:
        return REL_TOL * max(1.0, abs(scale))

    def _linear_scale(self, c: LinearConstraint) -> float:
        extent = sum(
            abs(a) * max(abs(self._numeric(n).low), abs(self._numeric(n).high)) for n, a in c.terms
        )
        return max(abs(c.rhs), extent)

    def equality_tolerance(self, c: LinearConstraint) -> float:
        """How far from ``rhs`` an ``==`` constraint still holds (see the module docstring)."""
        float_tol = self._float_tol(self._linear_scale(c))
        steps: list[float] = []
        for name, a in c.terms:
            gap = _granularity(self._by_name[name])
            if gap == 0.0:
                return float_tol
            if gap is not None and a != 0:
                steps.append(abs(a) * gap)
        return 0.5 * min(steps) + float_tol if steps else float_tol

    def _linear(self, X: np.ndarray, c: LinearConstraint) -> np.ndarray:
        lhs = np.zeros(X.shape[0])
        for name, a in c.terms:
            lhs += a * self._values(X, name)
        if c.op == "==":
            return np.abs(lhs - c.rhs) <= self.equality_tolerance(c)
        tol = self._float_tol(self._linear_scale(c))
        return lhs <= c.rhs + tol if c.op == "<=" else lhs >= c.rhs - tol

    def _condition(self, X: np.ndarray, c: Condition) -> np.ndarray:
        x = self._values(X, c.parameter)
        p = self._by_name[c.parameter]
        if isinstance(p, CategoricalParameter):
            assert isinstance(c.value, tuple)
            return np.isin(x, [p.values.index(str(v)) for v in c.value])
        scale = max(abs(p.low), abs(p.high))
        if isinstance(c.value, tuple):
            return np.any(
                [np.abs(x - v) <= self._float_tol(max(scale, abs(float(v)))) for v in c.value],
                axis=0,
            )
        v = float(c.value)
        tol = self._float_tol(max(scale, abs(v)))
        return {
            "<": lambda: x < v - tol,
            "<=": lambda: x <= v + tol,
            ">": lambda: x > v + tol,
            ">=": lambda: x >= v - tol,
            "==": lambda: np.abs(x - v) <= tol,
        }[c.op]()

    # ----------------------------------------------------------------------------- checks
    def satisfied(self, X: np.ndarray) -> np.ndarray:
        """``(rows, constraints)`` booleans: which encoded rows satisfy which constraint."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        out = np.ones((X.shape[0], len(self.constraints)), dtype=bool)
        for k, c in enumerate(self.constraints):
            if isinstance(c, LinearConstraint):
                out[:, k] = self._linear(X, c)
            else:
                inside = np.ones(X.shape[0], dtype=bool)
                for cond in c.when:
                    inside &= self._condition(X, cond)
                out[:, k] = ~inside
        return out

    def mask(self, X: np.ndarray) -> np.ndarray:
        """The feasibility mask of encoded rows: True where every constraint holds."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not self.constraints:
            return np.ones(X.shape[0], dtype=bool)
        return np.asarray(self.satisfied(X).all(axis=1))

    def mask_points(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The feasibility mask of points (``{parameter: value}``)."""
        if not points:
            return np.ones(0, dtype=bool)
        return self.mask(encoding.encode(self.parameters, points))

    def violations(self, point: Mapping[str, Any]) -> list[str]:
        """Each constraint ``point`` breaks, named: ``["constraints.1 (forbidden: ...)"]``."""
        if not self.constraints:
            return []
        ok = self.satisfied(encoding.encode(self.parameters, [point]))[0]
        return [f"constraints.{k} ({self.constraints[k].describe()})" for k in np.flatnonzero(~ok)]

    # ----------------------------------------------------------------------------- repair
    def repair(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Solve each ``==`` with a continuous term without a step for its last such term.

        Returns:
            The repaired copy of ``X`` and a mask of the rows whose solved values stay in
            their parameter's current range (the others cannot satisfy the equality there).
        """
        X = np.array(X, dtype=float, copy=True)
        ok = np.ones(X.shape[0], dtype=bool)
        for c in self.constraints:
            if not isinstance(c, LinearConstraint) or c.op != "==":
                continue
            free = [(n, a) for n, a in c.terms if a != 0 and _granularity(self._by_name[n]) == 0.0]
            if not free:
                continue
            name, a_free = free[-1]
            rest = np.zeros(X.shape[0])
            for n, a in c.terms:
                if n != name:
                    rest += a * self._values(X, n)
            p = self._numeric(name)
            value = (c.rhs - rest) / a_free
            tol = self._float_tol(max(abs(p.low), abs(p.high)))
            ok &= (value >= p.low - tol) & (value <= p.high + tol)
            X[:, self._column[name]] = encoding.to_unit(p, np.clip(value, p.low, p.high))
        return X, ok

    def needs_repair(self) -> bool:
        """Whether an ``==`` has a continuous term without a step (see :meth:`repair`)."""
        return any(
            isinstance(c, LinearConstraint)
            and c.op == "=="
            and any(_granularity(self._by_name[n]) == 0.0 for n, a in c.terms if a != 0)
            for c in self.constraints
        )


def _granularity(p: Parameter) -> float | None:
    """The smallest change of a numeric parameter: its step, its smallest listed gap; 0.0 for a
    continuous parameter without a step; None when it has a single value."""
    if isinstance(p, ContinuousParameter):
        if p.high == p.low:
            return None
        return float(p.step) if p.step is not None else 0.0
    if isinstance(p, DiscreteParameter):
        values = np.unique(np.asarray(p.values, dtype=float))
        return float(np.diff(values).min()) if values.size > 1 else None
    return None
