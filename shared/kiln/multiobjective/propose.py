"""Propose the next batch of a multi-objective campaign: :func:`kiln.propose.propose` for 2-4
objectives.

The candidates are built as for one objective (:func:`kiln.candidate_rows.batch_candidates`:
the grid or seeded samples, or a pool's open rows; the space's constraints; pending points
excluded, measured ones avoided). One GP per objective (:mod:`kiln.multiobjective.fitted`)
scores them by exact EHVI or ParEGO with pending points and earlier picks as Kriging-believer
fantasies (:func:`kiln.multiobjective.selection.select_pareto_batch`); the acquisition of every
candidate is multiplied by the probability of a successful synthesis (:mod:`kiln.feasibility`)
and of meeting the outcome constraints. EHVI improves on the models' means at the measured
results that meet the outcome constraints (the measurements are noisy). Without a usable model
(no or one result, a failed fit) the batch is a seeded space-filling design, as for one objective.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.batch.picks import Pick, Selection
from kiln.candidate_rows import batch_candidates, pick_parameters, pool_exhausted
from kiln.errors import KilnError, ModelFitError, NoObservationsError
from kiln.feasibility import FeasibilityModel
from kiln.multiobjective.fitted import ParetoModels, fit_pareto_models
from kiln.multiobjective.objectives import Objectives
from kiln.multiobjective.observations import ParetoData, parse_pareto_observations
from kiln.multiobjective.outcomes import OutcomeConstraint
from kiln.multiobjective.pareto import ReferencePoint, complete_rows, reference_point
from kiln.multiobjective.selection import ParetoPick, ParetoSelection, select_pareto_batch
from kiln.multiobjective.shared import select_shared_pareto
from kiln.multiobjective.training import select_pareto_training_set
from kiln.observations import parse_pending
from kiln.pool import CandidatePool
from kiln.propose import space_filling_batch
from kiln.space import SearchSpace
from kiln.strategy import Strategy

#: Joint posterior samples of the measured front that EHVI averages over (0: improve on the
#: models' means at the measured points; see kiln.multiobjective.scorers.NoisyEHVIScorer).
FRONT_SAMPLES = 0


def _clean(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class ParetoProposal:
    """One proposed experiment of a multi-objective batch.

    Attributes:
        parameters: The point to measure.
        predicted: Per objective ``{"mean", "std"}`` in its own unit (None in a space-filling
            batch).
        acquisition_value: EHVI or ParEGO's EI at pick time, weighted by the probabilities
            (None for space filling and ``random``).
        probability_feasible: The product of the outcome-constraint probabilities (None
            without outcome constraints or without a model).
        candidate: The pool row proposed (its id), None without a pool.
        group: With ``strategy.batch_shared``, the group (one furnace run) it belongs to.
    """

    parameters: dict[str, Any]
    predicted: dict[str, dict[str, float | None]] | None = None
    acquisition_value: float | None = None
    probability_feasible: float | None = None
    candidate: int | None = None
    group: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON payload (``candidate`` only with a pool, ``group`` only with shared values)."""
        out: dict[str, Any] = {
            "parameters": dict(self.parameters),
            "predicted": None if self.predicted is None else dict(self.predicted),
            "acquisition_value": self.acquisition_value,
            "probability_feasible": self.probability_feasible,
        }
        if self.candidate is not None:
            out["candidate"] = self.candidate
        if self.group is not None:
            out["group"] = self.group
        return out


