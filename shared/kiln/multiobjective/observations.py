"""A multi-objective campaign's stored results as arrays: the objectives by name, the measurements
the outcome constraints need, checked as :func:`kiln.observations.parse_observations` does."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.errors import CampaignError, InvalidObservationError
from kiln.multiobjective.objectives import Objectives
from kiln.observations import ParsedObservations, checked_parameters, sample_id_of
from kiln.space import SearchSpace


@dataclass(frozen=True)
class ParetoData:
    """The usable (not failed) results.

    Attributes:
        points: Their parameters.
        values: Objectives in their own units ``(n, k)``, NaN where not measured.
        measurements: The named measurements ``(n, c)``, NaN where not a number or absent.
        measurement_names: The measurements' names (columns of ``measurements``).
        sample_ids: Their ids (None when a result has none).
    """

    points: list[Mapping[str, Any]]
    values: np.ndarray
    measurements: np.ndarray
    measurement_names: tuple[str, ...]
    sample_ids: list[str | None]

    def column(self, j: int) -> ParsedObservations:
        """The results measuring objective ``j`` as a single-objective training set."""
        return self._parsed(self.values[:, j])

    def measurement(self, name: str) -> ParsedObservations:
        """The results giving measurement ``name`` as a training set."""
        return self._parsed(self.measurements[:, self.measurement_names.index(name)])

    def _parsed(self, column: np.ndarray) -> ParsedObservations:
        rows = np.flatnonzero(~np.isnan(column))
        return ParsedObservations(
            [self.points[i] for i in rows],
            [float(column[i]) for i in rows],
            [self.sample_ids[i] for i in rows],
            [None] * rows.size,
        )


def parse_pareto_observations(
    space: SearchSpace,
    objectives: Objectives,
    observations: Sequence[Mapping[str, Any]],
    measurement_names: Sequence[str] = (),
) -> ParetoData:
    """Check stored results; failed syntheses are skipped.

    A result gives ``"objectives": {name: value}`` (some may be missing); with one objective the
    singular ``"objective": value`` is read too. Measurements that are not finite numbers count
    as not measured.

    Raises:
        InvalidObservationError: For a malformed entry or an unusable objective value.
        OutsideSpaceError: For parameters that cannot be encoded.
    """
    points: list[Mapping[str, Any]] = []
    values: list[np.ndarray] = []
    measured: list[list[float]] = []
    ids: list[str | None] = []
    for i, obs in enumerate(observations):
        params = checked_parameters(space, obs, i, value_field="objectives")
        if params is None:
            continue
        values.append(_values(objectives, obs, i))
        extra = obs.get("measurements") or {}
        measured.append([_number(extra.get(name)) for name in measurement_names])
        points.append(params)
        ids.append(sample_id_of(obs))
    n, k, c = len(points), len(objectives), len(measurement_names)
    return ParetoData(
        points,
        np.array(values, dtype=float).reshape(n, k),
        np.array(measured, dtype=float).reshape(n, c),
        tuple(measurement_names),
        ids,
    )


def _values(objectives: Objectives, obs: Mapping[str, Any], i: int) -> np.ndarray:
    """One result's objective vector (NaN where missing)."""
    row = obs.get("objectives")
    if row is None and len(objectives) == 1 and obs.get("objective") is not None:
        row = {objectives.names[0]: obs["objective"]}
    try:
        return objectives.values_of(row if row is not None else {}, where=f"observations[{i}]")
    except CampaignError as exc:
        field, reasons = next(iter(exc.errors.items()))
        raise InvalidObservationError(field, " ".join(reasons)) from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan
