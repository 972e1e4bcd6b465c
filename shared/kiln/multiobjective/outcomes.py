"""Declared measurements and outcome constraints of a campaign (issue 16): data, never code.

A campaign may declare ``"measurements": [{"name": "phase_purity", "unit": "1"}]``: quantities its
results post in ``"measurements"`` beside the objectives. An outcome constraint
``{"name": "relative_density", "op": ">=", "value": 0.95}`` names an objective or a declared
measurement; proposals are then weighted by the modelled probability of meeting it
(:mod:`kiln.multiobjective.constrained`), and the Pareto front only holds results that meet it.

Validation errors are :class:`~kiln.errors.CampaignError` keyed by the field's dotted path
(``outcome_constraints.0.name``). Nothing here imports scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.errors import CampaignError, InvalidObservationError
from kiln.multiobjective.objectives import Objectives, parse_objectives

#: The comparison an outcome constraint may make.
OUTCOME_OPS = (">=", "<=")
#: How a declared measurement may be named (as a JSON key and a CSV column).
MEASUREMENT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")


@dataclass(frozen=True)
class OutcomeConstraint:
    """``name op value``: an objective or a declared measurement, in its own unit.

    Attributes:
        name: The objective or measurement it bounds.
        op: ``">="`` or ``"<="``.
        value: The bound, in the named quantity's own unit.
    """

    name: str
    op: str
    value: float

    def met(self, measured: float) -> bool:
        """Whether a measured value meets the constraint."""
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload (round-trips through :func:`parse_outcome_constraints`)."""
        return {"name": self.name, "op": self.op, "value": self.value}


def parse_measurements(payload: Any) -> list[dict[str, Any]]:
    """The declared measurements ``[{"name", "unit"?}]``, normalised (``unit`` "" when absent).

    Raises:
        CampaignError: Naming every bad field (``measurements.1.name``).
    """
    if payload is None:
        return []
    if not isinstance(payload, Sequence) or isinstance(payload, str | bytes):
        raise CampaignError({"measurements": ['must be a list of {"name", "unit"} objects']})
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(payload):
        where = f"measurements.{i}"
        if not isinstance(item, Mapping):
            errors[where] = ['must be an object {"name", "unit"}']
            continue
        extra = sorted(set(item) - {"name", "unit"})
        if extra:
            errors[f"{where}.{extra[0]}"] = ["field is not allowed; allowed: ['name', 'unit']"]
        name, unit = item.get("name"), item.get("unit", "")
        if not isinstance(name, str) or not MEASUREMENT_NAME.match(name):
            errors[f"{where}.name"] = [
                f"{name!r} must be a name of letters, digits, '_', '.', '-' (1-64 characters)"
            ]
        elif name in seen:
            errors[f"{where}.name"] = [f"{name!r} is declared twice; names must be unique"]
        if not isinstance(unit, str):
            errors[f"{where}.unit"] = ["must be a string"]
        if not any(k.startswith(where) for k in errors):
            seen.add(str(name))
            out.append({"name": name, "unit": unit})
    if errors:
        raise CampaignError(errors)
    return out


def parse_outcome_constraints(
    payload: Any, objectives: Objectives, measurements: Sequence[Mapping[str, Any]]
) -> tuple[OutcomeConstraint, ...]:
    """The outcome constraints of a definition, checked against its objectives and measurements.

    Args:
        payload: ``[{"name", "op", "value"}, ...]`` or None.
        objectives: The campaign's objectives.
        measurements: Its declared measurements (:func:`parse_measurements`).

    Raises:
        CampaignError: Naming every bad field: an unknown name, an unknown op, a value that is
            not a finite number (or not > 0 when the named objective is modelled as log10).
    """
    if payload is None:
        return ()
    if not isinstance(payload, Sequence) or isinstance(payload, str | bytes):
        raise CampaignError({"outcome_constraints": ['must be a list of {"name", "op", "value"}']})
    specs = {s.name: s for s in objectives.specs}
    declared = [m["name"] for m in measurements]
    errors: dict[str, list[str]] = {}
    out: list[OutcomeConstraint] = []
    for i, item in enumerate(payload):
        where = f"outcome_constraints.{i}"
        if not isinstance(item, Mapping):
            errors[where] = ['must be an object {"name", "op", "value"}']
            continue
        extra = sorted(set(item) - {"name", "op", "value"})
        if extra:
            errors[f"{where}.{extra[0]}"] = [
                "field is not allowed; allowed: ['name', 'op', 'value']"
            ]
        name, op, value = item.get("name"), item.get("op"), item.get("value")
        if name not in specs and name not in declared:
            errors[f"{where}.name"] = [
                f"{name!r} is unknown; objectives: {objectives.names}, measurements: {declared}"
            ]
        if op not in OUTCOME_OPS:
            errors[f"{where}.op"] = [f"{op!r} is unknown; use one of {list(OUTCOME_OPS)}"]
        bound = _bound(value, specs.get(name) if isinstance(name, str) else None)
        if isinstance(bound, str):
            errors[f"{where}.value"] = [bound]
        if not any(k.startswith(where) for k in errors):
            assert isinstance(bound, float)
            out.append(OutcomeConstraint(str(name), str(op), bound))
    if errors:
        raise CampaignError(errors)
    return tuple(out)


def _bound(value: Any, spec: Any) -> float | str:
    """The constraint's value as a float, or the reason it cannot be one."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if spec is not None:
        try:
            spec.objective.check_value(value)
        except InvalidObservationError:
            return f"must be > 0: {spec.name!r} is modelled as log10, got {value!r}"
    return float(value)


def measurements_of(campaign: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A stored campaign's declared measurements (empty when it declares none)."""
    return list(campaign.get("measurements") or [])


def outcome_constraints_of(campaign: Mapping[str, Any]) -> tuple[OutcomeConstraint, ...]:
    """A stored campaign's outcome constraints (empty when it has none).

    Raises:
        CampaignError: When the stored constraints do not fit the campaign (never for a campaign
            stored by :func:`kiln.campaign.campaign_definition`).
    """
    payload = campaign.get("outcome_constraints")
    if not payload:
        return ()
    return parse_outcome_constraints(payload, parse_objectives(campaign), measurements_of(campaign))
