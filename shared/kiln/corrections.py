"""Corrections of stored results: which fields a correction may change, and the corrected result.

A correction never rewrites what was posted: the store appends a revision, and this module says
what the result becomes and what changed (for the revision's ``changes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.campaign import validate_results
from kiln.errors import CampaignError

#: Fields of a stored result a correction may change; the others identify it or say when it
#: came (``sample_id``, ``proposal_id``, ``received_at``, ...) and are never patched.
PATCHABLE = (
    "parameters",
    "objective",
    "objectives",
    "objective_sd",
    "measurements",
    "status",
    "excluded",
)
_SCALARS = ("objective", "objective_sd", "status", "excluded")
_VIEW_ONLY = ("flags", "space_version", "revision", "excluded")


def correct_result(
    campaign: Mapping[str, Any], current: Mapping[str, Any], patch: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a correction to a stored result; the corrected result must be valid as a whole.

    Named ``parameters`` replace theirs (the others are kept); ``measurements`` and the
    ``objectives`` of a multi-objective result are merged, a null removing its key; a null ``objective_sd`` removes it; ``excluded`` sets a result aside.

    Args:
        campaign: The stored campaign.
        current: The result's current value (with ``excluded``).
        patch: The fields to change (`PATCHABLE`), as a PATCH sends them.

    Returns:
        (the corrected result, the changes): ``{"objective": {"from": 1e300, "to": 1.2e-3},
        "parameters.temperature_c": {"from": 950, "to": 975}, ...}``.

    Raises:
        CampaignError: A field that may not be patched, nothing to change (``_schema``), or the
            corrected result breaks the rules of a post (keyed by the field, e.g. ``objective``).
    """
    fixed = [name for name in patch if name not in PATCHABLE]
    if fixed:
        raise CampaignError({name: [f"{name} cannot be corrected"] for name in fixed})
    several = "objectives" in campaign
    wrong = "objective" if several else "objectives"
    if wrong in patch:
        right = "objectives (by name)" if several else "objective"
        raise CampaignError({wrong: [f"this campaign's results have {right}; correct that"]})
    corrected = {k: v for k, v in current.items() if k != "revision"}
    changes: dict[str, Any] = {}
    for group in ("parameters", "measurements", *(("objectives",) if several else ())):
        values = dict(current.get(group) or {})
        for name, value in (patch.get(group) or {}).items():
            if values.get(name) != value or (value is not None and name not in values):
                changes[f"{group}.{name}"] = {"from": values.get(name), "to": value}
                values[name] = value
        corrected[group] = {k: v for k, v in values.items() if v is not None}
    for name in (n for n in _SCALARS if n in patch):
        before = current.get(name, False if name == "excluded" else None)
        if patch[name] != before:
            changes[name] = {"from": before, "to": patch[name]}
            corrected[name] = patch[name]
    if not changes:
        given = ", ".join(PATCHABLE)
        raise CampaignError({"_schema": [f"nothing to change: give a new value of {given}"]})
    corrected = {k: v for k, v in corrected.items() if v is not None}
    try:
        (checked,) = validate_results(
            campaign, [{k: v for k, v in corrected.items() if k not in _VIEW_ONLY}]
        )
    except CampaignError as exc:
        raise CampaignError(
            {k.removeprefix("results.0."): v for k, v in exc.errors.items()}
        ) from exc
    if any(key.startswith("parameters.") for key in changes):
        corrected["flags"], corrected["space_version"] = checked["flags"], checked["space_version"]
    return corrected, changes
