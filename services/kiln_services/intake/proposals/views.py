"""Proposals and the model behind them.

Request a batch (202 + job), read the latest batch (ETag, long-poll), list the proposal ledger,
withdraw a proposal; read the model's summary, predict at points, and draw a 2-D slice. The
predictions are computed here from the stored model with numpy (kiln.model.reader, imported on first
use): no job, and never scikit-learn in the web process.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, request, url_for
from flask.views import MethodView

from kiln_services.intake import domain, enqueue, longpoll
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.intake.jobs.schemas import JobOut
from kiln_services.intake.jobs.views import accepted
from kiln_services.intake.proposals.schemas import (
    LatestQueryArgs,
    LedgerBatchOut,
    LedgerProposalOut,
    ModelOut,
    PredictIn,
    PredictOut,
    ProposalPageArgs,
    ProposalPageOut,
    ProposalRequestIn,
    SliceArgs,
    SliceOut,
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
    @blp.arguments(ProposalPageArgs, location="query")
    @blp.response(200, ProposalPageOut)
    @blp.doc(operationId="getCampaignsCampaignIdProposals")
    def get(self, args: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """List the proposal ledger, oldest first; ?status=pending lists those in flight."""
        store = get_store()
        store.campaigns.get(campaign_id)
        offset, limit, status = args["offset"], args["limit"], args.get("status")
        items, total = store.proposals.page(campaign_id, status, offset, limit)
        end = offset + len(items)
        query = {"offset": end, "limit": limit, **({"status": status} if status else {})}
        return {
            "items": items,
            "offset": offset,
            "limit": limit,
            "total": total,
            "next": url_for(".Proposals", campaign_id=campaign_id, **query)
            if end < total and items
            else None,
        }

    @blp.arguments(ProposalRequestIn, required=False)
    @blp.response(202, JobOut, example=ex.JOB_EXAMPLE)
    @blp.doc(operationId="requestProposals", responses=ex.links(202, "job_id", "getJob"))
    def post(self, body: dict[str, Any], campaign_id: str) -> tuple[dict, int, dict[str, str]]:
        """Ask the workers for a batch of proposals."""
        store = get_store()
        campaign = store.campaigns.get(campaign_id)
        return accepted(enqueue.request_batch(store, get_tasks(), campaign, body))


@blp.route("/<campaign_id>/proposals/latest")
class LatestProposals(MethodView):
    @blp.arguments(LatestQueryArgs, location="query")
    @blp.response(200, LedgerBatchOut, examples=ex.LATEST_BATCH_EXAMPLES)
    @blp.alt_response(304, description="Unchanged (If-None-Match) after the wait")
    @blp.alt_response(404, description="No batch yet")
    @blp.alt_response(
        429, description="Too many clients wait already (per process): poll after Retry-After"
    )
    @blp.doc(operationId="getLatestProposals")
    def get(self, args: dict[str, Any], campaign_id: str) -> Any:
        """Read the latest batch; with ?wait=S and If-None-Match, wait for a new one."""
        store = get_store()
        store.campaigns.get(campaign_id)
        wait = min(args["wait"], float(current_app.config["KILN_LONG_POLL_MAX_S"]))
        interval = float(current_app.config["KILN_LONG_POLL_INTERVAL_S"])
        seen = request.headers.get("If-None-Match")
        deadline = time.monotonic() + wait

        def look() -> tuple[str | None, str | None, bool]:
            # Two cheap reads per poll; the batch itself is loaded once, when it is sent.
            batch_id, revision = store.proposals.state(campaign_id)
            etag = etag_of(batch_id, revision)
            return batch_id, etag, etag is not None and not etag_matches(seen, etag)

        batch_id, etag, changed = look()
        if not changed and wait > 0:
            # Waiting holds a thread: only a few requests per process may (429 beyond them).
            with longpoll.waiting_slot():
                while not changed and time.monotonic() < deadline:
                    time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
                    batch_id, etag, changed = look()
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
        return store.proposals.batch(campaign_id, batch_id), 200, headers


@blp.route("/<campaign_id>/proposals/<proposal_id>")
class Proposal(MethodView):
    @blp.response(200, LedgerProposalOut)
    @blp.alt_response(409, description="Not pending any more")
    @blp.doc(operationId="withdrawProposal")
    def delete(self, campaign_id: str, proposal_id: str) -> dict[str, Any]:
        """Withdraw a pending proposal."""
        store = get_store()
        store.campaigns.get(campaign_id)
        return store.proposals.withdraw(campaign_id, proposal_id)


@blp.route("/<campaign_id>/model")
class Model(MethodView):
    @blp.response(200, ModelOut)
    @blp.alt_response(404, description="No model fitted yet")
    @blp.doc(operationId="getModel")
    def get(self, campaign_id: str) -> dict[str, Any]:
        """Read the summary of the campaign's latest model (``summary.objectives``: one entry per
        objective of a multi-objective campaign)."""
        _, model = stored_model(campaign_id, with_state=False)
        return {**model, "campaign_id": campaign_id}


def stored_model(
    campaign_id: str, *, with_state: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The campaign and its latest model (with its state unless told), or a 404 problem."""
    store = get_store()
    campaign = store.campaigns.get(campaign_id)
    model = store.models.get(campaign_id, with_state=with_state)
    if model is None:
        raise ApiProblem(
            404,
            "Not Found",
            "no model yet: one is fitted after results are posted",
            kind="no-model",
        )
    return campaign, model