@dataclass
class ParetoBatch:
    """A multi-objective batch.

    Attributes:
        proposals: The proposals, in pick order.
        exhausted: As :attr:`kiln.propose.Batch.exhausted`.
        fallback: Why a space-filling design was used (or why a pool gave nothing), else None.
        models: The models that made the batch (None for space filling).
        reference_point: Per objective, the hypervolume reference point in its own unit (None
            where it is derived and there is no data yet).
        reference_point_derived: Per objective, whether that coordinate came from the data.
    """

    proposals: list[ParetoProposal]
    exhausted: bool = False
    fallback: str | None = None
    models: ParetoModels | None = field(default=None, repr=False)
    reference_point: dict[str, float | None] = field(default_factory=dict)
    reference_point_derived: dict[str, bool] = field(default_factory=dict)

    def to_dict(self, *, include_models: bool = True) -> dict[str, Any]:
        """JSON payload; ``models`` holds :meth:`ParetoModels.to_dict` unless excluded."""
        out: dict[str, Any] = {
            "proposals": [p.to_dict() for p in self.proposals],
            "exhausted": self.exhausted,
            "fallback": self.fallback,
            "reference_point": dict(self.reference_point),
            "reference_point_derived": dict(self.reference_point_derived),
        }
        if include_models:
            out["models"] = self.models.to_dict() if self.models is not None else None
        return out


def propose_pareto(
    space: SearchSpace,
    objectives: Objectives,
    observations: Sequence[Mapping[str, Any]],
    pending: Sequence[Mapping[str, Any]],
    strategy: Strategy,
    *,
    models: ParetoModels | None = None,
    random_state: int = 0,
    feasibility: FeasibilityModel | None = None,
    fallback: str | None = None,
    pool: CandidatePool | None = None,
    outcome_constraints: Sequence[OutcomeConstraint] = (),
    training_limit: int | None = None,
    training_seed: int = 0,
) -> ParetoBatch:
    """Propose the next batch of a campaign with 2-4 objectives (module docstring).

    Args:
        space: Current search space.
        objectives: The campaign's objectives (:func:`kiln.campaign.objectives_of`).
        observations: Stored results (``parameters``, ``objectives`` by name, ``measurements``,
            ``status``, optional ``candidate`` and ``sample_id``); failed ones are skipped (with
            a pool they still close their row).
        pending: Parameter mappings (or ``{"parameters": ...}``) of proposals still out.
        strategy: ``acquisition`` ``"ehvi"``, ``"parego"`` or ``"random"``, the batch size and
            optional ``batch_shared`` groups (:mod:`kiln.multiobjective.shared`).
        models: Models fitted earlier; reused when fitted on exactly these results (their
            training subset with `training_limit`) and outcome constraints in this space, else
            refitted.
        random_state: Seeds candidates, fits, ParEGO's weights, random picks and space filling.
        feasibility: A classifier of synthesis success; its probability multiplies the
            acquisition.
        fallback: When given, no model is fitted: a space-filling design with this reason.
        pool: A finite table of candidates, as for :func:`kiln.propose.propose`.
        outcome_constraints: The campaign's outcome constraints
            (:func:`~kiln.multiobjective.outcomes.outcome_constraints_of`).
        training_limit: When given, the models train on at most this many results
            (:func:`~kiln.multiobjective.training.select_pareto_training_set`, seeded by
            `training_seed`); the fronts EHVI improves on still hold every measured result.
        training_seed: Seeds that choice (a refit that chose with the same seed made models
            this batch reuses).

    Raises:
        KilnError: For an acquisition that does not fit the number of objectives, or shared
            parameters not in the space.
        InvalidObservationError: For unusable objective values.
        OutsideSpaceError: For results or pending points that cannot be encoded.
    """
    constraints = tuple(outcome_constraints)
    names = [c.name for c in constraints if c.name not in objectives.names]
    data = parse_pareto_observations(space, objectives, observations, list(dict.fromkeys(names)))
    pend = parse_pending(space, pending)
    rng = np.random.default_rng(random_state)
    if pool is not None and pool.space != space:  # built on another version: re-encode its rows
        pool = CandidatePool(space, pool.rows, pool.removed)
    candidates, Xc, excluded, measured = batch_candidates(
        space, rng, pool, observations, pending, data.points, pend
    )
    Y = objectives.to_model(data.values)
    ref = _reference(objectives, Y)
    if pool is not None and not (~excluded).any():
        return _batch([], True, pool_exhausted(pool), None, objectives, ref)
    X_obs = space.encode(data.points) if data.points else np.empty((0, space.dim))
    X_pend = space.encode(pend) if pend else np.empty((0, space.dim))
    training = observations
    if training_limit is not None and fallback is None:
        training = select_pareto_training_set(
            observations, objectives, limit=training_limit, seed=training_seed
        ).observations
    fitted, fallback = _models(
        space, objectives, training, data, strategy, models, fallback, constraints, random_state
    )
    if fitted is None or ref is None:
        sel = space_filling_batch(
            space, strategy, (Xc, excluded, measured), X_obs, X_pend, rng, pool
        )
        proposals = [
            ParetoProposal(
                pick_parameters(p.index, p.x, space, pool, candidates),
                candidate=_row(p.index, pool),
                group=group,
            )
            for p, group in zip(sel.picks, _groups(sel), strict=True)
        ]
        return _batch(proposals, sel.exhausted, fallback, None, objectives, ref)
    front = _front(fitted, X_obs, Y, data, constraints)
    selection = _select(
        space, strategy, fitted, (Xc, excluded, measured), (X_obs, front, X_pend), ref.point,
        rng, pool, feasibility,
    )  # fmt: skip
    proposals = []
    picks: Sequence[Pick | ParetoPick] = selection.picks
    for pick, group in zip(picks, _groups(selection), strict=True):
        params = pick_parameters(pick.index, pick.x, space, pool, candidates)
        value = None if strategy.acquisition == "random" else _clean(pick.acquisition_value)
        p_met = fitted.probability_feasible(pick.x[None, :])
        proposals.append(
            ParetoProposal(
                params,
                _predicted(fitted, pick.x),
                value,
                None if p_met is None else float(p_met[0]),
                _row(pick.index, pool),
                group,
            )
        )
    return _batch(proposals, selection.exhausted, None, fitted, objectives, ref)


