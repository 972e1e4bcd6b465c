"""Observations and pending points as :func:`kiln.propose.propose` takes them, checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.errors import InvalidObservationError, OutsideSpaceError
from kiln.measurement_error import OBJECTIVE_SD, check_objective_sd
from kiln.objective import Objective
from kiln.space import SearchSpace

#: Targets whose spread is below this (relative) are treated as all equal.
EQUAL_TARGETS_RTOL = 1e-12


@dataclass(frozen=True)
class ParsedObservations:
    """Observations usable for training, parsed and checked."""

    points: list[Mapping[str, Any]]
    values: list[float]
    sample_ids: list[str | None]
    sds: list[float | None]


def parse_observations(
    space: SearchSpace, objective: Objective, observations: Sequence[Mapping[str, Any]]
) -> ParsedObservations:
    """Check observations; failed syntheses (``"status": "failed"``) are skipped.

    Raises:
        InvalidObservationError: For a malformed entry or an unusable objective value.
        OutsideSpaceError: For unknown or missing parameters, wrong types or unknown labels
            (values outside the current range are fine: they still train the model).
    """
    points: list[Mapping[str, Any]] = []
    values: list[float] = []
    ids: list[str | None] = []
    sds: list[float | None] = []
    for i, obs in enumerate(observations):
        params = checked_parameters(space, obs, i, value_field="objective")
        if params is None:
            continue
        values.append(
            objective.check_value(obs.get("objective"), field=f"observations[{i}].objective")
        )
        sd = obs.get(OBJECTIVE_SD)
        sds.append(
            None
            if sd is None
            else check_objective_sd(sd, field=f"observations[{i}].{OBJECTIVE_SD}")
        )
        points.append(params)
        ids.append(sample_id_of(obs))
    return ParsedObservations(points, values, ids, sds)


def checked_parameters(
    space: SearchSpace, obs: Any, i: int, *, value_field: str
) -> Mapping[str, Any] | None:
    """Observation ``i``'s parameters, checked against the space; None for a failed synthesis.

    Args:
        space: The search space.
        obs: The observation as given.
        i: Its index, for the error's field.
        value_field: Where its value is (``"objective"`` or ``"objectives"``), for the message.

    Raises:
        InvalidObservationError: When it is not an object or has no parameters object.
        OutsideSpaceError: For parameters the space cannot take.
    """
    if not isinstance(obs, Mapping):
        raise InvalidObservationError(
            f"observations[{i}]", f"must be an object with 'parameters' and '{value_field}'"
        )
    if obs.get("status") == "failed":
        return None
    params = obs.get("parameters")
    if not isinstance(params, Mapping):
        raise InvalidObservationError(
            f"observations[{i}].parameters", "missing; give the parameters as an object"
        )
    try:
        space.check_point(params)
    except OutsideSpaceError as exc:
        raise OutsideSpaceError(exc.parameter, f"observation {i}: {exc.reason}") from None
    return params


def sample_id_of(obs: Mapping[str, Any]) -> str | None:
    """An observation's ``sample_id`` as a string, None when it has none."""
    sample_id = obs.get("sample_id")
    return str(sample_id) if sample_id is not None else None


def parse_pending(space: SearchSpace, pending: Sequence[Mapping[str, Any]]) -> list[Mapping]:
    out = []
    for i, point in enumerate(pending):
        params = point.get("parameters", point) if isinstance(point, Mapping) else point
        try:
            space.check_point(params)
        except OutsideSpaceError as exc:
            raise OutsideSpaceError(exc.parameter, f"pending proposal {i}: {exc.reason}") from None
        out.append(params)
    return out


def all_equal(y: np.ndarray) -> bool:
    return bool(np.ptp(y) <= EQUAL_TARGETS_RTOL * max(1.0, float(np.max(np.abs(y)))))
