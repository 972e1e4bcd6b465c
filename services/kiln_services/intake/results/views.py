"""Results: post (all-or-nothing, idempotent by sample_id; JSON or CSV) and list/export."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for
from flask.views import MethodView
from marshmallow import ValidationError

from kiln_services.intake import csv_io, domain, enqueue
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import InvalidRequest, flatten_messages
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.intake.results.schemas import (
    ResultIn,
    ResultPageOut,
    ResultsIn,
    ResultsPostOut,
    ResultsQueryArgs,
)

blp = Blueprint("results", __name__, url_prefix="/api/v1/campaigns", description="Measured results")

_DEFAULT_PAGE = 100


def _rows(campaign: dict[str, Any], body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    # The valid results and how many rows of a CSV were skipped (not filled in).
    if "results" in body:
        return domain.validate_results(campaign, _capped(body["results"])), 0
    parsed = csv_io.results_from_csv(campaign, _capped(body["csv"]))
    try:
        try:
            loaded = ResultIn(many=True).load(parsed.results)
        except ValidationError as exc:
            raise InvalidRequest(flatten_messages(exc.messages, "results")) from exc
        return domain.validate_results(campaign, loaded), parsed.skipped
    except InvalidRequest as exc:
        raise parsed.problem(exc) from exc


def _capped(rows: list[Any]) -> list[Any]:
    limit = current_app.config["KILN_MAX_RESULTS_PER_REQUEST"]
    if len(rows) > limit:
        raise InvalidRequest({"results": [f"at most {limit} results per request"]})
    return rows


@blp.route("/<campaign_id>/results")
class Results(MethodView):
    @blp.arguments(
        ResultsIn,
        required=False,
        description="One result, {'results': [...]}, a bare array, or text/csv with a header "
        "(sample_id, parameter names, the objective's name or 'objective', other columns are "
        "measurements).",
    )
    @blp.response(201, ResultsPostOut, description="New results stored", example=ex.RESULTS_POSTED)
    @blp.alt_response(200, schema=ResultsPostOut, description="All duplicates: nothing new")
    @blp.alt_response(409, description="A sample_id exists with a different payload")
    @blp.doc(operationId="postResults", requestBody=ex.RESULTS_BODY)
    def post(self, body: dict[str, Any], campaign_id: str) -> tuple[dict[str, Any], int]:
        """Store results for a campaign."""
        store, tasks = get_store(), get_tasks()
        campaign = store.campaigns.get(campaign_id)
        valid, skipped = _rows(campaign, body)
        # Storing sets the refit flag in the same step (one round trip less per post).
        outcome = store.results.append(
            campaign_id, valid, mark_refit_ttl_s=enqueue.refit_flag_ttl()
        )
        if outcome.stored:
            enqueued = outcome.refit_marked and enqueue.send_refit(store, tasks, campaign_id)
        else:
            enqueued = enqueue.refit_if_stale(store, tasks, campaign_id, outcome.data_version)
        answer = {
            "stored": outcome.stored,
            "duplicates": outcome.duplicates,
            "data_version": outcome.data_version,
            "flags": [
                {"index": i, "sample_id": row["sample_id"], "flags": flags}
                for i, (row, flags) in enumerate(zip(valid, outcome.row_flags, strict=True))
                if flags
            ],
            "measured_proposals": outcome.measured_proposals,
            "refit_enqueued": enqueued,
            "skipped": skipped,
        }
        return answer, 201 if outcome.stored else 200

    @blp.arguments(ResultsQueryArgs, location="query")
    @blp.response(200, ResultPageOut)
    @blp.alt_response(200, schema=ex.CSV_TEXT, content_type="text/csv", success=True)
    @blp.doc(operationId="listResults")
    def get(self, args: dict[str, Any], campaign_id: str) -> Any:
        """List a campaign's results, oldest first (paged); ?format=csv exports text/csv."""
        store = get_store()
        campaign = store.campaigns.get(campaign_id)
        offset, limit = args["offset"], args.get("limit")
        if args["format"] == "csv":
            items = store.results.page(campaign_id, offset, limit)
            return Response(
                csv_io.results_to_csv(campaign, items),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{campaign_id}.csv"'},
            )
        limit = limit or _DEFAULT_PAGE
        total = store.results.data_version(campaign_id)
        items = store.results.page(campaign_id, offset, limit)
        end = offset + len(items)
        return {
            "items": items,
            "offset": offset,
            "limit": limit,
            "total": total,
            "data_version": total,
            "next": url_for(".Results", campaign_id=campaign_id, offset=end, limit=limit)
            if end < total and items
            else None,
        }
