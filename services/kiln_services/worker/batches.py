"""Batches, around the pure kiln calls: load the campaign, its model and pool, propose, store.

Batches are keyed by their job id, so a task that is redelivered after a crash stores nothing
twice; batches of one campaign are made one at a time under a lock that names its worker
(`owner`, see `worker.recovery`). When the model cannot make a batch, a space-filling design that
says why is stored instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kiln.campaign import is_multiobjective, objective_of, space_of
from kiln.errors import KilnError
from kiln.feasibility import FeasibilityModel, fit_feasibility
from kiln.ledger import data_hash, provenance
from kiln.model.fitted import FittedModel
from kiln.pool import CandidatePool
from kiln.propose import Proposal, propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln.training import DEFAULT_LIMIT
from kiln_services.store import Store
from kiln_services.worker import pareto
from kiln_services.worker.refits import (
    NUMERIC_FAILURES,
    observations_of,
    seed_of,
    training_seed,
)

log = logging.getLogger(__name__)

#: Seconds between attempts of a batch that found the campaign's batch lock taken.
PROPOSE_RETRY_S = 1
#: How long the batch lock lives: longer than a batch takes, short enough to outlive a crash.
PROPOSE_LOCK_TTL_MS = 120_000


def propose_for_job(
    store: Store, job_id: str, owner: str = "", training_limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Compute and store the batch a job asks for; the batch id is the job id.

    Batches of one campaign are made one at a time (a lock), so each sees the proposals of the
    one before as pending and proposes other experiments. Returns ``{"skipped": ...}`` when
    another batch of the campaign is being made (the task retries shortly). `owner` names the
    worker running this, "" when unknown; `training_limit` (KILN_MAX_TRAINING_POINTS) bounds
    what the batch's model (or models) train on, as the refit's did: with the refit's seed it
    chooses the same subset, so it reuses the stored model instead of refitting on every result.
    """
    job = store.jobs.get(job_id)
    if job["state"] == "done" and job["result"]:
        return job["result"]
    cid = job["campaign_id"]
    token = store.locks.acquire_propose(cid, PROPOSE_LOCK_TTL_MS, owner=owner)
    if token is None:
        return {"job_id": job_id, "skipped": "another batch of this campaign is being made"}
    try:
        store.jobs.running(job_id, owner)
        return _propose(store, job_id, job, cid, training_limit)
    finally:
        store.locks.release_propose(cid, token)


def _propose(
    store: Store, job_id: str, job: Mapping[str, Any], cid: str, training_limit: int
) -> dict[str, Any]:
    campaign = store.campaigns.get(cid)
    strategy = Strategy.from_dict({**campaign["strategy"], **job["params"].get("overrides", {})})
    results, data_version, _ = store.results.training_view(cid)  # current, none excluded
    space = space_of(campaign)
    space_version = int(campaign.get("space_version", 1))
    several = is_multiobjective(campaign)  # several objectives: worker.pareto's calls
    stored_model, model, feasibility, fallback = _model_for(
        store,
        cid,
        space,
        (data_version, space_version),
        results,
        load=pareto.load_models if several else FittedModel.from_dict,
    )
    pool, pending, observations = _pool_and_points(store, cid, campaign, space, results, several)
    # One objective with outcome constraints: their probability joins the feasibility.
    constrained = None
    if not several and fallback is None:
        constrained = pareto.outcome_feasibility_of(
            campaign, space, results, feasibility, seed_of(job_id)
        )

    def make(reason: str | None) -> Any:
        common = {
            "random_state": seed_of(job_id),
            "fallback": reason,
            "pool": pool,
            "training_limit": training_limit,
            "training_seed": training_seed(cid, data_version),
        }
        if several:
            return pareto.propose_batch(
                campaign, observations, pending, strategy, models=model,
                feasibility=feasibility, **common,
            )  # fmt: skip
        return propose(
            space, objective_of(campaign), observations, pending, strategy, model=model,
            feasibility=constrained or feasibility, **common,
        )  # fmt: skip

    try:
        batch = make(fallback)
    except KilnError:
        raise  # bad data or settings: the job fails with the domain's reason
    except NUMERIC_FAILURES as exc:
        log.warning("job %s: the model could not make a batch, space filling: %s", job_id, exc)
        batch = make(f"space_filling: the model could not make a batch ({exc})")
    fitted = batch.models if several else batch.model
    used_stored = model is not None and fitted is model
    versions = {
        "model_version": stored_model["model_version"] if used_stored and stored_model else None,
        "data_version": data_version,
        "space_version": space_version,
    }
    summary = None
    if fitted is not None:
        summary = stored_model["summary"] if used_stored and stored_model else fitted.summary()
    origin = provenance(
        **versions,
        data_sha256=data_hash(results),
        strategy=strategy.to_dict(),
        model_summary=summary,
        fallback=batch.fallback,
        feasibility=feasibility.summary() if feasibility is not None and fitted else None,
    )
    if several:
        origin.update(pareto.model_provenance(summary))
    elif constrained is not None and fitted is not None:
        origin["outcome_constraints"] = constrained.models.summary()["outcome_constraints"]
    return _save(store, cid, job_id, strategy, batch, versions, origin, several)


def _save(
    store: Store,
    cid: str,
    job_id: str,
    strategy: Strategy,
    batch: Any,
    versions: Mapping[str, Any],
    origin: Mapping[str, Any],
    several: bool,
) -> dict[str, Any]:
    """Store the batch and its proposals (each objective's predictions with `several`)."""
    predictions = pareto.prediction_fields if several else _prediction_fields
    header, proposals = _records(job_id, strategy, batch, versions, origin, predictions)
    if several:
        header["reference_point"] = dict(batch.reference_point or {}) or None
    # One transaction: a reader never sees the batch while its job still says running.
    stored, _ = store.proposals.save_batch(cid, job_id, header, proposals, job_id=job_id)
    return stored


