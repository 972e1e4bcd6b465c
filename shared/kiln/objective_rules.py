"""What a campaign's objectives decide (issue 16): its acquisition, its outcome constraints and
measurements, and that a PATCH keeps them.

:mod:`kiln.campaign` applies these rules; they are here so that module stays about spaces,
strategies and results. Light imports only (no scikit-learn).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.errors import CampaignError, KilnError
from kiln.multiobjective.objectives import Objectives, parse_objectives
from kiln.multiobjective.outcomes import (
    measurements_of,
    parse_measurements,
    parse_outcome_constraints,
)
from kiln.objective import Objective
from kiln.space_rules import field_path
from kiln.strategy import ACQUISITIONS, PARETO_ACQUISITIONS, Strategy


def default_acquisition(n_objectives: int) -> str:
    """The acquisition a campaign with this many objectives gets when its strategy names none:
    the strategy's own default (``ucb``) for one, exact EHVI for 2-3, ParEGO for 4."""
    if n_objectives <= 1:
        return Strategy().acquisition
    return "ehvi" if n_objectives <= 3 else "parego"


def acquisition_problems(n_objectives: int, acquisition: str) -> dict[str, list[str]]:
    """Whether an acquisition fits the number of objectives (empty when it does)."""
    if n_objectives == 1 and acquisition in PARETO_ACQUISITIONS:
        allowed = list(ACQUISITIONS)
        reason = (
            f"{acquisition!r} needs 2-4 objectives; this campaign has one: use one of {allowed}"
        )
    elif n_objectives > 1 and acquisition not in (*PARETO_ACQUISITIONS, "random"):
        allowed = ["ehvi", "parego", "random"] if n_objectives <= 3 else ["parego", "random"]
        reason = (
            f"{acquisition!r} scores one objective; with {n_objectives} objectives use one of "
            f"{allowed}"
        )
    elif n_objectives > 3 and acquisition == "ehvi":
        reason = f"exact EHVI takes 2-3 objectives, not {n_objectives}; use 'parego' or 'random'"
    else:
        return {}
    return {"strategy.acquisition": [reason]}


def objectives_definition(
    definition: Mapping[str, Any], errors: dict[str, list[str]]
) -> tuple[Objectives | None, dict[str, Any] | None]:
    """The posted objectives and how they are stored: ``{"objectives": [...]}`` for 2-4, the
    singular ``{"objective": {...}}`` for one (a one-element list's threshold is dropped: it
    only places a hypervolume reference point). Problems go to ``errors``."""
    if "objectives" not in definition:
        try:
            single = Objective.from_dict(definition.get("objective"))  # type: ignore[arg-type]
        except (KilnError, TypeError) as exc:
            errors[_objective_field(exc)] = [str(exc)]
            return None, None
        return parse_objectives({"objective": single.to_dict()}), {"objective": single.to_dict()}
    try:
        objectives = parse_objectives(definition)
    except CampaignError as exc:
        errors.update(exc.errors)
        return None, None
    if len(objectives) == 1:
        return objectives, {"objective": objectives.specs[0].objective.to_dict()}
    return objectives, {"objectives": objectives.to_list()}


def strategy_problems(n_objectives: int, strategy: Strategy) -> dict[str, list[str]]:
    """The acquisition must fit the number of objectives."""
    return acquisition_problems(n_objectives, strategy.acquisition)


def outcomes_definition(
    definition: Mapping[str, Any],
    objectives: Objectives | None,
    errors: dict[str, list[str]],
    stored: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``measurements`` and ``outcome_constraints`` to store (only those given, non-empty);
    on a PATCH (``stored``: the campaign), each not posted keeps its stored value."""
    stored = stored or {}
    try:
        measurements = parse_measurements(
            definition["measurements"] if "measurements" in definition else measurements_of(stored)
        )
    except CampaignError as exc:
        errors.update(exc.errors)
        return {}
    constraints = definition.get("outcome_constraints", stored.get("outcome_constraints"))
    if objectives is None:
        return {}
    try:
        parsed = parse_outcome_constraints(constraints, objectives, measurements)
    except CampaignError as exc:
        errors.update(exc.errors)
        return {}
    out: dict[str, Any] = {}
    if measurements:
        out["measurements"] = measurements
    if parsed:
        out["outcome_constraints"] = [c.to_dict() for c in parsed]
    return out


def objectives_unchanged(
    campaign: Mapping[str, Any], body: Mapping[str, Any]
) -> dict[str, list[str]]:
    """A PATCH may repeat the objectives but not change them (every stored result and model
    is about them)."""
    for key in ("objectives", "objective"):
        if key not in body:
            continue
        try:
            same = parse_objectives({key: body[key]}) == parse_objectives(campaign)
        except CampaignError:
            same = False
        if not same:
            return {
                key: [
                    "cannot change: the stored results and models are about the campaign's "
                    "objectives; create a new campaign for others"
                ]
            }
    return {}


def _objective_field(exc: Exception) -> str:
    """``objective`` or the singular objective's bad field (``objective.goal``)."""
    field = getattr(exc, "field", None)
    if not field:
        return "objective"
    path = field_path(str(field))
    return path if path.startswith("objective") else f"objective.{path}"
