"""What each column of a results CSV holds, read from its header against the campaign.

A column is a parameter, the objective (its name or ``objective``), the objective's standard
deviation (``objective_sd`` or ``<objective>_sd``), a reserved field (``sample_id``, ``status``,
...), a proposal's prediction or group (as a proposals export writes them: ignored, never a
measurement; a parameter of that name stays a parameter) or else a measurement. A
multi-objective campaign has a column per objective name instead (role ``objectives``; an empty
cell is a missing value). A parameter, objective or sd header may carry its unit,
``temperature_c (degC)`` or ``conductivity [S/cm]``: it must be the campaign's unit for that
column, or the file is refused naming the column, the unit given and the unit expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.campaign import is_multiobjective
from kiln.ledger import PREDICTION_FIELDS
from kiln.measurement_error import OBJECTIVE_SD

#: Columns of a results CSV that are neither parameters, the objective nor measurements.
RESERVED_COLUMNS = ("sample_id", "status", "proposal_id", "measured_at", "instrument")
#: Columns an export adds at the end (a result's corrections); a posted CSV's are ignored.
VIEW_COLUMNS = ("revision", "excluded")
#: Columns a proposals export adds about the proposal (its furnace ``group`` with
#: ``strategy.batch_shared``): a filled-in export posted back as results has them, ignored.
PROPOSAL_COLUMNS = ("group",)

PARAMETER, OBJECTIVE, OBJECTIVES, SD, RESERVED, IGNORED, MEASUREMENT = (
    "parameter",
    "objective",
    "objectives",
    OBJECTIVE_SD,
    "reserved",
    "ignored",
    "measurement",
)
#: The roles whose header may carry a unit (checked against the campaign's).
_WITH_UNITS = (PARAMETER, OBJECTIVE, OBJECTIVES, SD)
_WITH_UNIT = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<round>[^()]*)\)|\[(?P<square>[^\[\]]*)\])$")


@dataclass(frozen=True)
class Column:
    """A column's role and the name it gives (the parameter, the reserved field, the measurement)."""

    role: str
    name: str


def sd_columns(objective_name: str) -> tuple[str, str]:
    """The names a column of the objective's standard deviation may have."""
    return OBJECTIVE_SD, f"{objective_name}_sd"


def objective_columns(campaign: Mapping[str, Any]) -> list[str]:
    """The objective names of a multi-objective campaign (a column each), [] for one objective."""
    return [o["name"] for o in campaign["objectives"]] if is_multiobjective(campaign) else []


def _known(campaign: Mapping[str, Any]) -> dict[str, tuple[str, str | None]]:
    # name -> (role, the campaign's unit for it); reserved and prediction names carry no unit.
    known: dict[str, tuple[str, str | None]] = {
        **{name: (RESERVED, None) for name in RESERVED_COLUMNS},
        **{
            name: (IGNORED, None) for name in (*PREDICTION_FIELDS, *VIEW_COLUMNS, *PROPOSAL_COLUMNS)
        },
    }
    if is_multiobjective(campaign):
        # "objective" stays known, so kiln's rule names the column it came from (use the names).
        known["objective"] = (OBJECTIVE, None)
        for objective in campaign["objectives"]:
            known[objective["name"]] = (OBJECTIVES, objective.get("unit") or None)
    else:
        objective = campaign["objective"]
        unit = objective.get("unit") or None
        known.update({name: (SD, unit) for name in sd_columns(objective["name"])})
        known.update({"objective": (OBJECTIVE, unit), objective["name"]: (OBJECTIVE, unit)})
    for p in campaign["parameters"]:
        known[p["name"]] = (PARAMETER, p.get("unit") or None)
    return known


def _unit_problem(column: str, name: str, given: str, expected: str | None) -> str | None:
    if expected is not None and given.replace(" ", "") == expected.replace(" ", ""):
        return None
    if expected is None:
        return f"the campaign gives {name} no unit, the column says {given!r}: drop the unit"
    return (
        f"unit {given!r} is not the campaign's unit {expected!r} for {name}: convert the "
        f"values to {expected} and name the column {name!r} or '{name} ({expected})'"
    )


def results_columns(
    campaign: Mapping[str, Any], header: Sequence[str]
) -> tuple[dict[str, Column], dict[str, list[str]]]:
    """Each column's role, and the header's problems keyed ``header`` or ``header.<column>``.

    Problems: a unit that is not the campaign's, a column given twice (e.g. ``conductivity`` and
    ``objective``, or ``temperature_c`` and ``temperature_c (degC)``), no sample_id column and
    no proposal_id column either (a proposal's id then serves as its result's sample_id).
    """
    known = _known(campaign)
    out: dict[str, Column] = {}
    errors: dict[str, list[str]] = {}
    for column in header:
        match = _WITH_UNIT.match(column)
        name = column if column in known or match is None else match["name"]
        if name not in known:
            out[column] = Column(MEASUREMENT, column)
            continue
        role, unit = known[name]
        out[column] = Column(role, name)
        if name != column and role in _WITH_UNITS and match is not None:
            problem = _unit_problem(column, name, match["round"] or match["square"] or "", unit)
            if problem:
                errors[f"header.{column}"] = [problem]
    given: dict[tuple[str, str], str] = {}
    for column, meaning in out.items():
        key = (meaning.role, meaning.name if meaning.role in (PARAMETER, OBJECTIVES) else "")
        if meaning.role in _WITH_UNITS and key in given:
            errors.setdefault("header", []).append(
                f"columns {given[key]!r} and {column!r} give the same value: keep one"
            )
        given.setdefault(key, column)
    if "sample_id" not in header and "proposal_id" not in header:
        errors.setdefault("header", []).append(
            "the CSV needs a sample_id column (or a proposal_id column: a proposal's id then "
            "serves as its result's sample_id)"
        )
    return out, errors


def field_columns(columns: Mapping[str, Column]) -> dict[str, str]:
    """The column each result field came from: ``objective``, ``objectives.<name>``,
    ``objective_sd``, ``parameters.<name>``, ``measurements.<name>``, reserved fields; for
    naming errors."""
    out: dict[str, str] = {}
    for column, meaning in columns.items():
        if meaning.role in (OBJECTIVE, SD):
            out[meaning.role] = column
        elif meaning.role == OBJECTIVES:
            out[f"objectives.{meaning.name}"] = column
        elif meaning.role == PARAMETER:
            out[f"parameters.{meaning.name}"] = column
        elif meaning.role == MEASUREMENT:
            out[f"measurements.{meaning.name}"] = column
        elif meaning.role == RESERVED:
            out[meaning.name] = column
    return out
