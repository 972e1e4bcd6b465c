"""A Kadi4Mat record as a Kiln result, and a proposal as a record's extras (no HTTP here)."""

from __future__ import annotations

import math
from typing import Any

from kiln_client.kadi.errors import RecordError
from kiln_client.kadi.mapping import Field, Mapping

#: The extra an exported proposal record carries: the proposal it stands for.
PROPOSAL_EXTRA = "kiln_proposal_id"
#: Extra types that hold a number in Kadi4Mat.
NUMERIC_TYPES = ("int", "float")


def sample_id(record: dict[str, Any]) -> str:
    """The stable sample id of a record: its Kadi4Mat id never changes."""
    return f"kadi-{record['id']}"


def proposal_identifier(proposal_id: str) -> str:
    """The Kadi4Mat identifier of a proposal's record (lowercase, at most 50 characters)."""
    return f"kiln-{proposal_id}".lower()[:50]


def extras_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The record's top-level extras by key."""
    return {extra["key"]: extra for extra in record.get("extras") or [] if "key" in extra}


def _value(record: dict[str, Any], extras: dict[str, Any], name: str, field: Field) -> float:
    where = f"record {record['id']} ({record.get('identifier')}), extra {field.extra!r} ({name})"
    extra = extras.get(field.extra)
    if extra is None or extra.get("value") is None:
        raise RecordError(f"{where}: missing")
    if extra.get("type") not in NUMERIC_TYPES or isinstance(extra["value"], bool):
        raise RecordError(f"{where}: a {extra.get('type')} ({extra['value']!r}), expected a number")
    if extra.get("unit") != field.unit:
        raise RecordError(
            f"{where}: unit {extra.get('unit')!r}, the campaign's is {field.unit!r} "
            "(units are never converted)"
        )
    value = float(extra["value"])
    if not math.isfinite(value):
        raise RecordError(f"{where}: {value} is not a finite number")
    return value


def result_of(record: dict[str, Any], mapping: Mapping) -> dict[str, Any]:
    """The result a record stands for (RecordError naming the record and the key if it cannot)."""
    extras = extras_of(record)
    result: dict[str, Any] = {
        "sample_id": sample_id(record),
        "parameters": {
            name: _value(record, extras, f"parameters.{name}", field)
            for name, field in mapping.parameters.items()
        },
        "objective": _value(record, extras, "objective", mapping.objective),
    }
    if mapping.objective_sd is not None and mapping.objective_sd.extra in extras:
        result["objective_sd"] = _value(record, extras, "objective_sd", mapping.objective_sd)
    measurements = {
        name: _value(record, extras, f"measurements.{name}", field)
        for name, field in (mapping.measurements or {}).items()
    }
    if measurements:
        result["measurements"] = measurements
    proposal = extras.get(PROPOSAL_EXTRA, {}).get("value")
    if isinstance(proposal, str) and proposal:
        result["proposal_id"] = proposal
    return result


def is_unmeasured_proposal(record: dict[str, Any], mapping: Mapping) -> bool:
    """An exported proposal not measured yet: it carries the proposal id but no objective."""
    extras = extras_of(record)
    return PROPOSAL_EXTRA in extras and mapping.objective.extra not in extras


def changes_of(result: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """What a correction must change for ``stored`` (a Kiln result) to read as ``result``."""
    changes: dict[str, Any] = {}
    for key in ("parameters", "measurements"):
        differing = {
            name: value
            for name, value in (result.get(key) or {}).items()
            if (stored.get(key) or {}).get(name) != value
        }
        if differing:
            changes[key] = differing
    for key in ("objective", "objective_sd"):
        if key in result and stored.get(key) != result[key]:
            changes[key] = result[key]
    return changes


def proposal_extras(
    proposal: dict[str, Any], mapping: Mapping, objective_name: str, link: str
) -> list[dict[str, Any]]:
    """A proposal as Kadi4Mat extras: its parameters in the mapping's extras and units, the
    predicted mean and std of the objective, the proposal's id and a link back to it."""
    extras: list[dict[str, Any]] = [
        {"key": PROPOSAL_EXTRA, "type": "str", "value": proposal["id"]},
        {"key": "kiln_proposal_url", "type": "str", "value": link},
    ]
    for name, field in mapping.parameters.items():
        value = proposal["parameters"][name]
        extras.append(_number(field.extra, value, field.unit))
    unit = mapping.objective.unit
    for key in ("predicted_mean", "predicted_std"):
        if proposal.get(key) is not None:
            extras.append(_number(f"{objective_name}_{key}", proposal[key], unit))
    return extras


def _number(key: str, value: Any, unit: str | None) -> dict[str, Any]:
    kind = "int" if isinstance(value, int) and not isinstance(value, bool) else "float"
    return {"key": key, "type": kind, "value": value, "unit": unit}