def _select(
    space: SearchSpace,
    strategy: Strategy,
    fitted: ParetoModels,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
    ref: np.ndarray,
    rng: np.random.Generator,
    pool: CandidatePool | None,
    feasibility: FeasibilityModel | None,
) -> ParetoSelection | Selection:
    """The batch's picks by the models: greedy, or in furnace groups with ``batch_shared``."""
    models = [m.surrogate for m in fitted.models]

    def success(X: np.ndarray) -> np.ndarray | None:
        return _success(X, fitted, feasibility)

    if strategy.batch_shared is not None:
        return select_shared_pareto(
            space, strategy, models, candidates, known, ref, rng, pool, success
        )
    Xc, excluded, measured = candidates
    X_obs, front, X_pend = known
    return select_pareto_batch(
        models, X_obs, front, Xc, strategy.batch_size, ref,
        acquisition=strategy.acquisition, pending=X_pend, excluded=excluded, measured=measured,
        rng=rng, front_samples=FRONT_SAMPLES if strategy.acquisition == "ehvi" else 0,
        success=success(Xc),
    )  # fmt: skip


def _groups(selection: ParetoSelection | Selection) -> list[int | None]:
    groups = getattr(selection, "groups", None)
    return list(groups) if groups is not None else [None] * len(selection.picks)


