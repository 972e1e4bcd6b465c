"""Refits, around the pure kiln calls: load the campaign's log, fit, store the model, maybe start a batch.

Refits are coalesced and serialised per campaign; locks name the worker that holds them (`owner`),
so a dead worker's locks can be released at once (see `worker.recovery`). Data the model cannot
learn from (identical targets, values off by hundreds of decades) never wedges a campaign: the
failed refit is recorded with its reason, and a failed automatic batch is tried again on new data.
The helpers `observations_of` and `seed_of` serve `batches` too; a campaign's space and objective
come from `kiln.campaign`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from kiln.campaign import is_multiobjective, objective_of, space_of
from kiln.errors import KilnError, NoObservationsError
from kiln.feasibility import fit_feasibility
from kiln.ledger import data_hash
from kiln.measurement_error import OBJECTIVE_SD
from kiln.model.fitted import FittedModel, fit_model
from kiln.objective import Objective
from kiln.space import SearchSpace
from kiln.training import DEFAULT_LIMIT, select_training_set
from kiln_services import task_names
from kiln_services.store import PENDING, Store
from kiln_services.store.jobs import PROPOSALS_JOB
from kiln_services.worker import pareto

log = logging.getLogger(__name__)

#: Refit rounds one task runs while data keeps arriving, before it hands over to a fresh task.
MAX_ROUNDS = 5
#: Seconds between attempts of a refit that found the campaign's lock taken.
LOCK_RETRY_S = 5
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


#: Up to this many training points every refit also fits cold with restarts (as kiln.propose does)
#: and keeps whichever of the warm and the cold fit has the better log marginal likelihood, so the
#: service's model is never worse than the library's where a cold fit is cheap (about 0.3-1 s at
#: n = 150 on two busy cores). On Hartmann-6 (6-D, bench-quality) warm refits with two restarts
#: stayed 3-16 log-likelihood units below the cold fit at n = 20-48 and found worse optima.
COLD_REFIT_MAX_POINTS = 150


def observations_of(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The results a model learns from: successful ones with an objective value (and its
    ``objective_sd`` when the result states one)."""
    return [
        {
            "parameters": r["parameters"],
            "objective": r["objective"],
            "sample_id": r["sample_id"],
            **({OBJECTIVE_SD: r[OBJECTIVE_SD]} if r.get(OBJECTIVE_SD) is not None else {}),
        }
        for r in results
        if r.get("status", "ok") == "ok" and r.get("objective") is not None
    ]


def seed_of(text: str) -> int:
    """A stable random seed from an id, so a redelivered task makes the same batch."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def training_seed(campaign_id: str, data_version: int) -> int:
    """The seed of the training subset at a data version: a refit and a batch of the same data
    choose the same subset, so the batch reuses the refit's model."""
    return seed_of(f"{campaign_id}:{data_version}")


def fit_and_store(
    store: Store, campaign: Mapping[str, Any], training_limit: int = DEFAULT_LIMIT
) -> tuple[int, int | None]:
    """Fit the campaign's model on its current results; return (data_version, model_version or None).

    The current results are the log with its corrections applied, excluded ones left out.
    `training_limit` caps the observations one fit trains on (KILN_MAX_TRAINING_POINTS, see
    kiln.training and worker.settings). A multi-objective campaign fits one model per objective
    (`worker.pareto`, on at most `training_limit` results too), stored the same way.
    """
    cid = campaign["id"]
    results, data_version, corrections = store.results.training_view(cid)
    several = is_multiobjective(campaign)
    observations = pareto.observations_of(results) if several else observations_of(results)
    space_version = int(campaign.get("space_version", 1))
    current = store.models.get(cid, with_state=True)
    if (
        current
        and (current["data_version"], current["space_version"]) == (data_version, space_version)
        and (not several or pareto.same_constraints(current["state"], campaign))
    ):
        return data_version, current["model_version"]  # already fitted on exactly this data
    if not observations:
        return data_version, None
    try:
        if several:
            start = warm_start_of(
                current, space_version, data_version, corrections, load=pareto.load_models
            )
            state, summary = pareto.fit(
                campaign,
                observations,
                start,
                warm_restarts=EXPLORE_RESTARTS,
                training_limit=training_limit,
                training_seed=training_seed(cid, data_version),
            )
        else:
            state, summary = _fit_one(
                campaign, observations, current, (data_version, corrections), training_limit
            )
        state["corrections"] = corrections
        feasibility = fit_feasibility(space_of(campaign), results)
        state["feasibility"] = feasibility.to_dict() if feasibility is not None else None
        summary["feasibility"] = feasibility.summary() if feasibility is not None else None
        summary["data_sha256"] = data_hash(results)
        version = store.models.save(
            cid, state, summary, data_version=data_version, space_version=space_version
        )
    except NoObservationsError:
        return data_version, None
    except (KilnError, *NUMERIC_FAILURES) as exc:  # a fit failure, data the space rejects
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("campaign %s: no model at data_version %d: %s", cid, data_version, reason)
        store.models.record_failure(
            cid, data_version=data_version, space_version=space_version, reason=reason
        )
        return data_version, None
    return data_version, version


