"""What the tasks do, around the pure kiln calls: load from the store, call, store the outcome.

Refits are coalesced and serialised per campaign; batches are keyed by their job id, so a task
that is redelivered after a crash stores nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kiln import task_names
from kiln.errors import KilnError
from kiln.objective import Objective
from kiln.propose import FittedModel, fit_model, propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from store import Store
from store.store import PENDING

log = logging.getLogger(__name__)

#: Refit rounds one task runs while data keeps arriving, before it hands over to a fresh task.
MAX_ROUNDS = 5
#: Seconds between attempts of a refit that found the campaign's lock taken.
LOCK_RETRY_S = 5
#: How long the refit lock lives: longer than any fit, short enough to recover from a crash.
LOCK_TTL_MS = 300_000

Send = Callable[[str, list[Any], str, str | None], Any]


def space_of(campaign: Mapping[str, Any]) -> SearchSpace:
    """The campaign's current search space."""
    return SearchSpace.from_dict(
        {"parameters": campaign["parameters"], "version": campaign.get("space_version", 1)}
    )


def observations_of(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The results a model learns from: successful ones with an objective value."""
    return [
        {"parameters": r["parameters"], "objective": r["objective"], "sample_id": r["sample_id"]}
        for r in results
        if r.get("status", "ok") == "ok" and r.get("objective") is not None
    ]


def seed_of(text: str) -> int:
    """A stable random seed from an id, so a redelivered task makes the same batch."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def fit_and_store(store: Store, campaign: Mapping[str, Any]) -> tuple[int, int | None]:
    """Fit the campaign's model on its whole log; return (data_version, model_version or None)."""
    cid = campaign["id"]
    results = store.all_results(cid)
    observations = observations_of(results)
    space_version = int(campaign.get("space_version", 1))
    current = store.get_model(cid)
    if current and (current["data_version"], current["space_version"]) == (
        len(results),
        space_version,
    ):
        return len(results), current["model_version"]  # already fitted on exactly this data
    if not observations:
        return len(results), None
    objective = Objective.from_dict(campaign["objective"])
    try:
        model = fit_model(space_of(campaign), objective, observations, random_state=0)
    except KilnError as exc:  # no usable data, a fit failure, data the current space rejects
        log.warning("campaign %s: no model at data_version %d: %s", cid, len(results), exc)
        return len(results), None
    version = store.save_model(
        cid,
        model.to_dict(),
        model.summary(),
        data_version=len(results),
        space_version=space_version,
    )
    return len(results), version


def refit_campaign(store: Store, campaign_id: str, send: Send) -> dict[str, Any]:
    """Refit under the campaign's lock until the model has seen the whole log; maybe auto-batch."""
    token = store.acquire_refit_lock(campaign_id, LOCK_TTL_MS)
    if token is None:
        # Still queued (the flag stays set): this task retries, and a holder that died with the
        # lock loses it when it expires. A live holder re-checks the log as it releases.
        return {"campaign_id": campaign_id, "skipped": "another refit holds the lock"}
    # Results stored from here on queue another refit: this one may have read the log already.
    store.clear_refit_queued(campaign_id)
    rounds, data_version, model_version = 0, 0, None
    try:
        while rounds < MAX_ROUNDS:
            campaign = store.get_campaign(campaign_id)
            data_version, fitted = fit_and_store(store, campaign)
            model_version = fitted if fitted is not None else model_version
            rounds += 1
            if store.data_version(campaign_id) == data_version:
                break
    finally:
        store.release_refit_lock(campaign_id, token)
    if store.data_version(campaign_id) > data_version and store.mark_refit_queued(campaign_id):
        send(task_names.REFIT, [campaign_id], task_names.PROPOSALS_QUEUE, None)
    auto_job = maybe_auto_batch(store, store.get_campaign(campaign_id), send)
    return {
        "campaign_id": campaign_id,
        "rounds": rounds,
        "data_version": data_version,
        "model_version": model_version,
        "auto_batch_job": auto_job,
    }


def maybe_auto_batch(store: Store, campaign: Mapping[str, Any], send: Send) -> str | None:
    """With auto_batch on, start one batch when the latest is fully measured (or none exists).

    The job id is derived from the state it answers, so a repeated refit never starts two.
    """
    if not campaign.get("strategy", {}).get("auto_batch", True):
        return None
    cid = campaign["id"]
    latest = store.latest_batch(cid)
    if latest is None:
        if store.data_version(cid) == 0:
            return None
        job_id = f"auto-{cid}-first"
    elif any(p["status"] == PENDING for p in latest["proposals"]):
        return None
    else:
        job_id = f"auto-{cid}-after-{latest['batch_id']}"
    job, created = store.create_job(
        "proposals", cid, {"overrides": {}, "auto": True}, job_id=job_id
    )
    if not created:
        return None
    send(task_names.PROPOSE, [job["id"]], task_names.PROPOSALS_QUEUE, job["id"])
    return job["id"]


def propose_for_job(store: Store, job_id: str) -> dict[str, Any]:
    """Compute and store the batch a job asks for; the batch id is the job id."""
    job = store.get_job(job_id)
    if job["state"] == "done" and job["result"]:
        return job["result"]
    store.job_running(job_id)
    cid = job["campaign_id"]
    campaign = store.get_campaign(cid)
    strategy = Strategy.from_dict({**campaign["strategy"], **job["params"].get("overrides", {})})
    results = store.all_results(cid)
    space_version = int(campaign.get("space_version", 1))
    stored_model = store.get_model(cid, with_state=True)
    model = None
    if (
        stored_model is not None
        and stored_model["data_version"] == len(results)
        and stored_model["space_version"] == space_version
    ):
        model = FittedModel.from_dict(stored_model["state"])
    batch = propose(
        space_of(campaign),
        Objective.from_dict(campaign["objective"]),
        observations_of(results),
        [p["parameters"] for p in store.pending_proposals(cid)],
        strategy,
        model=model,
        random_state=seed_of(job_id),
    )
    versions = {
        "model_version": stored_model["model_version"] if model is not None else None,
        "data_version": len(results),
        "space_version": space_version,
    }
    header = {
        **versions,
        "job_id": job_id,
        "acquisition": strategy.acquisition,
        "batch_method": strategy.batch_method,
        "exhausted": bool(batch.exhausted),
        "fallback": batch.fallback,
        "proposal_ttl_s": strategy.proposal_ttl_s,
    }
    proposals = [
        {
            "parameters": p.parameters,
            "predicted_mean": _number(p.predicted_mean),
            "predicted_std": _number(p.predicted_std),
            "acquisition_value": _number(p.acquisition_value),
            **versions,
        }
        for p in batch.proposals
    ]
    stored, _ = store.store_batch(cid, job_id, header, proposals)
    store.job_done(job_id, stored)
    return stored


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
