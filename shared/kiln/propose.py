"""The stateless core: fit a model to a campaign's observations and propose the next batch.

``propose(space, objective, observations, pending, strategy)`` is all a worker needs: it parses
and checks the observations, fits (or reuses) the surrogate, treats pending proposals as
fantasies, and returns a :class:`Batch`. Degenerate inputs never surface as numpy errors: they
raise a domain error naming the field (bad values) or fall back to a seeded space-filling design
(no usable model), with :attr:`Batch.fallback` saying why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.batch.picks import Selection
from kiln.batch.polishing import Polisher
from kiln.batch.selection import select_batch
from kiln.batch.space_filling import space_filling
from kiln.candidate_rows import batch_candidates, pick_parameters, pool_exhausted
from kiln.errors import ModelFitError
from kiln.feasibility import FeasibilityModel
from kiln.model.fitted import FittedModel, fit_observations, model_matches
from kiln.objective import Objective
from kiln.observations import ParsedObservations, all_equal, parse_observations, parse_pending
from kiln.parameters import Point
from kiln.pool import CandidatePool
from kiln.shared_batch import select_shared_batch
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln.training import select_training_set


def _clean_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class Proposal:
    """One proposed experiment.

    Attributes:
        parameters: The point to measure.
        predicted_mean: Model's mean in the original unit (None in a space-filling batch).
        predicted_std: Model's std in the original unit (None in a space-filling batch).
        acquisition_value: Acquisition at pick time, on the model scale, under the fantasies of
            the pending points and earlier picks (None for space filling and ``random``).
        candidate: The pool row proposed (its id), None without a pool.
        group: With ``strategy.batch_shared``, the group (one furnace run) it belongs to:
            proposals of one group share the shared parameters' values.
    """

    parameters: dict[str, Any]
    predicted_mean: float | None = None
    predicted_std: float | None = None
    acquisition_value: float | None = None
    candidate: int | None = None
    group: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON payload (``candidate`` only with a pool, ``group`` only with shared values)."""
        out: dict[str, Any] = {
            "parameters": dict(self.parameters),
            "predicted_mean": self.predicted_mean,
            "predicted_std": self.predicted_std,
            "acquisition_value": self.acquisition_value,
        }
        if self.candidate is not None:
            out["candidate"] = self.candidate
        if self.group is not None:
            out["group"] = self.group
        return out


@dataclass
class Batch:
    """A batch of proposals.

    Attributes:
        proposals: The proposals, best first.
        exhausted: True when the space ran out of unmeasured, non-pending candidates (fewer
            proposals than asked for, or some repeat measured points); with a pool, when its
            open rows ran out (fewer proposals, never repeats).
        fallback: Why a space-filling design was used instead of the model (or, with a pool
            that has no open row left, why there are no proposals), else None.
        model: The model that made the batch (None for space filling).
    """

    proposals: list[Proposal]
    exhausted: bool = False
    fallback: str | None = None
    model: FittedModel | None = field(default=None, repr=False)

    def to_dict(self, *, include_model: bool = True) -> dict[str, Any]:
        """JSON payload; ``model`` holds the full :meth:`FittedModel.to_dict` unless excluded."""
        out: dict[str, Any] = {
            "proposals": [p.to_dict() for p in self.proposals],
            "exhausted": self.exhausted,
            "fallback": self.fallback,
        }
        if include_model:
            out["model"] = self.model.to_dict() if self.model is not None else None
        return out


