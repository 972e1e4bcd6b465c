"""Proposals: request a batch (202 + job), read the latest batch (ETag, long-poll), the model."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, request, url_for
from flask.views import MethodView

from intake import loop
from intake.errors import ApiProblem
from intake.extensions import get_store, get_tasks
from intake.parsing import Blueprint
from intake.schemas import (
    BatchOut,
    JobOut,
    LatestQueryArgs,
    ModelOut,
    ProposalOut,
    ProposalRequestIn,
)

blp = Blueprint(
    "proposals",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="Proposed experiments and the model behind them",
)


def etag_of(batch_id: str | None, revision: int) -> str | None:
    """The ETag of a campaign's latest batch: its id and the ledger revision."""
    return f'"{batch_id}.{revision}"' if batch_id else None


def etag_matches(header: str | None, etag: str | None) -> bool:
    """True when an If-None-Match header names the current ETag (or '*' and one exists)."""
    if not header or etag is None:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


@blp.route("/<campaign_id>/proposals")
class Proposals(MethodView):
    @blp.arguments(ProposalRequestIn)
    @blp.response(202, JobOut)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, body: dict[str, Any], campaign_id: str) -> tuple[dict, int, dict[str, str]]:
        """Ask the workers for a batch of proposals."""
        store = get_store()
        campaign = store.get_campaign(campaign_id)
        job = loop.request_batch(store, get_tasks(), campaign, body)
        return job, 202, {"Location": url_for("jobs.Job", job_id=job["id"])}


@blp.route("/<campaign_id>/proposals/latest")
class LatestProposals(MethodView):
    @blp.arguments(LatestQueryArgs, location="query")
    @blp.response(200, BatchOut)
    @blp.alt_response(304, description="Unchanged (If-None-Match) after the wait")
    @blp.alt_response(404, description="No batch yet")
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, args: dict[str, Any], campaign_id: str) -> Any:
        """Read the latest batch; with ?wait=S and If-None-Match, wait for a new one."""
        store = get_store()
        store.get_campaign(campaign_id)
        wait = min(args["wait"], float(current_app.config["KILN_LONG_POLL_MAX_S"]))
        interval = float(current_app.config["KILN_LONG_POLL_INTERVAL_S"])
        seen = request.headers.get("If-None-Match")
        deadline = time.monotonic() + wait
        while True:
            # Two cheap reads per poll; the batch itself is loaded once, when it is sent.
            batch_id, revision = store.proposals_state(campaign_id)
            etag = etag_of(batch_id, revision)
            changed = etag is not None and not etag_matches(seen, etag)
            if changed or time.monotonic() >= deadline:
                break
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        if batch_id is None:
            raise ApiProblem(
                404,
                "Not Found",
                "no batch yet: post results (a batch follows automatically) or POST proposals",
                kind="no-batch",
            )
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if not changed:
            return Response(status=304, headers=headers)
        return store.get_batch(campaign_id, batch_id), 200, headers


@blp.route("/<campaign_id>/proposals/<proposal_id>")
class Proposal(MethodView):
    @blp.response(200, ProposalOut)
    @blp.alt_response(409, description="Not pending any more")
    @blp.doc(security=[{"bearerAuth": []}])
    def delete(self, campaign_id: str, proposal_id: str) -> dict[str, Any]:
        """Withdraw a pending proposal."""
        store = get_store()
        store.get_campaign(campaign_id)
        return store.withdraw_proposal(campaign_id, proposal_id)


@blp.route("/<campaign_id>/model")
class Model(MethodView):
    @blp.response(200, ModelOut)
    @blp.alt_response(404, description="No model fitted yet")
    @blp.doc(security=[{"bearerAuth": []}])
    def get(self, campaign_id: str) -> dict[str, Any]:
        """Read the summary of the campaign's latest model."""
        store = get_store()
        store.get_campaign(campaign_id)
        model = store.get_model(campaign_id)
        if model is None:
            raise ApiProblem(
                404,
                "Not Found",
                "no model yet: one is fitted after results are posted",
                kind="no-model",
            )
        return {**model, "campaign_id": campaign_id}
