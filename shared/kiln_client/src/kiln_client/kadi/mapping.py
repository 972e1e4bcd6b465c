"""The mapping of a Kadi4Mat collection onto a campaign: which extra holds what, in which unit.

A mapping is JSON::

    {"parameters": {"temperature_c": {"extra": "sintering_temperature", "unit": "degC"}, ...},
     "objective": {"extra": "conductivity", "unit": "S/cm"},
     "objective_sd": {"extra": "conductivity_sd", "unit": "S/cm"},
     "measurements": {"density": {"extra": "density", "unit": "g/cm^3"}}}

``objective_sd`` and ``measurements`` are optional. Units are compared as written, never
converted: the mapping's unit of a parameter or the objective must be the campaign's, and each
record's extra must carry the mapping's unit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln_client.kadi.errors import MappingError


@dataclass(frozen=True)
class Field:
    """One extra of a record: its key and the unit it must carry (None: no unit)."""

    extra: str
    unit: str | None


@dataclass(frozen=True)
class Mapping:
    """Where each parameter, the objective (and its sd) and each measurement sit in a record."""

    parameters: dict[str, Field]
    objective: Field
    objective_sd: Field | None = None
    measurements: dict[str, Field] | None = None

    def fields(self) -> dict[str, Field]:
        """Every mapped field by its Kiln name (``parameters.x``, ``objective``, ...)."""
        named = {f"parameters.{name}": f for name, f in self.parameters.items()}
        named["objective"] = self.objective
        if self.objective_sd is not None:
            named["objective_sd"] = self.objective_sd
        named |= {f"measurements.{name}": f for name, f in (self.measurements or {}).items()}
        return named

    def check_campaign(self, campaign: dict[str, Any]) -> None:
        """Refuse a mapping whose parameters or units are not the campaign's (MappingError)."""
        declared = {p["name"]: p.get("unit") for p in campaign.get("parameters", [])}
        missing = sorted(set(declared) - set(self.parameters))
        unknown = sorted(set(self.parameters) - set(declared))
        if missing or unknown:
            raise MappingError(
                f"the mapping's parameters must be the campaign's {sorted(declared)}: "
                f"missing {missing}, unknown {unknown}"
            )
        expected = {f"parameters.{name}": unit for name, unit in declared.items()}
        expected["objective"] = campaign.get("objective", {}).get("unit")
        if self.objective_sd is not None:
            expected["objective_sd"] = expected["objective"]
        for name, unit in expected.items():
            mapped = self.fields()[name].unit
            if unit is not None and mapped != unit:
                raise MappingError(
                    f"{name}: the mapping says unit {mapped!r} but the campaign's is {unit!r}"
                )


def _field(value: Any, where: str) -> Field:
    if not isinstance(value, dict) or not isinstance(value.get("extra"), str):
        raise MappingError(f'{where}: expected {{"extra": "<key>", "unit": "<unit>"}}')
    unit = value.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise MappingError(f"{where}.unit: expected a string")
    return Field(value["extra"], unit)


def _fields(value: Any, where: str) -> dict[str, Field]:
    if not isinstance(value, dict):
        raise MappingError(f"{where}: expected an object of name -> extra")
    return {name: _field(item, f"{where}.{name}") for name, item in value.items()}


def mapping_from_dict(data: Any) -> Mapping:
    """A mapping from its JSON form (MappingError naming the offending entry)."""
    if not isinstance(data, dict):
        raise MappingError("the mapping must be a JSON object")
    unknown = sorted(set(data) - {"parameters", "objective", "objective_sd", "measurements"})
    if unknown:
        raise MappingError(f"unknown mapping entries {unknown}")
    if "parameters" not in data or "objective" not in data:
        raise MappingError("the mapping needs 'parameters' and 'objective'")
    sd = data.get("objective_sd")
    return Mapping(
        parameters=_fields(data["parameters"], "parameters"),
        objective=_field(data["objective"], "objective"),
        objective_sd=None if sd is None else _field(sd, "objective_sd"),
        measurements=_fields(data.get("measurements") or {}, "measurements"),
    )


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MappingError(f"cannot read the mapping {path}: {error}") from error
    return mapping_from_dict(data)