def propose(
    space: SearchSpace,
    objective: Objective,
    observations: Sequence[Mapping[str, Any]],
    pending: Sequence[Mapping[str, Any]],
    strategy: Strategy,
    *,
    model: FittedModel | None = None,
    random_state: int = 0,
    feasibility: FeasibilityModel | None = None,
    fallback: str | None = None,
    pool: CandidatePool | None = None,
    training_limit: int | None = None,
    training_seed: int = 0,
) -> Batch:
    """Propose the next batch of experiments.

    Candidates are the space's grid when it has at most 200,000 points, else 20,000 seeded
    samples whose best few are polished by L-BFGS-B over the continuous parameters (then
    snapped to their steps). Pending points enter first as fantasies (Kriging believer: the
    predicted mean; constant liar: the lie); the batch never repeats a pending point or an
    earlier pick, and avoids measured points until none else remain.

    Every proposal satisfies the space's constraints (:mod:`kiln.constraints`; infeasible pool
    rows and polished points are dropped). ``strategy.batch_shared`` splits the batch into
    groups sharing some parameters' values (:mod:`kiln.batch.sharing`; each says its ``group``).

    Args:
        space: Current search space.
        objective: Objective and transform.
        observations: ``{"parameters", "objective"}`` mappings (failed syntheses skipped; with a
            pool they still close their row).
        pending: Parameter mappings (or ``{"parameters": ...}``) of proposals still out.
        strategy: Acquisition, batch size and batch method.
        model: A model fitted earlier; reused when it was fitted on this space, objective and
            these exact observations (their training subset with `training_limit`), otherwise
            the model is refitted.
        random_state: Seeds candidates, the fit, random picks and space-filling ties.
        feasibility: A classifier of synthesis success (:mod:`kiln.feasibility`); its
            probability multiplies the acquisition of every candidate.
        fallback: When given, no model is fitted or used: a space-filling design is made and
            this reason reported (e.g. the caller already knows the fit fails on this data).
        pool: A finite table of candidates (:mod:`kiln.pool`): proposals then come only from
            its open rows (not removed, measured or pending, inside the current ranges),
            scored exactly on the rows (no grid, no polishing), each with its ``candidate``
            id. An observation or pending entry may name its row as ``"candidate"``; one that
            does not is matched to an equal row. With no open row left the batch is empty,
            ``exhausted`` and ``fallback`` says so.
        training_limit: When given, the model trains on at most this many observations
            (:func:`kiln.training.select_training_set`, seeded by `training_seed`). The rest of
            the batch still sees every observation: measured points are avoided, space filling
            keeps away from them, and EI's incumbent is the best of them (the subset always
            holds the best observation).
        training_seed: Seeds that choice (a refit that chose with the same seed made a model
            this batch reuses).

    Returns:
        The batch; ``fallback`` says why a space-filling design was used (no observations,
        one observation, all targets equal, model fit failure).

    Raises:
        InvalidObservationError: For unusable objective values.
        OutsideSpaceError: For observations or pending points that cannot be encoded.
    """
    data = parse_observations(space, objective, observations)
    pend = parse_pending(space, pending)
    rng = np.random.default_rng(random_state)
    if pool is not None and pool.space != space:  # built on another version: re-encode its rows
        pool = CandidatePool(space, pool.rows, pool.removed)
    candidates, Xc, excluded, measured = batch_candidates(
        space, rng, pool, observations, pending, data.points, pend
    )
    if pool is not None and not (~excluded).any():
        return Batch([], True, pool_exhausted(pool), None)
    X_obs = space.encode(data.points) if data.points else np.empty((0, space.dim))
    X_pend = space.encode(pend) if pend else np.empty((0, space.dim))
    y = objective.to_model(data.values) if data.values else np.empty(0)
    training = (data, X_obs)
    if training_limit is not None and fallback is None:
        chosen = select_training_set(
            observations, objective, limit=training_limit, seed=training_seed
        )
        if chosen.subset:
            subset = parse_observations(space, objective, chosen.observations)
            training = (subset, space.encode(subset.points))
    fitted, fallback = _model(space, objective, training, y, model, fallback, random_state)

    selection = _select(
        space, strategy, fitted, Xc, excluded, measured, X_obs, X_pend, rng, pool, feasibility
    )
    proposals = _proposals(selection, space, objective, strategy, fitted, pool, candidates)
    return Batch(proposals, selection.exhausted, fallback, fitted)


def _select(
    space: SearchSpace,
    strategy: Strategy,
    fitted: FittedModel | None,
    Xc: np.ndarray,
    excluded: np.ndarray,
    measured: np.ndarray,
    X_obs: np.ndarray,
    X_pend: np.ndarray,
    rng: np.random.Generator,
    pool: CandidatePool | None,
    feasibility: FeasibilityModel | None,
) -> Selection:
    """The batch's picks: by the model's acquisition, or space filling without a model."""
    q = strategy.batch_size
    if fitted is None:
        return space_filling_batch(
            space, strategy, (Xc, excluded, measured), X_obs, X_pend, rng, pool
        )
    if strategy.batch_shared is not None:
        candidates = (Xc, excluded, measured)
        return select_shared_batch(
            space, strategy, fitted, candidates, (X_obs, X_pend), rng, pool, feasibility
        )
    polisher = None
    columns = space.continuous_columns()
    if pool is None and columns and not space.is_enumerable():
        polisher = _polisher(space, columns)
    return select_batch(
        fitted.surrogate,
        Xc,
        q,
        **strategy.acquisition_options(),
        pending=X_pend,
        excluded=excluded,
        measured=measured,
        polisher=polisher,
        observed=X_obs,
        rng=rng,
        success_probability=None if feasibility is None else feasibility.probability(Xc),
    )