def strategy_of(campaign: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """The campaign's strategy with a request's acquisition settings."""
    from kiln.strategy import Strategy

    return Strategy.from_dict({**campaign["strategy"], **overrides})


def objective_model(
    campaign: dict[str, Any], model: dict[str, Any], args: dict[str, Any], overrides: dict[str, Any]
) -> tuple[Any, Any]:
    """The reader of the objective a request names (numpy/scipy only; imported on first use)
    and the strategy that scores it.

    One objective of several has no acquisition of its own (a batch scores all objectives
    together): its strategy is None, and a request's acquisition settings are a 422.
    """
    from kiln.errors import SpaceError
    from kiln.model.reader import ModelReader

    reader = ModelReader.of_objective(model["state"], args.get("objective"))
    if not domain.is_multiobjective(campaign):
        return reader, strategy_of(campaign, overrides)
    if overrides:
        key = next(iter(overrides))
        raise SpaceError(
            f"one objective of several has no acquisition of its own (batches use "
            f"{campaign['strategy'].get('acquisition')} over all objectives); leave {key} out",
            field=key,
        )
    return reader, None


def versions_of(campaign_id: str, model: dict[str, Any]) -> dict[str, Any]:
    """The ids and versions a model answer carries."""
    keys = ("model_version", "data_version", "space_version")
    return {"campaign_id": campaign_id, **{k: model[k] for k in keys}}


MULTI_OBJECTIVE_NOTE = (
    "A multi-objective campaign answers for the one objective named by `objective` (required; "
    "a 422 names the objectives): its model's mean and std, with acquisition and "
    "acquisition_name null, since its batches score all objectives together (EHVI), not one."
)


@blp.route("/<campaign_id>/predict")
class Predict(MethodView):
    @blp.arguments(PredictIn)
    @blp.response(200, PredictOut)
    @blp.alt_response(404, description="No model fitted yet")
    @blp.doc(
        operationId="postCampaignsCampaignIdPredict",
        description=MULTI_OBJECTIVE_NOTE,
    )
    def post(self, body: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """Predict mean, std and acquisition value at points from the latest model."""
        campaign, model = stored_model(campaign_id)
        overrides = {k: body[k] for k in ("acquisition", "kappa", "xi") if k in body}
        reader, strategy = objective_model(campaign, model, body, overrides)
        return {
            **versions_of(campaign_id, model),
            "objective": reader.objective.name,
            "acquisition": None if strategy is None else strategy.acquisition,
            "unit": reader.objective.unit,
            "predictions": reader.predict(body["points"], strategy),
        }


def _query_value(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # a categorical label


@blp.route("/<campaign_id>/model/slice")
class ModelSlice(MethodView):
    @blp.arguments(SliceArgs, location="query")
    @blp.response(200, SliceOut)
    @blp.alt_response(404, description="No model fitted yet")
    @blp.doc(
        operationId="getCampaignsCampaignIdModelSlice",
        description="Two parameters vary on a grid; fix others with fixed.<name>=value "
        "(default: the best observed sample's values). " + MULTI_OBJECTIVE_NOTE,
    )
    def get(self, args: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """Draw a 2-D slice of the model's mean and acquisition (like the study's Figure 2)."""
        campaign, model = stored_model(campaign_id)
        fixed = {
            key.removeprefix("fixed."): _query_value(value)
            for key, value in request.args.items()
            if key.startswith("fixed.")
        }
        overrides = {"acquisition": args["acquisition"]} if "acquisition" in args else {}
        reader, strategy = objective_model(campaign, model, args, overrides)
        ranges = domain.space_of(campaign)  # current ranges, even before the refit after a PATCH
        sliced = reader.slice(args["x"], args["y"], strategy, fixed, args.get("points"), ranges)
        return {**versions_of(campaign_id, model), **sliced}
