"""Candidate pools: add rows (admin; JSON or CSV), list them with their status, remove rows (admin).

Each change makes a new space version of the campaign, as a range PATCH does; removing rows
withdraws their pending proposals with the reason given.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from kiln.pool import OPEN, OUTSIDE, STATUSES, CandidateError, outside_reason
from kiln_services.intake import csv_io, domain, enqueue
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.auth import requires
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.candidates.schemas import (
    CandidatePageOut,
    CandidatesIn,
    CandidatesPatchIn,
    CandidatesPatchOut,
    CandidatesPostOut,
    CandidatesQueryArgs,
)
from kiln_services.intake.errors import InvalidRequest
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.store import status_of

blp = Blueprint(
    "candidates",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="Candidate pools: the finite table of experiments a lab can run",
)


def _csv_rows(campaign: dict[str, Any], rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    return csv_io.candidates_from_csv(campaign, rows)


def _csv_problem(exc: CandidateError, rows: list[dict[str, str]]) -> InvalidRequest:
    # Name the row as a spreadsheet shows it (the header is row 1) and the column.
    line = rows[exc.row].get(csv_io.LINE_KEY, str(exc.row + 2)) if exc.row < len(rows) else "?"
    column = "" if exc.parameter in ("parameters", "candidates") else f".{exc.parameter}"
    return InvalidRequest({f"row.{line}{column}": [exc.reason]})


@blp.route("/<campaign_id>/candidates")
class Candidates(MethodView):
    @requires("admin")
    @blp.arguments(
        CandidatesIn,
        required=False,
        description="Rows to add: a JSON array, {'candidates': [...]}, or text/csv with a header "
        "of the parameter names. All-or-nothing: every row is checked against the parameters, "
        "duplicates (within the request or of an open row) are refused.",
    )
    @blp.response(201, CandidatesPostOut, description="Rows added; a new space version")
    @blp.doc(operationId="postCampaignsCampaignIdCandidates", requestBody=ex.CANDIDATES_BODY)
    def post(self, body: dict[str, Any], campaign_id: str) -> tuple[dict[str, Any], int]:
        """Add candidate rows to a campaign's pool."""
        store = get_store()
        if "csv" in body:
            campaign = store.campaigns.get(campaign_id)
            rows = _csv_rows(campaign, body["csv"])
            try:
                added = store.candidates.add(campaign_id, rows)
            except CandidateError as exc:
                raise _csv_problem(exc, body["csv"]) from exc
        else:
            added = store.candidates.add(campaign_id, body["candidates"])
        if store.results.data_version(campaign_id):
            enqueue.request_refit(store, get_tasks(), campaign_id)  # a new space version
        return added, 201

    @blp.arguments(CandidatesQueryArgs, location="query")
    @blp.response(200, CandidatePageOut)
    @blp.doc(operationId="getCampaignsCampaignIdCandidates")
    def get(self, args: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """List a campaign's candidates with their status and the counts by status."""
        store = get_store()
        campaign = store.campaigns.get(campaign_id)
        measured, pending = store.candidates.statuses(campaign_id, campaign)
        offset, limit, wanted = args["offset"], args["limit"], args.get("status")
        total = store.campaigns.counts(campaign_id)["candidates"]
        removed = store.candidates.removed(campaign_id)
        outside = store.candidates.outside(campaign_id, campaign)
        closed = {
            i: status_of(i, measured, pending, removed, outside)
            for i in measured | pending | removed.keys() | outside.keys()
        }
        counts = dict.fromkeys(STATUSES, 0)
        counts[OPEN] = total - len(closed)
        for status in closed.values():
            counts[status] += 1
        if wanted is None:
            items = store.candidates.page(campaign_id, offset, limit)
            n = total
        else:
            ids = self._ids_of(wanted, closed, total)
            n = counts[wanted]
            items = store.candidates.by_id(campaign_id, ids[offset : offset + limit])
        for item in items:
            item["status"] = closed.get(item["id"], OPEN)
            item.update(removed.get(item["id"], {}))
            if item["status"] == OUTSIDE:
                item["parameter"] = outside[item["id"]]
                item["reason"] = outside_reason(domain.space_of(campaign), item["parameters"])
        end = offset + len(items)
        query = {"status": wanted} if wanted else {}
        return {
            "items": items,
            "offset": offset,
            "limit": limit,
            "total": n,
            "counts": counts,
            "space_version": campaign.get("space_version", 1),
            "next": url_for(
                ".Candidates", campaign_id=campaign_id, offset=end, limit=limit, **query
            )
            if end < n and items
            else None,
        }

    @staticmethod
    def _ids_of(status: str, closed: dict[int, str], total: int) -> list[int]:
        if status != OPEN:
            return sorted(i for i, s in closed.items() if s == status)
        return [i for i in range(total) if i not in closed]

    @requires("admin")
    @blp.arguments(CandidatesPatchIn)
    @blp.response(200, CandidatesPatchOut)
    @blp.doc(operationId="patchCampaignsCampaignIdCandidates")
    def patch(self, body: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """Remove candidate rows for good, withdrawing their pending proposals."""
        store = get_store()
        changed = store.candidates.remove(campaign_id, body["remove"], body["reason"])
        if changed["removed"] and store.results.data_version(campaign_id):
            enqueue.request_refit(store, get_tasks(), campaign_id)  # a new space version
        return changed
