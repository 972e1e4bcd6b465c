"""Results: post (all-or-nothing, idempotent by sample_id; JSON or CSV), list/export (current
values), and one result: read it with its history, correct or exclude it (PATCH, audited)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask.views import MethodView
from marshmallow import ValidationError

from kiln_services.intake import csv_io, domain, enqueue, idempotency
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import ApiProblem, InvalidRequest, flatten_messages
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.intake.paging import page
from kiln_services.intake.results.schemas import (
    ResultIn,
    ResultPageOut,
    ResultPatchIn,
    ResultsIn,
    ResultsPostOut,
    ResultsQueryArgs,
    ResultViewOut,
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
        "(sample_id, parameter names, the objective's name or 'objective' - a column per "
        "objective name for several objectives -, other columns are measurements).",
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
        offset, limit, excluded = args["offset"], args.get("limit"), args.get("excluded")
        if args["format"] == "csv":
            items = store.results.current(campaign_id, offset, limit, excluded=excluded)
            return Response(
                csv_io.results_to_csv(campaign, items),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{campaign_id}.csv"'},
            )
        limit = limit or _DEFAULT_PAGE
        total = store.results.count(campaign_id)
        items = store.results.current(campaign_id, offset, limit, excluded=excluded)
        answer = page(
            items, offset, limit, total, ".Results", end=offset + limit, campaign_id=campaign_id
        )
        return {**answer, "data_version": store.results.data_version(campaign_id)}


def etag(result: dict[str, Any]) -> str:
    """A result's ETag: its sample_id and revision, quoted."""
    return f'"{result["sample_id"]}:{result["revision"]}"'


def _check_if_match(current: dict[str, Any]) -> None:
    if request.if_match and not request.if_match.contains_raw(etag(current)):
        raise ApiProblem(
            412,
            "Precondition Failed",
            f"the result is at revision {current['revision']} (ETag {etag(current)}): "
            "someone corrected it meanwhile; read it again; nothing was stored",
            errors={"If-Match": [f"stale; the current ETag is {etag(current)}"]},
            kind="precondition-failed",
            headers={"ETag": etag(current)},
        )


@blp.route("/<campaign_id>/results/<path:sample_id>")
class Result(MethodView):
    @blp.response(200, ResultViewOut, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.doc(operationId="getResult")
    def get(self, campaign_id: str, sample_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A result's current value and its corrections (revisions), oldest first."""
        view = get_store().revisions.view(campaign_id, sample_id)
        return view, 200, {"ETag": etag(view)}

    @blp.arguments(ResultPatchIn)
    @blp.response(200, ResultViewOut, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(404, description="No such campaign or sample_id")
    @blp.alt_response(412, description="If-Match names an older revision: nothing stored")
    @blp.doc(
        operationId="correctResult",
        parameters=[
            {"name": "If-Match", "in": "header", "schema": {"type": "string"},
             "description": "the ETag read: refused (412) if someone corrected it since"},
        ],
    )  # fmt: skip
    def patch(
        self, body: dict[str, Any], campaign_id: str, sample_id: str
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Correct or exclude a result, with a reason; appends a revision, triggers a refit."""
        store, tasks = get_store(), get_tasks()
        campaign = store.campaigns.get(campaign_id)
        reason = body.pop("reason")

        def apply(current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            _check_if_match(current)
            return domain.correct_result(campaign, current, body)

        outcome = store.revisions.correct(
            campaign_id,
            sample_id,
            apply,
            by=str(g.token.get("name") or g.token["id"]),
            reason=reason,
            key=idempotency.claimed_key(),
            mark_refit_ttl_s=enqueue.refit_flag_ttl(),
        )
        if outcome.refit_marked:
            enqueue.send_refit(store, tasks, campaign_id)
        else:
            enqueue.refit_if_stale(store, tasks, campaign_id, outcome.data_version)
        view = store.revisions.view(campaign_id, sample_id)
        return view, 200, {"ETag": etag(view)}