def space_filling_batch(
    space: SearchSpace,
    strategy: Strategy,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    X_obs: np.ndarray,
    X_pend: np.ndarray,
    rng: np.random.Generator,
    pool: CandidatePool | None,
) -> Selection:
    """A seeded space-filling batch, for when there is no model: far from the measured and
    pending points, in shared-value groups with ``strategy.batch_shared``.

    Args:
        candidates: ``(encoded candidates, excluded, measured)`` as the batch picks from them.
    """
    if strategy.batch_shared is not None:
        return select_shared_batch(
            space, strategy, None, candidates, (X_obs, X_pend), rng, pool, None
        )
    Xc, excluded, measured = candidates
    reference = np.vstack([X_obs, X_pend])
    return space_filling(
        Xc, strategy.batch_size, reference=reference, excluded=excluded, measured=measured, rng=rng
    )


def _polisher(space: SearchSpace, columns: list[int]) -> Polisher:
    """Polishing snapped to steps; under constraints, equalities solved again after the
    optimiser (:meth:`ConstraintSet.repair`) and infeasible results dropped."""
    cs = space.constraints
    if not cs:
        return Polisher(columns, lambda row: space.encode([space.decode(row)])[0])

    def snap(row: np.ndarray) -> np.ndarray:
        return space.encode([space.decode(cs.repair(row[None, :])[0][0])])[0]

    return Polisher(columns, snap, feasible=lambda row: bool(cs.mask(row)[0]))


def _model(
    space: SearchSpace,
    objective: Objective,
    training: tuple[ParsedObservations, np.ndarray],
    y: np.ndarray,
    model: FittedModel | None,
    fallback: str | None,
    random_state: int,
) -> tuple[FittedModel | None, str | None]:
    """The model to choose the batch with (reused when fitted on exactly `training`, else fitted
    on it), or None and why a space-filling design is used instead. `training` is the parsed
    observations the model trains on and their encoding; `y` holds every observation's target
    on the model scale (`training` may be a subset of them)."""
    if fallback is not None:
        return None, fallback
    if y.size == 0:
        return None, "space_filling: no observations"
    if y.size == 1:
        return None, "space_filling: one observation"
    if all_equal(y):
        return None, "space_filling: all targets equal"
    data, X_train = training
    if model is not None and model_matches(model, space, objective, X_train, data):
        return model, None
    try:
        return fit_observations(
            space, objective, data, random_state=random_state, n_restarts=5
        ), None
    except ModelFitError as exc:
        return None, f"space_filling: model fit failed ({exc})"


def _proposals(
    selection: Selection,
    space: SearchSpace,
    objective: Objective,
    strategy: Strategy,
    fitted: FittedModel | None,
    pool: CandidatePool | None,
    candidates: list[Point] | None,
) -> list[Proposal]:
    """The picks as proposals: their parameters and, with a model, its prediction there."""
    proposals: list[Proposal] = []
    groups: list[int | None] = [None] * len(selection.picks)
    if selection.groups is not None:
        groups = list(selection.groups)
    for pick, group in zip(selection.picks, groups, strict=True):
        row = pick.index if pool is not None else None
        params = pick_parameters(pick.index, pick.x, space, pool, candidates)
        if fitted is None:
            proposals.append(Proposal(params, candidate=row, group=group))
            continue
        mu, sd = fitted.surrogate.predict(pick.x[None, :])
        with np.errstate(over="ignore"):
            mean, std = objective.from_model(mu[0], sd[0])
        value = None if strategy.acquisition == "random" else _clean_float(pick.acquisition_value)
        # Beyond float64 in the objective's unit: reported as unknown rather than as inf.
        proposals.append(Proposal(params, _clean_float(mean), _clean_float(std), value, row, group))
    return proposals
