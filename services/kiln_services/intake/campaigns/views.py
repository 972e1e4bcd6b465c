"""Campaigns: create (admin), list and read."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask.views import MethodView

from kiln_services.intake import enqueue
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.auth import requires
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPageArgs,
    CampaignPageOut,
    CampaignPatchIn,
)
from kiln_services.intake.domain import campaign_definition, campaign_update, is_multiobjective
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.store import CampaignNotFound

blp = Blueprint(
    "campaigns", __name__, url_prefix="/api/v1/campaigns", description="Optimisation campaigns"
)


def with_counts(campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign as GET shows it: with its counters."""
    return {**campaign, "counts": get_store().campaigns.counts(campaign["id"])}


def _only(campaign_id: str, name: str | None) -> list[dict[str, Any]]:
    try:
        campaign = get_store().campaigns.get(campaign_id)
    except CampaignNotFound:
        return []
    return [campaign] if name is None or campaign.get("name") == name else []


def _page(args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    # The campaigns a GET lists (a limited token sees its one campaign only), and the total.
    offset, limit, name = args["offset"], args["limit"], args.get("name")
    limited = (getattr(g, "token", None) or {}).get("campaign_id")
    if not limited and name is None:
        return get_store().campaigns.page(offset, limit)
    matches = _only(limited, name) if limited else get_store().campaigns.named(name or "")
    return matches[offset : offset + limit], len(matches)


@blp.route("")
class Campaigns(MethodView):
    @blp.arguments(CampaignPageArgs, location="query")
    @blp.response(200, CampaignPageOut)
    @blp.doc(operationId="listCampaigns")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List campaigns, oldest first (``name``: only the one with exactly that name).

        A token limited to one campaign sees only that one.
        """
        items, total = _page(args)
        end = args["offset"] + len(items)
        named = {"name": args["name"]} if "name" in args else {}
        return {
            "items": [with_counts(c) for c in items],
            "offset": args["offset"],
            "limit": args["limit"],
            "total": total,
            "next": url_for(".Campaigns", offset=end, limit=args["limit"], **named)
            if end < total and items
            else None,
        }

    @requires("admin")
    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    @blp.alt_response(409, description="Another campaign has this name (names are unique)")
    @blp.doc(
        operationId="createCampaign",
        requestBody=ex.CAMPAIGN_BODY,
        responses=ex.links(
            201,
            "campaign_id",
            *("getCampaign", "postResults", "listResults", "requestProposals"),
            *("getLatestProposals", "updateCampaign"),
        ),
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create a campaign from a definition or a preset."""
        campaign = get_store().campaigns.create(campaign_definition(body))
        location = url_for(".Campaign", campaign_id=campaign["id"])
        return with_counts(campaign), 201, {"Location": location}


@blp.route("/<campaign_id>")
class Campaign(MethodView):
    @blp.response(200, CampaignOut)
    @blp.doc(operationId="getCampaign")
    def get(self, campaign_id: str) -> dict[str, Any]:
        """Read a campaign with its space version and counts."""
        return with_counts(get_store().campaigns.get(campaign_id))

    @requires("admin")
    @blp.arguments(CampaignPatchIn)
    @blp.response(200, CampaignOut)
    @blp.alt_response(409, description="Another campaign has this name (names are unique)")
    @blp.doc(operationId="updateCampaign")
    def patch(self, body: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """Change ranges (a new space version; all data kept) or the strategy."""
        store = get_store()
        changed: list[bool] = []

        def change(current: dict[str, Any]) -> dict[str, Any]:
            updated, space_changed = campaign_update(current, body)
            changed[:] = [space_changed]
            return updated

        campaign = store.campaigns.update(campaign_id, change)
        # New ranges change the encoding; new outcome constraints the models of several
        # objectives (one per constrained measurement).
        remodel = changed[0] or ("outcome_constraints" in body and is_multiobjective(campaign))
        if remodel and store.results.data_version(campaign_id):
            enqueue.request_refit(store, get_tasks(), campaign_id)
        return with_counts(campaign)
