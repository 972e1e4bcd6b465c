"""What the tasks do, around the pure kiln calls: load from the store, call, store the outcome.

Refits are coalesced and serialised per campaign; batches are keyed by their job id, so a task
that is redelivered after a crash stores nothing twice. Locks name the worker that holds them
(`owner`), so a dead worker's locks can be released at once (see `worker.recovery`).

Data the model cannot learn from (identical targets, values off by hundreds of decades) never
wedges a campaign: the failed refit is recorded with its reason, batches fall back to a
space-filling design that says why, and a failed automatic batch is tried again on new data.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from kiln import task_names
from kiln.errors import KilnError, NoObservationsError
from kiln.feasibility import FeasibilityModel, fit_feasibility
from kiln.ledger import data_hash, provenance
from kiln.objective import Objective
from kiln.pool import CandidatePool
from kiln.propose import FittedModel, fit_model, propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln.training import DEFAULT_LIMIT, select_training_set
from store import PENDING, Store

log = logging.getLogger(__name__)

#: Refit rounds one task runs while data keeps arriving, before it hands over to a fresh task.
MAX_ROUNDS = 5
#: Seconds between attempts of a refit that found the campaign's lock taken.
LOCK_RETRY_S = 5
#: Seconds between attempts of a batch that found the campaign's batch lock taken.
PROPOSE_RETRY_S = 1
#: How long the batch lock lives: longer than a batch takes, short enough to outlive a crash.
PROPOSE_LOCK_TTL_MS = 120_000
#: How long the refit lock lives: longer than any fit, short enough to recover from a crash.
LOCK_TTL_MS = 300_000

Send = Callable[[str, list[Any], str, str | None], Any]

#: Numerical failures of a fit or a batch that are not domain errors (overflow, a singular
#: matrix, a NaN scikit-learn refuses, a number JSON cannot hold): treated as a failed model.
NUMERIC_FAILURES = (ValueError, ArithmeticError, np.linalg.LinAlgError)

#: A refit starts from the stored model's hyperparameters while that model has seen at least this
#: share of the results (same space); otherwise (the first model, a new space, a large import) it
#: fits cold with restarts. bench/loop.py: the cold fit took most of a loop, 6.7 s at n = 380
#: against 0.6 s warm.
WARM_START_SHARE = 0.8
#: A warm refit also runs the optimiser from EXPLORE_RESTARTS seeded random points (new ones each
#: time) and keeps the best optimum, whenever the results grew by this share since the last refit
#: that did (or the last cold fit). A warm start alone stays in an earlier fit's optimum: on the
#: mixed problem of issue 12 it ended 3-169 log-likelihood units below a cold fit with restarts,
#: one-hot length scales stuck at a bound; with the restarts it reached the cold fit's optimum at
#: n = 50, 200 and 500 (README, make bench-refit). Rare at large n (every 10 %), so most refits
#: cost a warm start only.
EXPLORE_GROWTH = 0.1
#: Random restarts of an exploring warm refit. One was not enough: on the test's mixed problem the
#: refits stayed 1.3-7 log-likelihood units below the cold fit in 6 of 8 seeds; with two they
#: matched it (or beat it) in all 8.
EXPLORE_RESTARTS = 2


def training_limit() -> int:
    """Observations one fit trains on at most (KILN_MAX_TRAINING_POINTS, see kiln.training)."""
    return int(os.environ.get("KILN_MAX_TRAINING_POINTS", DEFAULT_LIMIT))


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
    current = store.get_model(cid, with_state=True)
    if current and (current["data_version"], current["space_version"]) == (
        len(results),
        space_version,
    ):
        return len(results), current["model_version"]  # already fitted on exactly this data
    if not observations:
        return len(results), None
    objective = Objective.from_dict(campaign["objective"])
    try:
        start = warm_start_of(current, space_version, len(results))
        explored_at = (
            int(current["state"].get("explored_at", 0)) if start is not None and current else 0
        )
        explore = start is None or len(results) >= (1 + EXPLORE_GROWTH) * explored_at
        training = select_training_set(
            observations, objective, limit=training_limit(), seed=seed_of(f"{cid}:{len(results)}")
        )
        model = fit(space_of(campaign), objective, training.observations, start, explore=explore)
        state, summary = model.to_dict(), model.summary()
        state["explored_at"] = len(results) if explore else explored_at
        summary["training"] = training.summary()
        feasibility = fit_feasibility(model.space, results)
        state["feasibility"] = feasibility.to_dict() if feasibility is not None else None
        summary["feasibility"] = feasibility.summary() if feasibility is not None else None
        summary["data_sha256"] = data_hash(results)
        version = store.save_model(
            cid,
            state,
            summary,
            data_version=len(results),
            space_version=space_version,
        )
    except NoObservationsError:
        return len(results), None
    except (KilnError, *NUMERIC_FAILURES) as exc:  # a fit failure, data the space rejects
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("campaign %s: no model at data_version %d: %s", cid, len(results), reason)
        store.record_model_failure(
            cid, data_version=len(results), space_version=space_version, reason=reason
        )
        return len(results), None
    store.clear_model_failure(cid)
    return len(results), version


def warm_start_of(
    stored: Mapping[str, Any] | None, space_version: int, n_results: int
) -> FittedModel | None:
    """The stored model to warm-start a refit from, or None for a cold fit."""
    if (
        stored is None
        or stored["space_version"] != space_version
        or stored["data_version"] < WARM_START_SHARE * n_results
    ):
        return None
    try:
        return FittedModel.from_dict(stored["state"])
    except (KilnError, *NUMERIC_FAILURES, KeyError, TypeError) as exc:
        log.warning("stored model unreadable, fitting cold: %s", exc)
        return None


def fit(
    space: SearchSpace,
    objective: Objective,
    observations: Sequence[Mapping[str, Any]],
    start: FittedModel | None,
    *,
    explore: bool = True,
) -> FittedModel:
    """Fit warm from `start` if given, else (or if that fails) cold with restarts.

    A warm fit runs the optimiser from `start`'s hyperparameters and, with `explore`, also from
    EXPLORE_RESTARTS random points seeded by the number of observations (new ones at each
    refit), keeping the best optimum: a warm start alone can stay in an optimum the data has left
    (see EXPLORE_GROWTH).
    """
    if start is not None:
        try:
            return fit_model(
                space,
                objective,
                observations,
                random_state=len(observations),
                warm_start=start,
                n_restarts=EXPLORE_RESTARTS if explore else 0,
            )
        except (KilnError, *NUMERIC_FAILURES) as exc:
            log.info("warm-started fit failed (%s: %s); fitting cold", type(exc).__name__, exc)
    return fit_model(space, objective, observations, random_state=0)


def refit_campaign(store: Store, campaign_id: str, send: Send, owner: str = "") -> dict[str, Any]:
    """Refit under the campaign's lock until the model has seen the whole log; maybe auto-batch.

    `owner` names the worker running this (it holds the lock), "" when unknown.
    """
    token = store.acquire_refit_lock(campaign_id, LOCK_TTL_MS, owner=owner)
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

    The job id is derived from the state it answers, so a repeated refit never starts two. A
    job of that id that failed is sent again: new data may well let it succeed now.
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
        # Hashed, not nested: ids stay short however many batches follow one another.
        previous = hashlib.sha256(latest["batch_id"].encode()).hexdigest()[:16]
        job_id = f"auto-{cid}-after-{previous}"
    job, created = store.create_job(
        "proposals", cid, {"overrides": {}, "auto": True}, job_id=job_id
    )
    if not created and not store.requeue_job(job_id):
        return None
    send(task_names.PROPOSE, [job["id"]], task_names.PROPOSALS_QUEUE, job["id"])
    return job["id"]


def propose_for_job(store: Store, job_id: str, owner: str = "") -> dict[str, Any]:
    """Compute and store the batch a job asks for; the batch id is the job id.

    Batches of one campaign are made one at a time (a lock), so each sees the proposals of the
    one before as pending and proposes other experiments. Returns ``{"skipped": ...}`` when
    another batch of the campaign is being made (the task retries shortly). `owner` names the
    worker running this, "" when unknown.
    """
    job = store.get_job(job_id)
    if job["state"] == "done" and job["result"]:
        return job["result"]
    cid = job["campaign_id"]
    token = store.acquire_propose_lock(cid, PROPOSE_LOCK_TTL_MS, owner=owner)
    if token is None:
        return {"job_id": job_id, "skipped": "another batch of this campaign is being made"}
    try:
        store.job_running(job_id, owner)
        return _propose(store, job_id, job, cid)
    finally:
        store.release_propose_lock(cid, token)


def _propose(store: Store, job_id: str, job: Mapping[str, Any], cid: str) -> dict[str, Any]:
    campaign = store.get_campaign(cid)
    strategy = Strategy.from_dict({**campaign["strategy"], **job["params"].get("overrides", {})})
    results = store.all_results(cid)
    space = space_of(campaign)
    space_version = int(campaign.get("space_version", 1))
    stored_model = store.get_model(cid, with_state=True)
    model = None
    feasibility = None
    fallback = None
    if (
        stored_model is not None
        and stored_model["data_version"] == len(results)
        and stored_model["space_version"] == space_version
    ):
        model = FittedModel.from_dict(stored_model["state"])
        feasibility = feasibility_of(stored_model["state"])
    else:
        failure = store.model_failure(cid)
        if failure and (failure["data_version"], failure["space_version"]) == (
            len(results),
            space_version,
        ):
            # The refit on exactly this data failed: no second failed fit, say why instead.
            fallback = f"space_filling: model fit failed ({failure['reason']})"
        else:
            feasibility = fit_feasibility(space, results)
    pool = pool_of(store, cid, space) if store.has_candidates(cid) else None
    if pool is None:
        pending: list[dict[str, Any]] = [p["parameters"] for p in store.pending_proposals(cid)]
        observations = observations_of(results)
    else:
        # Rows by index: a proposal's own `candidate`, a result's via its proposal or an exact
        # match of its values (store.candidate_ids); failed syntheses close their rows too.
        pending = [
            {"parameters": p["parameters"], "candidate": p.get("candidate")}
            for p in store.pending_proposals(cid)
        ]
        observations = pool_observations(results, store.candidate_ids(cid, campaign, results))
    objective = Objective.from_dict(campaign["objective"])

    def make(reason: str | None) -> Any:
        return propose(
            space,
            objective,
            observations,
            pending,
            strategy,
            model=model,
            random_state=seed_of(job_id),
            feasibility=feasibility,
            fallback=reason,
            pool=pool,
        )

    try:
        batch = make(fallback)
    except KilnError:
        raise  # bad data or settings: the job fails with the domain's reason
    except NUMERIC_FAILURES as exc:
        log.warning("job %s: the model could not make a batch, space filling: %s", job_id, exc)
        batch = make(f"space_filling: the model could not make a batch ({exc})")
    used_stored = model is not None and batch.model is model
    versions = {
        "model_version": stored_model["model_version"] if used_stored and stored_model else None,
        "data_version": len(results),
        "space_version": space_version,
    }
    summary = None
    if batch.model is not None:
        summary = stored_model["summary"] if used_stored and stored_model else batch.model.summary()
    origin = provenance(
        **versions,
        data_sha256=data_hash(results),
        strategy=strategy.to_dict(),
        model_summary=summary,
        fallback=batch.fallback,
        feasibility=feasibility.summary() if feasibility is not None and batch.model else None,
    )
    header = {
        **versions,
        "job_id": job_id,
        "acquisition": strategy.acquisition,
        "batch_method": strategy.batch_method,
        "exhausted": bool(batch.exhausted),
        "fallback": batch.fallback,
        "proposal_ttl_s": strategy.proposal_ttl_s,
        "provenance": origin,
    }
    proposals = [
        {
            "parameters": p.parameters,
            "predicted_mean": _number(p.predicted_mean),
            "predicted_std": _number(p.predicted_std),
            "acquisition_value": _number(p.acquisition_value),
            **({"candidate": p.candidate} if p.candidate is not None else {}),
            **versions,
            "provenance": origin,
        }
        for p in batch.proposals
    ]
    # One transaction: a reader never sees the batch while its job still says running.
    stored, _ = store.store_batch(cid, job_id, header, proposals, job_id=job_id)
    return stored


#: Pools decoded and encoded by this worker process, by campaign: (space version, pool). A pool
#: of 10^5 rows takes ~0.3-1 s to read and encode and ~60 MB to hold; it changes only with a new
#: space version.
_POOLS: dict[str, tuple[int, CandidatePool]] = {}
_MAX_POOLS = 4


def pool_of(store: Store, cid: str, space: SearchSpace) -> CandidatePool:
    """The campaign's candidate pool (cached per space version), encoded in ``space``."""
    hit = _POOLS.get(cid)
    if hit is not None and hit[0] == space.version and hit[1].space == space:
        return hit[1]
    snapshot = store.candidate_pool(cid)
    pool = CandidatePool(space, snapshot.rows, removed=snapshot.removed)
    if snapshot.space_version == space.version:  # else the pool changed meanwhile: no caching
        if len(_POOLS) >= _MAX_POOLS:
            _POOLS.pop(next(iter(_POOLS)))
        _POOLS[cid] = (space.version, pool)
    return pool


def pool_observations(
    results: Sequence[Mapping[str, Any]], rows: Sequence[int | None]
) -> list[dict[str, Any]]:
    """Results as observations for a pool campaign: each with its ``candidate`` row (if any),
    failed syntheses included (``status: failed``: they train nothing but close their row)."""
    out: list[dict[str, Any]] = []
    for r, row in zip(results, rows, strict=True):
        failed = r.get("status", "ok") != "ok" or r.get("objective") is None
        obs: dict[str, Any] = {"parameters": r["parameters"], "sample_id": r["sample_id"]}
        if failed:
            obs["status"] = "failed"
        else:
            obs["objective"] = r["objective"]
        if row is not None:
            obs["candidate"] = row
        out.append(obs)
    return out


def feasibility_of(state: Mapping[str, Any]) -> FeasibilityModel | None:
    """The feasibility classifier stored with a model, if any."""
    payload = state.get("feasibility")
    return FeasibilityModel.from_dict(payload) if payload else None


def _number(value: Any) -> float | None:
    # NaN or infinity (beyond float64 in the objective's unit) is reported as unknown.
    return None if value is None or not math.isfinite(float(value)) else float(value)