def _fit_one(
    campaign: Mapping[str, Any],
    observations: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any] | None,
    versions: tuple[int, int],
    training_limit: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A single objective's fit (warm or cold, on the training set); its (state, summary).

    `versions` are the results' (data_version, corrections).
    """
    data_version, corrections = versions
    space_version = int(campaign.get("space_version", 1))
    objective = objective_of(campaign)
    start = warm_start_of(current, space_version, data_version, corrections)
    explored_at = (
        int(current["state"].get("explored_at", 0)) if start is not None and current else 0
    )
    explore = start is None or data_version >= (1 + EXPLORE_GROWTH) * explored_at
    training = select_training_set(
        observations,
        objective,
        limit=training_limit,
        seed=training_seed(campaign["id"], data_version),
    )
    model = fit(space_of(campaign), objective, training.observations, start, explore=explore)
    state, summary = model.to_dict(), model.summary()
    state["explored_at"] = data_version if explore else explored_at
    summary["training"] = training.summary()
    return state, summary


def warm_start_of(
    stored: Mapping[str, Any] | None,
    space_version: int,
    data_version: int,
    corrections: int = 0,
    *,
    load: Callable[[Mapping[str, Any]], Any] = FittedModel.from_dict,
) -> Any:
    """The stored model to warm-start a refit from, or None for a cold fit.

    A correction since the stored model changed data it learnt from: the refit fits cold, as a
    new campaign of the corrected data would (the same model; issue 15 item 2). `load` rebuilds
    the stored state (FittedModel.from_dict; pareto.load_models for several objectives).

    Returns:
        What `load` made of the stored state, or None for a cold fit.
    """
    if (
        stored is None
        or stored["space_version"] != space_version
        or stored["data_version"] < WARM_START_SHARE * data_version
        or int(stored.get("state", {}).get("corrections", 0)) != corrections
    ):
        return None
    try:
        return load(stored["state"])
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

    Up to COLD_REFIT_MAX_POINTS observations a refit fits both ways, warm from `start` and cold
    with restarts, and keeps the better log marginal likelihood. Beyond that a warm fit runs the
    optimiser from `start`'s hyperparameters and, with `explore`, also from EXPLORE_RESTARTS
    random points seeded by the number of observations (new ones at each refit), keeping the best
    optimum: a warm start alone can stay in an optimum the data has left (see EXPLORE_GROWTH).
    """
    small = len(observations) <= COLD_REFIT_MAX_POINTS
    warm: FittedModel | None = None
    if start is not None:
        try:
            warm = fit_model(
                space,
                objective,
                observations,
                random_state=len(observations),
                warm_start=start,
                n_restarts=EXPLORE_RESTARTS if explore and not small else 0,
            )
        except (KilnError, *NUMERIC_FAILURES) as exc:
            log.info("warm-started fit failed (%s: %s); fitting cold", type(exc).__name__, exc)
        if warm is not None and not small:
            return warm
    try:
        cold = fit_model(space, objective, observations, random_state=0)
    except (KilnError, *NUMERIC_FAILURES):
        if warm is None:
            raise
        return warm
    if warm is not None and (
        warm.surrogate.log_marginal_likelihood_ > cold.surrogate.log_marginal_likelihood_
    ):
        return warm
    return cold


def refit_campaign(
    store: Store,
    campaign_id: str,
    send: Send,
    owner: str = "",
    training_limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Refit under the campaign's lock until the model has seen the whole log; maybe auto-batch.

    `owner` names the worker running this (it holds the lock), "" when unknown;
    `training_limit` is passed on to `fit_and_store`.
    """
    token = store.locks.acquire_refit(campaign_id, LOCK_TTL_MS, owner=owner)
    if token is None:
        # Still queued (the flag stays set): this task retries, and a holder that died with the
        # lock loses it when it expires. A live holder re-checks the log as it releases.
        return {"campaign_id": campaign_id, "skipped": "another refit holds the lock"}
    # Results stored from here on queue another refit: this one may have read the log already.
    store.locks.clear_refit_queued(campaign_id)
    rounds, data_version, model_version = 0, 0, None
    try:
        while rounds < MAX_ROUNDS:
            campaign = store.campaigns.get(campaign_id)
            data_version, fitted = fit_and_store(store, campaign, training_limit)
            model_version = fitted if fitted is not None else model_version
            rounds += 1
            if store.results.data_version(campaign_id) == data_version:
                break
    finally:
        store.locks.release_refit(campaign_id, token)
    if store.results.data_version(campaign_id) > data_version and store.locks.mark_refit_queued(
        campaign_id
    ):
        send(task_names.REFIT, [campaign_id], task_names.PROPOSALS_QUEUE, None)
    auto_job = maybe_auto_batch(store, store.campaigns.get(campaign_id), send)
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
    latest = store.proposals.latest_batch(cid)
    if latest is None:
        if store.results.data_version(cid) == 0:
            return None
        job_id = f"auto-{cid}-first"
    elif any(p["status"] == PENDING for p in latest["proposals"]):
        return None
    else:
        # Hashed, not nested: ids stay short however many batches follow one another.
        previous = hashlib.sha256(latest["batch_id"].encode()).hexdigest()[:16]
        job_id = f"auto-{cid}-after-{previous}"
    job, created = store.jobs.create(
        PROPOSALS_JOB, cid, {"overrides": {}, "auto": True}, job_id=job_id
    )
    if not created and not store.jobs.requeue(job_id):
        return None
    send(task_names.PROPOSE, [job["id"]], task_names.PROPOSALS_QUEUE, job["id"])
    return job["id"]
