"""The objectives of a multi-objective campaign: 1 to 4 of them, each with an optional threshold.

A campaign posts ``"objectives": [{"name", "unit"?, "goal"?, "transform"?, "threshold"?}, ...]``;
the singular ``"objective": {...}`` means a one-element list. ``threshold`` is the worst value
still worth having, in the objective's own unit: it becomes that objective's coordinate of the
hypervolume reference point (on the model scale, see :meth:`Objectives.thresholds_model`).

Validation errors name the field as the campaign rules do (``objectives.1.threshold``), and
nothing here imports scikit-learn, so a web process can check definitions and results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.errors import CampaignError, InvalidObservationError, SpaceError
from kiln.objective import Objective

#: How many objectives a campaign may have (EHVI is exact for 2-3; ParEGO takes any number).
MIN_OBJECTIVES, MAX_OBJECTIVES = 1, 4


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective and its threshold (None: the reference point is derived from the data)."""

    objective: Objective
    threshold: float | None = None

    @property
    def name(self) -> str:
        return self.objective.name

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload (round-trips through :func:`parse_objectives`)."""
        return {**self.objective.to_dict(), "threshold": self.threshold}


def _spec(payload: Any, where: str) -> ObjectiveSpec:
    """One objective from its payload; raises SpaceError naming ``where.<field>``."""
    if not isinstance(payload, Mapping):
        raise SpaceError("must be an object", field=where)
    try:
        objective = Objective.from_dict({k: v for k, v in payload.items() if k != "threshold"})
    except (SpaceError, TypeError) as exc:
        suffix = (getattr(exc, "field", None) or "objective").removeprefix("objective")
        raise SpaceError(str(exc), field=f"{where}{suffix}") from None
    threshold = payload.get("threshold")
    if threshold is not None:
        try:
            threshold = objective.check_value(threshold, field=f"{where}.threshold")
        except InvalidObservationError as exc:
            reason = exc.reason
            if objective.transform == "log10" and "not positive" in reason:
                reason = f"must be > 0 under log10, got {threshold!r}"
            raise SpaceError(reason, field=f"{where}.threshold") from None
    return ObjectiveSpec(objective, threshold)


@dataclass(frozen=True)
class Objectives:
    """The ordered objectives of a campaign (column ``j`` of every objective matrix is ``specs[j]``)."""

    specs: tuple[ObjectiveSpec, ...]

    def __len__(self) -> int:
        return len(self.specs)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def to_list(self) -> list[dict[str, Any]]:
        """The JSON payload of ``"objectives"``."""
        return [s.to_dict() for s in self.specs]

    def to_model(self, values: np.ndarray) -> np.ndarray:
        """Measured values ``(n, k)`` to the model scale; NaN (a missing objective) stays NaN.

        Raises:
            InvalidObservationError: On inf, or values <= 0 under log10 (field ``objectives.<name>``).
        """
        Y = np.atleast_2d(np.asarray(values, dtype=float))
        out = np.full(Y.shape, np.nan)
        for j, spec in enumerate(self.specs):
            present = ~np.isnan(Y[:, j])
            try:
                out[present, j] = spec.objective.to_model(Y[present, j])
            except InvalidObservationError as exc:
                raise InvalidObservationError(f"objectives.{spec.name}", exc.reason) from None
        return out

    def thresholds_model(self) -> np.ndarray:
        """Thresholds on the model scale, NaN where none was given."""
        return np.array(
            [
                np.nan if s.threshold is None else float(s.objective.to_model(s.threshold))
                for s in self.specs
            ]
        )

    def reference_in_units(self, point: np.ndarray | None) -> dict[str, float | None]:
        """A reference point on the model scale in the objectives' own units: a threshold as it
        was given, a derived coordinate converted back (None where there is none yet, or where
        it is beyond float64 in the objective's unit)."""
        out: dict[str, float | None] = {}
        for j, spec in enumerate(self.specs):
            if spec.threshold is not None:
                out[spec.name] = spec.threshold
            elif point is None or np.isnan(point[j]):
                out[spec.name] = None
            else:
                with np.errstate(over="ignore"):
                    value = float(spec.objective.from_model(point[j], 0.0)[0])
                out[spec.name] = value if np.isfinite(value) else None
        return out

    def values_of(self, row: Mapping[str, Any], *, where: str) -> np.ndarray:
        """One result's ``"objectives": {name: value}`` as a vector (NaN where missing).

        Raises:
            CampaignError: On an unknown name, a non-number, inf, or <= 0 under log10; no value.
        """
        errors: dict[str, list[str]] = {}
        if not isinstance(row, Mapping):
            raise CampaignError({where: ["must be an object of objective names to values"]})
        for name in row:
            if name not in self.names:
                errors[f"{where}.{name}"] = [f"unknown objective; known: {self.names}"]
        out = np.full(len(self), np.nan)
        for j, spec in enumerate(self.specs):
            if row.get(spec.name) is None:
                continue
            try:
                out[j] = spec.objective.check_value(row[spec.name])
            except InvalidObservationError as exc:
                errors[f"{where}.{spec.name}"] = [exc.reason]
        if not errors and np.isnan(out).all():
            errors[where] = [f"no objective value; give at least one of {self.names}"]
        if errors:
            raise CampaignError(errors)
        return out


def result_problems(
    objectives: Objectives, row: Mapping[str, Any], where: str
) -> dict[str, list[str]]:
    """What is wrong with one posted result's ``"objectives"`` (empty when nothing is).

    An ``ok`` result gives at least one objective by name (a missing one trains the others'
    models); a ``failed`` one gives none; the singular ``"objective"`` is refused.
    """
    errors: dict[str, list[str]] = {}
    if row.get("objective") is not None:
        errors[f"{where}.objective"] = [
            f'this campaign has several objectives; post "objectives": {{name: value}} with '
            f"names from {objectives.names}"
        ]
    values = row.get("objectives")
    if row.get("status", "ok") == "failed":
        if values:
            errors[f"{where}.objectives"] = [
                "a failed synthesis has no objective values; drop them or set status 'ok'"
            ]
        return errors
    try:
        objectives.values_of(values if values is not None else {}, where=f"{where}.objectives")
    except CampaignError as exc:
        errors.update(exc.errors)
    return errors


def parse_objectives(campaign: Mapping[str, Any]) -> Objectives:
    """The objectives of a campaign definition: ``"objectives": [...]`` or ``"objective": {...}``.

    Raises:
        CampaignError: Naming every bad field (``objectives.1.threshold``, ``objectives``, ...).
    """
    if "objectives" in campaign and "objective" in campaign:
        raise CampaignError({"objectives": ["give either 'objective' or 'objectives', not both"]})
    if "objectives" not in campaign:
        if "objective" not in campaign:
            raise CampaignError({"objectives": ["required: a list of 1 to 4 objectives"]})
        return _parse_list([campaign["objective"]], single=True)
    return _parse_list(campaign["objectives"], single=False)


def _parse_list(payload: Any, *, single: bool) -> Objectives:
    prefix = "objective" if single else "objectives"
    if not isinstance(payload, Sequence) or isinstance(payload, str | bytes):
        raise CampaignError({prefix: ["must be a list of objectives"]})
    if not MIN_OBJECTIVES <= len(payload) <= MAX_OBJECTIVES:
        raise CampaignError(
            {prefix: [f"has {len(payload)} objectives; give {MIN_OBJECTIVES} to {MAX_OBJECTIVES}"]}
        )
    errors: dict[str, list[str]] = {}
    specs: list[ObjectiveSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(payload):
        where = "objective" if single else f"objectives.{i}"
        try:
            spec = _spec(item, where)
        except SpaceError as exc:
            errors.setdefault(exc.field or where, []).append(str(exc))
            continue
        specs.append(spec)
        if spec.name in seen:
            errors.setdefault(f"objectives.{i}.name", []).append(
                f"{spec.name!r} repeats objectives.{seen[spec.name]}.name; names must be unique"
            )
        seen.setdefault(spec.name, i)
    if errors:
        raise CampaignError(errors)
    return Objectives(tuple(specs))
