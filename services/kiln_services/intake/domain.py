"""The campaign rules (kiln.campaign) at the HTTP edge: errors as 422 problems, built objects reused.

Only the light kiln modules (campaign, space, objective, strategy) are imported here: the intake
never fits a model, so scikit-learn is never loaded in a web process. CSV in and out is
`kiln_services.intake.csv_io`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from kiln import campaign as rules
from kiln import corrections
from kiln.errors import CampaignError
from kiln.objective import Objective
from kiln.objective_rules import strategy_problems
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln_services.intake.errors import ApiProblem, InvalidRequest

T = TypeVar("T")


def campaign_definition(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a normalised, validated campaign definition from a POST /campaigns body.

    Raises:
        InvalidRequest: Naming every bad field (kiln.campaign.campaign_definition's rules).
    """
    try:
        return rules.campaign_definition(body)
    except CampaignError as exc:
        raise InvalidRequest(exc.errors) from exc


def campaign_update(
    campaign: Mapping[str, Any], body: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply a PATCH (kiln.campaign.campaign_update): the updated campaign, whether its space changed.

    Raises:
        InvalidRequest: Naming every rule the PATCH breaks.
    """
    try:
        return rules.campaign_update(campaign, body)
    except CampaignError as exc:
        raise InvalidRequest(exc.errors) from exc


def strategy_with(campaign: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's strategy with a request's overrides, validated by kiln.

    Raises:
        InvalidRequest: Naming the bad strategy field.
    """
    try:
        merged = rules.strategy_with(campaign, overrides)
    except CampaignError as exc:
        raise InvalidRequest(exc.errors) from exc
    # The acquisition must fit the number of objectives (kiln's rule, as a PATCH applies it).
    problems = strategy_problems(len(rules.objectives_of(campaign)), Strategy.from_dict(merged))
    if problems:
        raise InvalidRequest({k.removeprefix("strategy."): v for k, v in problems.items()})
    return merged


def validate_results(
    campaign: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Check every row against the campaign's space and objective(s); all errors, or flagged rows.

    Raises:
        InvalidRequest: naming each bad row by index and field; nothing may be stored then.
    """
    try:
        objective = None if is_multiobjective(campaign) else objective_of(campaign)
        return rules.validate_results(campaign, rows, space=space_of(campaign), objective=objective)
    except CampaignError as exc:
        raise InvalidRequest(exc.errors) from exc


def correct_result(
    campaign: Mapping[str, Any], current: Mapping[str, Any], patch: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A result corrected (kiln.corrections.correct_result): (the corrected result, the changes).

    Raises:
        InvalidRequest: Nothing to change, or the corrected result breaks a rule (naming it).
    """
    try:
        return corrections.correct_result(campaign, current, patch)
    except CampaignError as exc:
        raise InvalidRequest(exc.errors) from exc


def is_multiobjective(campaign: Mapping[str, Any]) -> bool:
    """True for a campaign of 2-4 objectives (kiln.campaign.is_multiobjective)."""
    return rules.is_multiobjective(campaign)


def one_objective(campaign: Mapping[str, Any], what: str) -> None:
    """A 409 problem for a multi-objective campaign at an endpoint of one objective's model.

    Raises:
        ApiProblem: 409 naming `what` and where a multi-objective campaign's answers are.
    """
    if is_multiobjective(campaign):
        raise ApiProblem(
            409,
            "Conflict",
            f"{what} works with one objective's model; this campaign has "
            f"{len(campaign['objectives'])}: read GET /model (summary.objectives), the "
            "proposals' predicted values, /model/slice and /predict with an objective, and "
            "GET /pareto",
            kind="several-objectives",
        )


def space_of(campaign: Mapping[str, Any]) -> SearchSpace:
    """The campaign's current search space (built once per distinct definition, then reused)."""
    version = campaign.get("space_version", 1)
    return _cached(
        ("space", campaign.get("id"), version),
        {"parameters": campaign["parameters"], "constraints": campaign.get("constraints")},
        lambda d: rules.space_of({**d, "space_version": version}),
    )


def objective_of(campaign: Mapping[str, Any]) -> Objective:
    """The campaign's objective (built once per distinct definition, then reused)."""
    return _cached(
        ("objective", campaign.get("id")),
        campaign["objective"],
        lambda o: rules.objective_of({"objective": o}),
    )


# Every posted result is checked against its campaign's space: building the space's frozen
# parameters from JSON on each request cost more than the check itself (bench/intake.py). An
# entry is used only while its definition equals the campaign's (a dict comparison, cheaper than
# hashing a serialisation), so a changed space or objective is never served stale.
_BUILT: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_MAX_BUILT = 512


def _cached(key: tuple[Any, ...], definition: Any, build: Callable[[Any], T]) -> T:
    hit = _BUILT.get(key)
    if hit is not None and hit[0] == definition:
        return cast(T, hit[1])
    built = build(definition)
    if len(_BUILT) >= _MAX_BUILT:
        _BUILT.clear()
    _BUILT[key] = (copy.deepcopy(definition), built)
    return built
