"""The rules of a campaign's search space: parameter steps, constraints that leave candidates,
shared batch parameters that exist, and what a PATCH may change about the parameters.

Each function puts the problems it finds in a dict keyed by the field's dotted path (as
:class:`~kiln.errors.CampaignError` holds them); :mod:`kiln.campaign` gathers them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.batch.sharing import check_sharing
from kiln.constraints.candidates import check_satisfiable
from kiln.errors import InfeasibleConstraintsError, KilnError
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


def merged_parameters(
    campaign: Mapping[str, Any], proposed: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """A PATCH's parameters with the stored hard limits; the rules it breaks go to ``errors``
    (the same names and kinds, unchanged hard limits).

    A parameter's ``scale`` is fixed at creation: a PATCH may leave it out (it is kept) but not
    change it, since results stored on a linear scale may hold values <= 0 that a log scale
    cannot encode."""
    previous = {p["name"]: p for p in campaign["parameters"]}
    if sorted(p["name"] for p in proposed) != sorted(previous):
        errors["parameters"] = [
            f"a PATCH changes ranges, not the parameters: give exactly {sorted(previous)}"
        ]
        return []
    merged: list[dict[str, Any]] = []
    for i, param in enumerate(proposed):
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
        scale = before.get("scale") or "linear"
        if param.get("scale") not in (None, scale):
            errors[f"parameters.{i}.scale"] = [
                f"stays {scale!r}: a parameter's scale is fixed when the campaign is created"
            ]
        if before.get("scale") is not None:
            new["scale"] = before["scale"]
        merged.append(new)
    return merged


def checked_space(
    parameters: Any, constraints: Any, version: int, errors: dict[str, list[str]]
) -> SearchSpace | None:
    """The space of these parameters and constraints, or None with its problems in ``errors``:
    bad parameters, bad steps, bad constraints (by field), constraints that leave no candidate."""
    try:
        space = SearchSpace.from_dict(
            {"parameters": parameters, "version": version, "constraints": constraints}
        )
    except KilnError as exc:
        errors[field_path(getattr(exc, "field", None) or "parameters")] = [str(exc)]
        return None
    problems = step_problems(parameters)
    if not problems:
        try:
            check_satisfiable(space)
        except InfeasibleConstraintsError as exc:
            problems["constraints"] = [str(exc)]
    errors.update(problems)
    return None if problems else space


def sharing_problems(space: SearchSpace, strategy: Strategy) -> dict[str, list[str]]:
    """The shared parameters of ``strategy.batch_shared`` that the space does not have."""
    if strategy.batch_shared is None:
        return {}
    try:
        check_sharing(space.parameters, strategy.batch_shared.parameters)
    except KilnError as exc:
        return {field_path(str(getattr(exc, "field", None) or "strategy")): [str(exc)]}
    return {}


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