def _models(
    space: SearchSpace,
    objectives: Objectives,
    training: Sequence[Mapping[str, Any]],
    data: ParetoData,
    strategy: Strategy,
    models: ParetoModels | None,
    fallback: str | None,
    constraints: tuple[OutcomeConstraint, ...],
    random_state: int,
) -> tuple[ParetoModels | None, str | None]:
    """The models to choose the batch with (reused when fitted on exactly `training`, else
    fitted on it), or None and why a space-filling design is used instead. `data` holds every
    result (`training` may be a subset of them)."""
    if fallback is not None:
        return None, fallback
    n = int((~np.isnan(data.values)).any(axis=1).sum())
    if n == 0:
        return None, "space_filling: no observations"
    if n == 1:
        return None, "space_filling: one observation"
    if strategy.acquisition == "parego" and not complete_rows(data.values).any():
        return None, "space_filling: no result measures every objective yet (ParEGO needs one)"
    if models is not None and models.matches(space, objectives, training, constraints):
        return models, None
    try:
        fitted = fit_pareto_models(
            space, objectives, training, outcome_constraints=constraints,
            random_state=random_state, start=models,
        )  # fmt: skip
    except (ModelFitError, NoObservationsError) as exc:
        return None, f"space_filling: model fit failed ({exc})"
    return fitted, None


def _reference(objectives: Objectives, Y: np.ndarray) -> ReferencePoint | None:
    """The reference point on the model scale (thresholds, else derived); None when a
    coordinate must be derived and its objective has no data yet."""
    try:
        return reference_point(Y, objectives.thresholds_model())
    except KilnError:
        return None


def _front(
    fitted: ParetoModels,
    X_obs: np.ndarray,
    Y: np.ndarray,
    data: ParetoData,
    constraints: tuple[OutcomeConstraint, ...],
) -> np.ndarray:
    """What EHVI improves on: the models' means at the measured results (NaN where an objective
    was not measured), without the results that break an outcome constraint they report."""
    if X_obs.shape[0] == 0:
        return Y
    mu, _ = fitted.predict_model(X_obs)
    front = np.where(np.isnan(Y), np.nan, mu)
    front[~meets_constraints(data, fitted.objectives, constraints)] = np.nan
    return front


def meets_constraints(
    data: ParetoData, objectives: Objectives, constraints: Sequence[OutcomeConstraint]
) -> np.ndarray:
    """Per result, whether it meets every outcome constraint it reports (a missing value
    counts as met)."""
    ok = np.ones(len(data.points), dtype=bool)
    for c in constraints:
        if c.name in objectives.names:
            column = data.values[:, objectives.names.index(c.name)]
        else:
            column = data.measurements[:, data.measurement_names.index(c.name)]
        reported = ~np.isnan(column)
        met = np.array([c.met(v) for v in column[reported]], dtype=bool)
        ok[np.flatnonzero(reported)[~met]] = False
    return ok


def _success(
    Xc: np.ndarray, fitted: ParetoModels, feasibility: FeasibilityModel | None
) -> np.ndarray | None:
    """Per candidate, the probability of success times that of meeting the outcome constraints."""
    p = fitted.probability_feasible(Xc)
    if feasibility is not None:
        q = feasibility.probability(Xc)
        p = q if p is None else p * q
    return p


def _predicted(fitted: ParetoModels, x: np.ndarray) -> dict[str, dict[str, float | None]]:
    """Per objective, its mean and std in its own unit at ``x``."""
    out = {}
    for spec, model in zip(fitted.objectives.specs, fitted.models, strict=True):
        mu, sd = model.surrogate.predict(x[None, :])
        with np.errstate(over="ignore"):
            mean, std = spec.objective.from_model(mu[0], sd[0])
        out[spec.name] = {"mean": _clean(float(mean)), "std": _clean(float(std))}
    return out


def _row(index: int | None, pool: CandidatePool | None) -> int | None:
    return index if pool is not None else None


def _batch(
    proposals: list[ParetoProposal],
    exhausted: bool,
    fallback: str | None,
    models: ParetoModels | None,
    objectives: Objectives,
    ref: ReferencePoint | None,
) -> ParetoBatch:
    """The batch with its reference point in the objectives' own units."""
    point = objectives.reference_in_units(None if ref is None else ref.point)
    derived = {spec.name: spec.threshold is None for spec in objectives.specs}
    return ParetoBatch(proposals, exhausted, fallback, models, point, derived)
