"""Campaign requests: list, read, create and change campaigns, and find one by its name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, cast

from kiln_client.errors import AmbiguousCampaign, UnknownCampaign
from kiln_client.payloads import Campaign
from kiln_client.transport import Transport


def list_campaigns(api: Transport) -> list[Campaign]:
    """Every campaign the token may read, oldest first."""
    return [cast(Campaign, c) for c in api.paged("/campaigns", page_size=1000)]


def get_campaign(api: Transport, campaign_id: str) -> Campaign:
    """One campaign with its space version and counts."""
    return cast(Campaign, api.get_json(f"/campaigns/{campaign_id}"))


def create_campaign(
    api: Transport,
    spec: Mapping[str, Any] | None = None,
    *,
    preset: str | None = None,
    name: str | None = None,
    idempotency_key: str | None = None,
) -> Campaign:
    """Create a campaign from a definition (name, parameters, objective, strategy) or a preset.

    Args:
        spec: The campaign definition as in POST /campaigns.
        preset: A preset name instead (``"latp"``, ``"latp-furnace"``).
        name: Overrides the spec's or preset's name.
        idempotency_key: Sent as ``Idempotency-Key``.
    """
    body: dict[str, Any] = dict(spec or {})
    if preset:
        body["preset"] = preset
    if name:
        body["name"] = name
    if not body:
        raise ValueError("give a campaign definition or a preset")
    return cast(Campaign, api.post_json("/campaigns", body, idempotency_key=idempotency_key))


def update_campaign(api: Transport, campaign_id: str, changes: Mapping[str, Any]) -> Campaign:
    """Change ranges or constraints (a new space version, all data kept), the strategy (e.g.
    ``{"strategy": {"batch_shared": {"parameters": [...], "groups": 2}}}``) or the name.

    New constraints withdraw the pending proposals that break them, each with its reason.
    """
    return cast(
        Campaign,
        api.request("PATCH", f"/campaigns/{campaign_id}", json=dict(changes)).json(),
    )


#: A campaign id as the server makes them (``uuid4().hex``); anything else is taken for a name.
CAMPAIGN_ID = re.compile(r"[0-9a-f]{32}")


def campaign_id(api: Transport, name_or_id: str) -> str:
    """The id of the campaign ``name_or_id`` names: an id as is, else the one campaign so named.

    The listing is asked for ``?name=`` and still filtered here, so a server that ignores the
    filter gives the same answer.

    Raises:
        UnknownCampaign: No campaign has that name (the message lists close names).
        AmbiguousCampaign: Several campaigns have it (the message lists their ids).
    """
    if CAMPAIGN_ID.fullmatch(name_or_id):
        return name_or_id
    listed = api.paged("/campaigns", page_size=1000, query={"name": name_or_id})
    ids = [str(c["id"]) for c in listed if c.get("name") == name_or_id]
    if len(ids) == 1:
        return ids[0]
    if ids:
        raise AmbiguousCampaign(
            f"{len(ids)} campaigns are named {name_or_id!r}: give one of their ids "
            f"({', '.join(ids)})"
        )
    names = {str(c.get("name", "")) for c in list_campaigns(api)}
    close = difflib.get_close_matches(name_or_id, sorted(names), n=5, cutoff=0.5)
    hint = f"; close names: {', '.join(close)}" if close else "; `kiln campaigns list` shows them"
    raise UnknownCampaign(
        f"no campaign is named {name_or_id!r} (and it is not an id: 32 hex digits){hint}"
    )