def _model_for(
    store: Store,
    cid: str,
    space: SearchSpace,
    versions: tuple[int, int],
    results: Sequence[Mapping[str, Any]],
    *,
    load: Callable[[Mapping[str, Any]], Any] = FittedModel.from_dict,
) -> tuple[dict[str, Any] | None, Any, FeasibilityModel | None, str | None]:
    """``(stored model, the model rebuilt by `load`, feasibility, fallback)``: the stored model
    when it was fitted on exactly these results and space (`versions`: data_version,
    space_version), else why a batch space-fills (a refit on this data failed), else nothing
    (propose fits). `load` is FittedModel.from_dict, or pareto.load_models for several
    objectives."""
    stored_model = store.models.get(cid, with_state=True)
    model = None
    feasibility = None
    fallback = None
    if (
        stored_model is not None
        and (
            stored_model["data_version"],
            stored_model["space_version"],
        )
        == versions
    ):
        model = load(stored_model["state"])
        feasibility = feasibility_of(stored_model["state"])
    else:
        failure = store.models.failure(cid)
        if failure and (failure["data_version"], failure["space_version"]) == versions:
            # The refit on exactly this data failed: no second failed fit, say why instead.
            fallback = f"space_filling: model fit failed ({failure['reason']})"
        else:
            feasibility = fit_feasibility(space, results)
    return stored_model, model, feasibility, fallback


def _pool_and_points(
    store: Store,
    cid: str,
    campaign: Mapping[str, Any],
    space: SearchSpace,
    results: Sequence[Mapping[str, Any]],
    several: bool = False,
) -> tuple[CandidatePool | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """``(pool or None, pending points, observations)`` as :func:`kiln.propose.propose` takes them
    (as propose_pareto takes them with `several` objectives)."""
    pool = pool_of(store, cid, space) if store.candidates.exist(cid) else None
    if pool is None:
        pending: list[dict[str, Any]] = [p["parameters"] for p in store.proposals.pending(cid)]
        observations = pareto.observations_of(results) if several else observations_of(results)
    else:
        # Rows by index: a proposal's own `candidate`, a result's via its proposal or an exact
        # match of its values (store.candidates.rows_of); failed syntheses close their rows too.
        pending = [
            {"parameters": p["parameters"], "candidate": p.get("candidate")}
            for p in store.proposals.pending(cid)
        ]
        rows = store.candidates.rows_of(cid, campaign, results)
        observe = pareto.pool_observation if several else _pool_observation
        observations = pool_observations(results, rows, observe)
    return pool, pending, observations


def _records(
    job_id: str,
    strategy: Strategy,
    batch: Any,
    versions: Mapping[str, Any],
    origin: Mapping[str, Any],
    predictions: Callable[[Any], dict[str, Any]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The batch's header and its proposals as the store keeps them; `predictions` gives a
    proposal's prediction fields (one objective's mean and std, or each objective's)."""
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
            **predictions(p),
            **({"candidate": p.candidate} if p.candidate is not None else {}),
            **({"group": p.group} if p.group is not None else {}),
            **versions,
            "provenance": origin,
        }
        for p in batch.proposals
    ]
    return header, proposals


def _prediction_fields(proposal: Proposal) -> dict[str, Any]:
    """A single-objective proposal's predicted mean and std and its acquisition value."""
    return {
        "predicted_mean": pareto.finite_or_none(proposal.predicted_mean),
        "predicted_std": pareto.finite_or_none(proposal.predicted_std),
        "acquisition_value": pareto.finite_or_none(proposal.acquisition_value),
    }


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
    snapshot = store.candidates.snapshot(cid)
    pool = CandidatePool(space, snapshot.rows, removed=snapshot.removed)
    if snapshot.space_version == space.version:  # else the pool changed meanwhile: no caching
        if len(_POOLS) >= _MAX_POOLS:
            _POOLS.pop(next(iter(_POOLS)))
        _POOLS[cid] = (space.version, pool)
    return pool


def pool_observations(
    results: Sequence[Mapping[str, Any]],
    rows: Sequence[int | None],
    observe: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Results as observations for a pool campaign: each with its ``candidate`` row (if any),
    failed syntheses included (``status: failed``: they train nothing but close their row).

    Args:
        results: The campaign's results.
        rows: Each result's candidate row, or None.
        observe: One result as an observation (default: a single objective's;
            :func:`kiln_services.worker.pareto.pool_observation` for several objectives).
    """
    observe = observe or _pool_observation
    out: list[dict[str, Any]] = []
    for r, row in zip(results, rows, strict=True):
        obs = observe(r)
        if row is not None:
            obs["candidate"] = row
        out.append(obs)
    return out


def _pool_observation(r: Mapping[str, Any]) -> dict[str, Any]:
    """A single-objective result as a pool observation (``status: failed`` if it failed), with
    its ``objective_sd`` when it states one, as the refit saw it (else the stored model would not
    match and the batch would refit without the measurement errors)."""
    if r.get("status", "ok") != "ok" or r.get("objective") is None:
        return {"parameters": r["parameters"], "sample_id": r["sample_id"], "status": "failed"}
    return observations_of([r])[0]


def feasibility_of(state: Mapping[str, Any]) -> FeasibilityModel | None:
    """The feasibility classifier stored with a model, if any."""
    payload = state.get("feasibility")
    return FeasibilityModel.from_dict(payload) if payload else None
