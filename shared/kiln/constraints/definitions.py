"""The two kinds of constraint and their JSON, validated against a space's parameters.

``{"kind": "linear", "terms": {"a": 1.0, "b": 2.0}, "op": "<=" | ">=" | "==", "rhs": 10.0}``
holds over numeric parameters; ``{"kind": "forbidden", "when": {"temperature_c": {">=": 1050},
"time_min": {">": 120}}}`` forbids every point that meets all of its conditions at once
(conditions ``<``, ``<=``, ``>``, ``>=``, ``==`` on numeric parameters, ``in`` with a list on any).
Every error is a :class:`~kiln.errors.SpaceError` whose ``field`` is the dotted path of the bad
entry, e.g. ``constraints.0.terms.foo``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from kiln.errors import SpaceError
from kiln.parameters import CategoricalParameter, Parameter, Value, format_number, is_number

LINEAR_OPS = ("<=", ">=", "==")
CONDITION_OPS = ("<", "<=", ">", ">=", "==", "in")
KINDS = ("linear", "forbidden")
#: A campaign has at most this many constraints.
MAX_CONSTRAINTS = 100
_FIELDS = {"linear": {"kind", "terms", "op", "rhs"}, "forbidden": {"kind", "when"}}


@dataclass(frozen=True)
class LinearConstraint:
    """``sum(coefficient * parameter) op rhs`` over numeric parameters."""

    terms: tuple[tuple[str, float], ...]
    op: str
    rhs: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "linear", "terms": dict(self.terms), "op": self.op, "rhs": self.rhs}

    def describe(self) -> str:
        lhs = " + ".join(f"{format_number(a)}*{name}" for name, a in self.terms)
        return f"{lhs} {self.op} {format_number(self.rhs)}"


@dataclass(frozen=True)
class Condition:
    """``parameter op value``; ``value`` is a tuple for ``in``."""

    parameter: str
    op: str
    value: float | tuple[Value, ...]

    def describe(self) -> str:
        if isinstance(self.value, tuple):
            return f"{self.parameter} in {list(self.value)}"
        return f"{self.parameter} {self.op} {format_number(self.value)}"


@dataclass(frozen=True)
class ForbiddenRegion:
    """No point may meet every condition at once."""

    when: tuple[Condition, ...]

    def to_dict(self) -> dict[str, Any]:
        when: dict[str, dict[str, Any]] = {}
        for c in self.when:
            when.setdefault(c.parameter, {})[c.op] = (
                list(c.value) if isinstance(c.value, tuple) else c.value
            )
        return {"kind": "forbidden", "when": when}

    def describe(self) -> str:
        return "forbidden: " + " and ".join(c.describe() for c in self.when)


Constraint: TypeAlias = LinearConstraint | ForbiddenRegion


def parse_constraints(
    raw: Any, parameters: Sequence[Parameter], path: str = "constraints"
) -> list[Constraint]:
    """Validate a JSON list of constraints against the parameters and build them.

    Raises:
        SpaceError: Naming the bad entry (``constraints.0.terms.foo: unknown parameter``, an
            ``==`` or a comparison on a categorical parameter, an empty ``in``, ...).
    """
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise SpaceError("constraints must be a list of constraint objects", field=path)
    if len(raw) > MAX_CONSTRAINTS:
        raise SpaceError(f"at most {MAX_CONSTRAINTS} constraints, not {len(raw)}", field=path)
    by_name = {p.name: p for p in parameters}
    return [_constraint(item, by_name, f"{path}.{i}") for i, item in enumerate(raw)]


def _constraint(item: Any, by_name: Mapping[str, Parameter], path: str) -> Constraint:
    if not isinstance(item, Mapping):
        raise SpaceError("a constraint must be an object with a kind", field=path)
    kind = item.get("kind")
    if kind not in KINDS:
        raise SpaceError(
            f"kind {kind!r} is unknown; use one of {list(KINDS)}", field=f"{path}.kind"
        )
    for key in item:
        if key not in _FIELDS[kind]:
            raise SpaceError(
                f"field {key!r} is not allowed in a {kind} constraint; allowed: "
                f"{sorted(_FIELDS[kind])}",
                field=f"{path}.{key}",
            )
    if kind == "linear":
        return _linear(item, by_name, path)
    return _forbidden(item, by_name, path)


def _number(value: Any, field: str, what: str) -> float:
    if not is_number(value) or not math.isfinite(float(value)):
        raise SpaceError(f"{what} {value!r} must be a finite number", field=field)
    return value if isinstance(value, int | float) else float(value)  # as typed, for to_dict


def _parameter(name: Any, by_name: Mapping[str, Parameter], field: str) -> Parameter:
    if name not in by_name:
        raise SpaceError(f"unknown parameter {name!r}; this space has {list(by_name)}", field=field)
    return by_name[name]


def _linear(item: Mapping[str, Any], by_name: Mapping[str, Parameter], path: str) -> Constraint:
    terms = item.get("terms")
    if not isinstance(terms, Mapping) or not terms:
        raise SpaceError(
            "terms must be a non-empty object {parameter: coefficient}", field=f"{path}.terms"
        )
    parsed: list[tuple[str, float]] = []
    for name, coefficient in terms.items():
        field = f"{path}.terms.{name}"
        p = _parameter(name, by_name, field)
        if isinstance(p, CategoricalParameter):
            raise SpaceError(
                f"{name!r} is categorical; a linear constraint needs numeric parameters "
                "(forbid categorical values with a forbidden constraint and `in`)",
                field=field,
            )
        parsed.append((str(name), _number(coefficient, field, "coefficient")))
    if all(a == 0 for _, a in parsed):
        raise SpaceError("at least one coefficient must be non-zero", field=f"{path}.terms")
    op = item.get("op")
    if op not in LINEAR_OPS:
        raise SpaceError(f"op {op!r} is unknown; use one of {list(LINEAR_OPS)}", field=f"{path}.op")
    rhs = _number(item.get("rhs"), f"{path}.rhs", "rhs")
    return LinearConstraint(tuple(parsed), op, rhs)


def _forbidden(item: Mapping[str, Any], by_name: Mapping[str, Parameter], path: str) -> Constraint:
    when = item.get("when")
    if not isinstance(when, Mapping) or not when:
        raise SpaceError(
            "when must be a non-empty object {parameter: {op: value}}", field=f"{path}.when"
        )
    conditions: list[Condition] = []
    for name, ops in when.items():
        field = f"{path}.when.{name}"
        p = _parameter(name, by_name, field)
        if not isinstance(ops, Mapping) or not ops:
            raise SpaceError(
                f"the conditions on {name!r} must be a non-empty object such as "
                '{">=": 1050} or {"in": [...]}',
                field=field,
            )
        conditions.extend(_condition(p, op, value, f"{field}.{op}") for op, value in ops.items())
    return ForbiddenRegion(tuple(conditions))


def _condition(p: Parameter, op: Any, value: Any, field: str) -> Condition:
    if op not in CONDITION_OPS:
        raise SpaceError(
            f"condition {op!r} is unknown; use one of {list(CONDITION_OPS)}", field=field
        )
    categorical = isinstance(p, CategoricalParameter)
    if op != "in":
        if categorical:
            raise SpaceError(
                f"{op!r} on the categorical parameter {p.name!r}; use `in` with a list of labels",
                field=field,
            )
        return Condition(p.name, op, _number(value, field, "value"))
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or not value:
        raise SpaceError("`in` needs a non-empty list of values", field=field)
    if isinstance(p, CategoricalParameter):
        for v in value:
            if v not in p.values:
                raise SpaceError(f"{v!r} is not one of the labels {p.values}", field=field)
        return Condition(p.name, op, tuple(value))
    return Condition(p.name, op, tuple(_number(v, field, "value") for v in value))
