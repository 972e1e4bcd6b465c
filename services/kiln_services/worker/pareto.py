"""The multi-objective side of refits and batches: the same steps, with kiln's Pareto calls.

`refits` and `batches` decide once per campaign (`kiln.campaign.is_multiobjective`) and call these
for a campaign of 2-4 objectives: its observations (results with ``objectives``), a fit of one
model per objective and per constrained measurement (`kiln.multiobjective.fitted`), a batch by
`kiln.multiobjective.propose.propose_pareto`, and the prediction fields of its proposals. Locks,
jobs, pools, pending points, feasibility and provenance stay the single path's. A single-objective
campaign's outcome constraints reach `kiln.propose.propose` through its ``feasibility``
(`outcome_feasibility_of`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.campaign import objectives_of, space_of
from kiln.errors import KilnError
from kiln.feasibility import FeasibilityModel
from kiln.multiobjective.constrained import ConstrainedFeasibility, outcome_feasibility
from kiln.multiobjective.fitted import ParetoModels, fit_pareto_models
from kiln.multiobjective.outcomes import outcome_constraints_of
from kiln.multiobjective.propose import ParetoBatch, propose_pareto
from kiln.multiobjective.training import select_pareto_training_set
from kiln.pool import CandidatePool
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln.training import DEFAULT_LIMIT

log = logging.getLogger(__name__)


def observations_of(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The results the models learn from: successful ones with at least one objective value.

    Each keeps its ``objectives`` (a missing one trains the others' models) and its
    ``measurements`` (outcome constraints may model them).
    """
    return [_observation(r) for r in results if _measured(r)]


def pool_observation(result: Mapping[str, Any]) -> dict[str, Any]:
    """One result as a pool campaign's observation (``kiln_services.worker.batches.
    pool_observations`` adds its ``candidate`` row): measured, or ``status: failed``."""
    return _observation(result) if _measured(result) else _failed(result)


def _measured(result: Mapping[str, Any]) -> bool:
    values = result.get("objectives") or {}
    ok = result.get("status", "ok") == "ok"
    return ok and any(v is not None for v in values.values())


def _observation(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "parameters": result["parameters"],
        "objectives": {k: v for k, v in result["objectives"].items() if v is not None},
        "measurements": dict(result.get("measurements") or {}),
        "status": "ok",
        "sample_id": result["sample_id"],
    }


def _failed(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "parameters": result["parameters"],
        "sample_id": result["sample_id"],
        "status": "failed",
    }


def same_constraints(state: Mapping[str, Any], campaign: Mapping[str, Any]) -> bool:
    """Whether a stored multi-objective model was fitted for the campaign's outcome constraints
    (a PATCH may change them: the models of the measurements they name change with them)."""
    stored = [dict(c) for c in state.get("outcome_constraints") or []]
    return stored == [c.to_dict() for c in outcome_constraints_of(campaign)]


def load_models(state: Mapping[str, Any]) -> ParetoModels:
    """A stored multi-objective model state as ParetoModels (the worker's own keys beside the
    models', ``corrections`` and ``feasibility``, are not read)."""
    return ParetoModels.from_dict(state)


