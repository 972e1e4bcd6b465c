"""A campaign's rules: what a definition is, what a PATCH may change, what makes a result valid.

A campaign is the JSON the service stores (``parameters``, ``objective``, ``strategy``,
``space_version``, ...). The functions here turn it into domain objects and apply its rules; they
raise `CampaignError` with every problem keyed by the field's dotted path, which the services turn
into their own error responses. Only the light modules (space, objective, measurement_error,
strategy) are imported, so a web process that checks results never loads scikit-learn.
"""

from __future__ import annotations

import math
import re
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
from kiln.multiobjective.objectives import parse_objectives, result_problems
from kiln.objective import Objective
from kiln.space import SearchSpace
from kiln.strategy import Strategy

#: A continuous parameter's step may divide its (hard) range into at most this many parts: more
#: is a typo, and its arithmetic overflows.
MAX_STEPS = 10**9


def field_path(path: str) -> str:
    """Turn a kiln field path like ``parameters[2].high`` into the dotted ``parameters.2.high``.

    Args:
        path: A field path as the domain's errors name it.

    Returns:
        The same path with list indices written as dotted segments.
    """
    return re.sub(r"\[(\d+)\]", r".\1", path)


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
        from kiln.presets import latp_campaign

        definition: dict[str, Any] = dict(latp_campaign())
        for key in ("name", "description", "strategy"):
            if key in body:
                definition[key] = body[key]
    else:
        definition = dict(body)
    errors: dict[str, list[str]] = {}
    space = strategy = None
    objective: dict[str, Any] | None = None
    try:
        space = SearchSpace.from_dict({"parameters": definition["parameters"], "version": 1})
    except KilnError as exc:
        errors[field_path(getattr(exc, "field", None) or "parameters")] = [str(exc)]
    else:
        errors.update(step_problems(definition["parameters"]))
    # "objectives": a multi-objective campaign (issue 16); the singular path is unchanged
    objective_key = "objectives" if "objectives" in definition else "objective"
    if objective_key == "objectives":
        try:
            objective = {objective_key: parse_objectives(definition).to_list()}
        except CampaignError as exc:
            errors.update(exc.errors)
    else:
        try:
            objective = {objective_key: Objective.from_dict(definition["objective"]).to_dict()}
        except (KilnError, TypeError) as exc:
            errors[_error_field("objective", exc)] = [str(exc)]
    try:
        strategy = Strategy.from_dict(dict(definition.get("strategy") or {}))
    except (KilnError, TypeError) as exc:
        errors[_error_field("strategy", exc)] = [str(exc)]
    if errors:
        raise CampaignError(errors)
    assert space is not None and objective is not None and strategy is not None
    out = {
        "name": definition["name"],
        "parameters": space.to_dict()["parameters"],
        **objective,
        "strategy": strategy.to_dict(),
        "space_version": 1,
    }
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
    """Apply a change to a campaign: new ranges (a new space version) and/or a new strategy.

    The parameters themselves (names, kinds, hard limits) stay, so every stored result remains
    valid training data; new ranges that change the space make the next space version.

    Args:
        campaign: The stored campaign.
        body: The change: optional ``parameters`` (all of them, with their new ranges),
            ``strategy`` (overrides), ``name`` and ``description``.

    Returns:
        The updated campaign and whether its space changed.

    Raises:
        CampaignError: Naming every rule the change breaks; the campaign is then unchanged.
    """
    updated = dict(campaign)
    errors: dict[str, list[str]] = {}
    space_changed = False
    if "parameters" in body:
        previous = {p["name"]: p for p in campaign["parameters"]}
        proposed = list(body["parameters"])
        if sorted(p["name"] for p in proposed) != sorted(previous):
            errors["parameters"] = [
                f"a PATCH changes ranges, not the parameters: give exactly {sorted(previous)}"
            ]
        merged: list[dict[str, Any]] = []
        for i, param in enumerate(proposed if not errors else []):
            before = previous[param["name"]]
            if param["kind"] != before["kind"]:
                errors[f"parameters.{i}.kind"] = [f"stays {before['kind']!r}"]
            new = dict(param)
            for limit in ("hard_low", "hard_high"):
                if before.get(limit) is None:
                    continue
                if param.get(limit) is not None and param[limit] != before[limit]:
                    errors[f"parameters.{i}.{limit}"] = [
                        f"hard limits do not change (it is {before[limit]})"
                    ]
                new[limit] = before[limit]
            merged.append(new)
        if not errors:
            version = int(campaign.get("space_version", 1))
            try:
                space = SearchSpace.from_dict({"parameters": merged, "version": version + 1})
            except KilnError as exc:
                errors[field_path(getattr(exc, "field", None) or "parameters")] = [str(exc)]
            else:
                errors.update(step_problems(merged))
                parameters = space.to_dict()["parameters"]
                if not errors and parameters != campaign["parameters"]:
                    updated["parameters"] = parameters
                    updated["space_version"] = version + 1
                    space_changed = True
    if "strategy" in body:
        try:
            updated["strategy"] = strategy_with(campaign, body["strategy"])
        except CampaignError as exc:
            errors.update({_prefixed("strategy", k): v for k, v in exc.errors.items()})
    for key in ("name", "description"):
        if key in body:
            updated[key] = body[key]
    if errors:
        raise CampaignError(errors)
    return updated, space_changed


def step_problems(parameters: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Find the continuous parameters whose step cuts their range into more than `MAX_STEPS`.

    Args:
        parameters: Parameter definitions (dicts, as stored).

    Returns:
        The problems keyed ``parameters.<i>.step``; empty when every step is fine.
    """
    out: dict[str, list[str]] = {}
    for i, p in enumerate(parameters):
        step = p.get("step")
        if p.get("kind") != "continuous" or not step:
            continue
        low = min(v for v in (p.get("low"), p.get("hard_low")) if v is not None)
        high = max(v for v in (p.get("high"), p.get("hard_high")) if v is not None)
        parts = (high - low) / step
        if not math.isfinite(parts) or parts > MAX_STEPS:
            out[f"parameters.{i}.step"] = [
                f"step {step} divides the range [{low}, {high}] into more than {MAX_STEPS:.0e} "
                "steps; use a coarser step, or none for a continuous parameter"
            ]
    return out


def strategy_with(campaign: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's strategy with overrides applied (None values ignored), validated.

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
    hard limits are flagged, not refused); an ``ok`` result has a usable objective value and a
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
