"""A campaign's rules: what a definition is, what a PATCH may change, what makes a result valid.

A campaign is the JSON the service stores (``parameters``, ``objective``, ``strategy``,
``space_version``, ...). The functions here turn it into domain objects and apply its rules; they
raise `CampaignError` with every problem keyed by the field's dotted path, which the services turn
into their own error responses. Only the light modules (space, space_rules, objective,
measurement_error, strategy) are imported, so a web process that checks results never loads
scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from kiln.errors import (
    CampaignError,
    InvalidObservationError,
    KilnError,
    OutsideSpaceError,
)
from kiln.measurement_error import OBJECTIVE_SD, check_objective_sd
from kiln.multiobjective.objectives import Objectives, parse_objectives, result_problems
from kiln.objective import Objective
from kiln.objective_rules import (
    default_acquisition,
    objectives_definition,
    objectives_unchanged,
    outcomes_definition,
    strategy_problems,
)
from kiln.space import SearchSpace
from kiln.space_rules import (
    MAX_STEPS,
    checked_space,
    field_path,
    merged_parameters,
    sharing_problems,
    step_problems,
)
from kiln.strategy import Strategy

__all__ = [
    "MAX_STEPS",
    "campaign_definition",
    "campaign_update",
    "default_acquisition",
    "field_path",
    "is_multiobjective",
    "objective_of",
    "objectives_of",
    "space_of",
    "step_problems",
    "strategy_with",
    "validate_results",
]


def space_of(campaign: Mapping[str, Any]) -> SearchSpace:
    """Build the campaign's current search space.

    Args:
        campaign: A stored campaign (``parameters``, ``space_version``, 1 when absent, and
            ``constraints`` when it has any).

    Returns:
        The search space of the campaign's current space version, with its constraints.
    """
    return SearchSpace.from_dict(
        {
            "parameters": campaign["parameters"],
            "version": campaign.get("space_version", 1),
            "constraints": campaign.get("constraints"),
        }
    )


def objective_of(campaign: Mapping[str, Any]) -> Objective:
    """Build the campaign's objective.

    Args:
        campaign: A stored campaign.

    Returns:
        The objective its ``objective`` definition describes.
    """
    return Objective.from_dict(campaign["objective"])


def is_multiobjective(campaign: Mapping[str, Any]) -> bool:
    """Whether a stored campaign has 2-4 objectives (stored as ``"objectives"``)."""
    return "objectives" in campaign


def objectives_of(campaign: Mapping[str, Any]) -> Objectives:
    """A stored campaign's objectives: 1 (its singular ``"objective"``) to 4.

    Raises:
        CampaignError: When the stored objectives are invalid (never for a stored campaign).
    """
    return parse_objectives(campaign)


def campaign_definition(body: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and validate a new campaign's definition.

    Args:
        body: The definition as posted: ``name``, ``parameters``, ``objective``, optional
            ``description``, ``strategy`` and ``candidates``; or ``preset`` (the LATP campaign,
            whose name, description and strategy the body may override).

    Returns:
        The campaign to store, at space version 1.

    Raises:
        CampaignError: Naming every bad field of the parameters, objective or strategy.
    """
    if body.get("preset"):
        from kiln.presets import preset_campaign

        definition: dict[str, Any] = preset_campaign(body["preset"])
        for key in (
            "name",
            "description",
            "strategy",
            "constraints",
            "measurements",
            "outcome_constraints",
        ):
            if key in body:
                definition[key] = body[key]
    else:
        definition = dict(body)
    errors: dict[str, list[str]] = {}
    space = checked_space(definition["parameters"], definition.get("constraints"), 1, errors)
    strategy = None
    objectives, objective = objectives_definition(definition, errors)
    n_objectives = len(objectives) if objectives is not None else 1
    try:
        posted = dict(definition.get("strategy") or {})
        if "acquisition" not in posted or (n_objectives > 1 and posted["acquisition"] is None):
            posted["acquisition"] = default_acquisition(n_objectives)
        strategy = Strategy.from_dict(posted)
    except (KilnError, TypeError) as exc:
        errors[_error_field("strategy", exc)] = [str(exc)]
    if strategy is not None:
        errors.update(strategy_problems(n_objectives, strategy))
    if space is not None and strategy is not None:
        errors.update(sharing_problems(space, strategy))
    outcomes = outcomes_definition(definition, objectives, errors)
    if errors:
        raise CampaignError(errors)
    assert space is not None and objective is not None and strategy is not None
    out = {
        "name": definition["name"],
        **space.to_dict(),
        **objective,
        **outcomes,
        "strategy": strategy.to_dict(),
        "space_version": 1,
    }
    out.pop("version")
    if definition.get("description"):
        out["description"] = definition["description"]
    if "candidates" in body:
        # Checked row by row against the parameters where they are stored (kiln.pool), so a
        # campaign made in-process gets exactly the same checks.
        out["candidates"] = body["candidates"]
    return out