def fit(
    campaign: Mapping[str, Any],
    observations: Sequence[Mapping[str, Any]],
    start: ParetoModels | None,
    *,
    warm_restarts: int,
    training_limit: int = DEFAULT_LIMIT,
    training_seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit the campaign's models (warm from `start` when given); their (state, summary).

    The models train on at most `training_limit` results
    (`kiln.multiobjective.training.select_pareto_training_set`, seeded by `training_seed`); the
    summary's ``training`` says which. A warm fit runs the optimiser from `start`'s
    hyperparameters and `warm_restarts` random points (a cold fit: kiln's default restarts); one
    that fails falls back to a cold fit, as the single path's refit does. On the LATP lab
    (latp-moo, 80 then 100 results) a warm fit with 2 restarts took 1.3 s against 2.0 s with 5
    and 2.4 s cold, at the same log likelihoods.
    """
    space, objectives = space_of(campaign), objectives_of(campaign)
    constraints = outcome_constraints_of(campaign)
    training = select_pareto_training_set(
        observations, objectives, limit=training_limit, seed=training_seed
    )
    observations = training.observations
    models: ParetoModels | None = None
    if start is not None:
        try:
            models = fit_pareto_models(
                space,
                objectives,
                observations,
                outcome_constraints=constraints,
                random_state=len(observations),
                start=start,
                n_restarts=warm_restarts,
            )
        except (KilnError, ValueError, ArithmeticError) as exc:
            log.info(
                "warm-started Pareto fit failed (%s: %s); fitting cold", type(exc).__name__, exc
            )
    if models is None:
        models = fit_pareto_models(
            space, objectives, observations, outcome_constraints=constraints, random_state=0
        )
    summary = models.summary()
    summary["training"] = training.summary()
    return models.to_dict(), summary


def propose_batch(
    campaign: Mapping[str, Any],
    observations: Sequence[Mapping[str, Any]],
    pending: Sequence[Any],
    strategy: Strategy,
    *,
    models: ParetoModels | None,
    random_state: int,
    feasibility: FeasibilityModel | None,
    fallback: str | None,
    pool: CandidatePool | None,
    training_limit: int,
    training_seed: int,
) -> ParetoBatch:
    """A batch by propose_pareto with the campaign's objectives and outcome constraints; its
    models train on the subset `fit` chose with the same limit and seed, so it reuses the stored
    models fitted on these results instead of refitting on all of them."""
    return propose_pareto(
        space_of(campaign),
        objectives_of(campaign),
        observations,
        pending,
        strategy,
        models=models,
        random_state=random_state,
        feasibility=feasibility,
        fallback=fallback,
        pool=pool,
        outcome_constraints=outcome_constraints_of(campaign),
        training_limit=training_limit,
        training_seed=training_seed,
    )


def outcome_feasibility_of(
    campaign: Mapping[str, Any],
    space: SearchSpace,
    results: Sequence[Mapping[str, Any]],
    success: FeasibilityModel | None,
    random_state: int,
) -> ConstrainedFeasibility | None:
    """A single-objective campaign's outcome constraints as ``propose(feasibility=...)`` takes
    them (times the synthesis-success classifier `success`); None without outcome constraints,
    or when their models cannot be fitted (the batch then proposes without them, logged)."""
    constraints = outcome_constraints_of(campaign)
    if not constraints:
        return None
    try:
        found = outcome_feasibility(
            space,
            objectives_of(campaign),
            results,
            constraints,
            success=success,
            random_state=random_state,
        )
    except (KilnError, ValueError, ArithmeticError) as exc:
        log.warning("outcome constraints not modelled (%s: %s)", type(exc).__name__, exc)
        return None
    return found if isinstance(found, ConstrainedFeasibility) else None


def model_provenance(summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a proposal records of the models that made it: per objective its kernel and
    hyperparameters (kiln.ledger.provenance records one model's)."""
    entries = (summary or {}).get("objectives") or []
    return {
        "objectives": [
            {k: o.get(k) for k in ("name", "kernel", "hyperparameters")} for o in entries
        ]
        or None
    }


def prediction_fields(proposal: Any) -> dict[str, Any]:
    """A Pareto proposal's prediction fields as the ledger keeps them: ``predicted`` per
    objective (own units; None in a space-filling batch), ``probability_feasible``, and the
    single objective's ``predicted_mean``/``predicted_std`` as None."""
    payload = proposal.to_dict()
    predicted = payload.get("predicted")
    return {
        "predicted_mean": None,
        "predicted_std": None,
        "predicted": None
        if predicted is None
        else {name: _mean_std(value) for name, value in predicted.items()},
        "probability_feasible": finite_or_none(payload.get("probability_feasible")),
        "acquisition_value": finite_or_none(payload.get("acquisition_value")),
    }


def _mean_std(value: Mapping[str, Any] | None) -> dict[str, float | None] | None:
    if value is None:
        return None
    return {"mean": finite_or_none(value.get("mean")), "std": finite_or_none(value.get("std"))}


def finite_or_none(value: Any) -> float | None:
    """A number as the ledger keeps it: NaN or infinity (beyond float64 in the objective's unit)
    is reported as unknown (None), as is None."""
    return None if value is None or not math.isfinite(float(value)) else float(value)
