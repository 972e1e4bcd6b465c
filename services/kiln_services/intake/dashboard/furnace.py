"""What the campaign page says about constraints, furnace sharing and a batch's groups.

The words come from :mod:`kiln_client.furnace_words` (the command line says the same); the page
renders them as text only (Jinja escapes them, the scripts set ``textContent``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln_client.furnace_words import batch_groups, constraint_words, group_words, sharing_words


def furnace_words(campaign: Mapping[str, Any], latest: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"constraints": [line, ...], "sharing": sentence | None, "shared": [name, ...],
    "groups": {group: heading}}``.

    ``shared`` names the parameters a furnace run shares (the page shows them once per group);
    ``groups`` heads the latest batch's groups (empty without sharing), keyed by the group as a
    string (JSON object keys).
    """
    shared = (campaign.get("strategy") or {}).get("batch_shared") or {}
    groups = batch_groups((latest or {}).get("proposals") or [], shared.get("parameters") or [])
    parameters = campaign.get("parameters") or []
    return {
        "constraints": [constraint_words(c) for c in campaign.get("constraints") or []],
        "sharing": sharing_words(shared),
        "shared": list(shared.get("parameters") or []),
        "groups": {str(g): group_words(g, values, parameters) for g, values, _ in groups},
    }