def campaign_update(
    campaign: Mapping[str, Any], body: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply a change to a campaign: new ranges or constraints (a new space version) and/or a new
    strategy.

    The parameters themselves (names, kinds, hard limits) stay, so every stored result remains
    valid training data; new ranges or constraints that change the space make the next space
    version (constraints that leave no candidate are refused, naming them).

    Args:
        campaign: The stored campaign.
        body: The change: optional ``parameters`` (all of them, with their new ranges),
            ``constraints`` (all of them; ``[]`` drops them), ``strategy`` (overrides), ``name``
            and ``description``.

    Returns:
        The updated campaign and whether its space changed.

    Raises:
        CampaignError: Naming every rule the change breaks; the campaign is then unchanged.
    """
    updated = dict(campaign)
    errors: dict[str, list[str]] = {}
    space_changed = False
    if "parameters" in body or "constraints" in body:
        merged = (
            merged_parameters(campaign, body["parameters"], errors)
            if "parameters" in body
            else list(campaign["parameters"])
        )
        constraints = body["constraints"] if "constraints" in body else campaign.get("constraints")
        version = int(campaign.get("space_version", 1))
        space = None if errors else checked_space(merged, constraints, version + 1, errors)
        if space is not None:
            new_space = space.to_dict()
            new_space.pop("version")
            before = {k: campaign.get(k) for k in ("parameters", "constraints")}
            if {k: new_space.get(k) for k in before} != before:
                updated.pop("constraints", None)
                updated.update(new_space)
                updated["space_version"] = version + 1
                space_changed = True
    objectives = objectives_of(campaign)
    errors.update(objectives_unchanged(campaign, body))
    if "strategy" in body:
        try:
            updated["strategy"] = strategy_with(campaign, body["strategy"])
        except CampaignError as exc:
            errors.update({_prefixed("strategy", k): v for k, v in exc.errors.items()})
        else:
            errors.update(
                strategy_problems(len(objectives), Strategy.from_dict(updated["strategy"]))
            )
    if not errors and ("strategy" in body or space_changed):
        errors.update(sharing_problems(space_of(updated), Strategy.from_dict(updated["strategy"])))
    if "measurements" in body or "outcome_constraints" in body:
        for key in ("measurements", "outcome_constraints"):
            updated.pop(key, None)
        updated.update(outcomes_definition(body, objectives, errors, stored=campaign))
    for key in ("name", "description"):
        if key in body:
            updated[key] = body[key]
    if errors:
        raise CampaignError(errors)
    return updated, space_changed


def strategy_with(campaign: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's strategy with overrides applied (None values ignored, but a None
    ``batch_shared`` removes the sharing), validated.

    Args:
        campaign: The stored campaign (its ``strategy``, empty when absent).
        overrides: Strategy fields to change.

    Returns:
        The merged strategy, normalised.

    Raises:
        CampaignError: Naming the bad strategy field (``body`` when none is named).
    """
    merged = {
        **campaign.get("strategy", {}),
        **{k: v for k, v in overrides.items() if v is not None},
    }
    if "batch_shared" in overrides and overrides["batch_shared"] is None:
        merged.pop("batch_shared", None)  # null ends the sharing
    try:
        return Strategy.from_dict(merged).to_dict()
    except (KilnError, TypeError) as exc:
        raise CampaignError({_error_field("", exc).lstrip(".") or "body": [str(exc)]}) from exc


def validate_results(
    campaign: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    space: SearchSpace | None = None,
    objective: Objective | None = None,
) -> list[dict[str, Any]]:
    """Check every result against the campaign's space and objective.

    A result's parameters lie in the space (values outside the current ranges but within the
    hard limits are flagged, not refused, and so are values that break a constraint: what was
    measured was measured); an ``ok`` result has a usable objective value and a
    ``failed`` one has none; an ``objective_sd``, when given, is a finite standard deviation
    above zero in the objective's unit, on an ``ok`` result (:mod:`kiln.measurement_error`);
    measurements that are numbers are finite.

    Args:
        campaign: The stored campaign.
        rows: The results, as posted.
        space: The campaign's space, when the caller already built it (else `space_of`).
        objective: The campaign's objective, when already built (else `objective_of`).

    Returns:
        The results to store: their non-null fields, their ``flags`` and the ``space_version``.

    Raises:
        CampaignError: Naming each bad result by index and field (``results.<i>.<field>``);
            nothing may be stored then.
    """
    space = space if space is not None else space_of(campaign)
    problems: Callable[[Mapping[str, Any], str], dict[str, list[str]]]
    if "objectives" in campaign:
        problems = partial(result_problems, parse_objectives(campaign))
    else:
        problems = partial(
            _objective_problems, objective if objective is not None else objective_of(campaign)
        )
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        where = f"results.{i}"
        flags: list[str] = []
        try:
            flags = list(space.validate(row["parameters"]))
            flags += [f"breaks {v}" for v in space.constraints.violations(row["parameters"])]
        except OutsideSpaceError as exc:
            key = "" if exc.parameter == "parameters" else f".{exc.parameter}"
            errors.setdefault(f"{where}.parameters{key}", []).append(exc.reason)
        except KilnError as exc:
            errors.setdefault(f"{where}.parameters", []).append(str(exc))
        except ArithmeticError:  # e.g. a value that is astronomically many steps away
            errors.setdefault(f"{where}.parameters", []).append(
                "a value cannot be placed on its parameter's steps (too far from the range)"
            )
        for key, reasons in problems(row, where).items():
            errors.setdefault(key, []).extend(reasons)
        _check_objective_sd(row, where, errors)
        for key, measured in (row.get("measurements") or {}).items():
            if isinstance(measured, float) and not math.isfinite(measured):
                errors.setdefault(f"{where}.measurements.{key}", []).append(
                    "must be a finite number"
                )
        out.append(
            {
                **{k: v for k, v in row.items() if v is not None},
                "flags": flags,
                "space_version": campaign.get("space_version", 1),
            }
        )
    if errors:
        raise CampaignError(errors)
    return out


def _check_objective_sd(row: Mapping[str, Any], where: str, errors: dict[str, list[str]]) -> None:
    """Record what is wrong with a result's ``objective_sd`` (nothing when absent or usable)."""
    sd = row.get(OBJECTIVE_SD)
    if sd is None:
        return
    if row.get("status", "ok") == "failed":
        errors.setdefault(f"{where}.{OBJECTIVE_SD}", []).append(
            "a failed synthesis has no objective value, so no standard deviation either"
        )
        return
    try:
        check_objective_sd(sd)
    except InvalidObservationError as exc:
        errors.setdefault(f"{where}.{OBJECTIVE_SD}", []).append(exc.reason)


def _objective_problems(
    objective: Objective, row: Mapping[str, Any], where: str
) -> dict[str, list[str]]:
    """What is wrong with one result's singular ``"objective"`` (empty when nothing is)."""
    value = row.get("objective")
    if row.get("status", "ok") == "failed":
        if value is not None:
            return {
                f"{where}.objective": [
                    "a failed synthesis has no objective value; drop it or set status 'ok'"
                ]
            }
    elif value is None:
        return {
            f"{where}.objective": [
                f"missing {objective.name!r} value; post status 'failed' for a failed synthesis"
            ]
        }
    else:
        try:
            objective.check_value(value)  # finite, and positive under log10
        except InvalidObservationError as exc:
            return {f"{where}.objective": [exc.reason]}
    return {}


def _prefixed(prefix: str, field: str) -> str:
    return field if field.startswith(prefix) else f"{prefix}.{field}"


def _error_field(prefix: str, exc: Exception) -> str:
    field = getattr(exc, "field", None)
    if not field:
        return prefix
    return _prefixed(prefix, field_path(str(field)))
