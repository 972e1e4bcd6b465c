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
from kiln.errors import (
    InvalidObservationError,
    ModelFitError,
    NoObservationsError,
    OutsideSpaceError,
)
from kiln.feasibility import FeasibilityModel
from kiln.model.surrogate import GPSurrogate, length_scale_bounds
from kiln.objective import Objective
from kiln.parameters import CategoricalParameter, DiscreteParameter, Point
from kiln.pool import CandidatePool, RowIndex
from kiln.space import SearchSpace
from kiln.strategy import Strategy

#: Targets whose spread is below this (relative) are treated as all equal.
EQUAL_TARGETS_RTOL = 1e-12


@dataclass(frozen=True)
class _Data:
    """Observations usable for training, parsed and checked."""

    points: list[Mapping[str, Any]]
    values: list[float]
    sample_ids: list[str | None]


def _parse_observations(
    space: SearchSpace, objective: Objective, observations: Sequence[Mapping[str, Any]]
) -> _Data:
    """Check observations; failed syntheses (``"status": "failed"``) are skipped.

    Raises:
        InvalidObservationError: For a malformed entry or an unusable objective value.
        OutsideSpaceError: For unknown or missing parameters, wrong types or unknown labels
            (values outside the current range are fine: they still train the model).
    """
    points: list[Mapping[str, Any]] = []
    values: list[float] = []
    ids: list[str | None] = []
    for i, obs in enumerate(observations):
        if not isinstance(obs, Mapping):
            raise InvalidObservationError(
                f"observations[{i}]", "must be an object with 'parameters' and 'objective'"
            )
        if obs.get("status") == "failed":
            continue
        params = obs.get("parameters")
        if not isinstance(params, Mapping):
            raise InvalidObservationError(
                f"observations[{i}].parameters", "missing; give the parameters as an object"
            )
        try:
            space.check_point(params)
        except OutsideSpaceError as exc:
            raise OutsideSpaceError(exc.parameter, f"observation {i}: {exc.reason}") from None
        values.append(
            objective.check_value(obs.get("objective"), field=f"observations[{i}].objective")
        )
        points.append(params)
        sample_id = obs.get("sample_id")
        ids.append(str(sample_id) if sample_id is not None else None)
    return _Data(points, values, ids)


def _parse_pending(space: SearchSpace, pending: Sequence[Mapping[str, Any]]) -> list[Mapping]:
    out = []
    for i, point in enumerate(pending):
        params = point.get("parameters", point) if isinstance(point, Mapping) else point
        try:
            space.check_point(params)
        except OutsideSpaceError as exc:
            raise OutsideSpaceError(exc.parameter, f"pending proposal {i}: {exc.reason}") from None
        out.append(params)
    return out


def _clean_float(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _first_non_finite(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinite float in a nested JSON-like value, else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "value"
    if isinstance(value, Mapping):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _first_non_finite(item, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _all_equal(y: np.ndarray) -> bool:
    return bool(np.ptp(y) <= EQUAL_TARGETS_RTOL * max(1.0, float(np.max(np.abs(y)))))


@dataclass
class FittedModel:
    """A surrogate fitted to one campaign's data, with what it needs to be reported.

    Attributes:
        space: The search space (and version) the inputs were encoded with.
        objective: The objective (its transform defines the model scale).
        surrogate: The fitted GP.
        best_observed: ``{"parameters", "objective", "sample_id"}`` of the best measurement.
        best_predicted: ``{"parameters", "mean", "std"}``: the candidate with the highest
            posterior mean, in the original unit (mean = median under log10, see
            :mod:`kiln.objective`).
    """

    space: SearchSpace
    objective: Objective
    surrogate: GPSurrogate
    best_observed: dict[str, Any]
    best_predicted: dict[str, Any]

    @property
    def space_version(self) -> int:
        """Version of the space the model was fitted in."""
        return self.space.version

    @property
    def n_observations(self) -> int:
        """Number of training observations."""
        return int(self.surrogate.y_train_.shape[0])

    def predict(self, points: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and std in the objective's original unit at ``points``."""
        mu, sd = self.surrogate.predict(self.space.encode(points))
        mean, std = self.objective.from_model(mu, sd)
        return np.atleast_1d(mean), np.atleast_1d(std)

    def leave_one_out(self) -> dict[str, Any]:
        """Leave-one-out error in the objective's own unit (closed form, no refits).

        Each observation is predicted by the posterior of all the others (R&W eq. 5.12); the
        predictions are mapped back to the original unit before they are compared.

        Returns:
            ``{"rmse", "mae", "unit", "rmse_model_scale", "n"}``; under ``log10`` the model-scale
            RMSE is in decades (0.1 means about 26% off).
        """
        s = self.surrogate
        residuals = s.loo_residuals()
        y = s.y_train_
        predicted, _ = self.objective.from_model(y - residuals, np.zeros_like(y))
        observed, _ = self.objective.from_model(y, np.zeros_like(y))
        errors = np.asarray(predicted) - np.asarray(observed)
        return {
            "rmse": float(np.sqrt(np.mean(errors**2))),
            "mae": float(np.mean(np.abs(errors))),
            "unit": self.objective.unit,
            "rmse_model_scale": float(np.sqrt(np.mean(residuals**2))),
            "n": int(y.shape[0]),
        }

    def summary(self) -> dict[str, Any]:
        """What ``GET /model`` shows: kernel, hyperparameters in the parameters' own units,
        log marginal likelihood, leave-one-out error, best observed and best predicted."""
        s = self.surrogate
        loo = s.loo_residuals()
        return {
            "kernel": str(s.kernel_),
            "hyperparameters": {
                "length_scales": self.space.length_scales_in_units(s.length_scale_),
                "length_scales_unit_cube": [float(v) for v in s.length_scale_],
                "signal_variance": s.constant_,
                "noise_level": s.noise_level_,
                "noise_std_model_scale": s.noise_std_model_,
                "target_mean_model_scale": s.y_mean_,
                "target_std_model_scale": s.y_std_,
            },
            "log_marginal_likelihood": s.log_marginal_likelihood_,
            "leave_one_out_rmse_model_scale": float(np.sqrt(np.mean(loo**2))),
            "leave_one_out": self.leave_one_out(),
            "n_observations": self.n_observations,
            "space_version": self.space_version,
            "objective": self.objective.to_dict(),
            "best_observed": dict(self.best_observed),
            "best_predicted": dict(self.best_predicted),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no pickle); :meth:`from_dict` rebuilds identical predictions."""
        return {
            "space_version": self.space_version,
            "space": self.space.to_dict(),
            "objective": self.objective.to_dict(),
            "surrogate": self.surrogate.to_dict(),
            "best_observed": dict(self.best_observed),
            "best_predicted": dict(self.best_predicted),
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> FittedModel:
        """Rebuild from :meth:`to_dict` output without refitting.

        Raises:
            ModelFitError: When the payload is malformed.
        """
        try:
            return cls(
                space=SearchSpace.from_dict(payload["space"]),
                objective=Objective.from_dict(payload["objective"]),
                surrogate=GPSurrogate.from_dict(payload["surrogate"]),
                best_observed=dict(payload["best_observed"]),
                best_predicted=dict(payload["best_predicted"]),
            )
        except (KeyError, TypeError) as exc:
            raise ModelFitError(f"cannot rebuild the model from its payload: {exc!r}") from None


def fit_model(
    space: SearchSpace,
    objective: Objective,
    observations: Sequence[Mapping[str, Any]],
    *,
    random_state: int = 0,
    n_restarts: int = 5,
    warm_start: FittedModel | None = None,
) -> FittedModel:
    """Fit the surrogate to a campaign's observations.

    Observations outside the current ranges still train the model (their encoding lies
    outside the unit cube). Failed syntheses are skipped.

    Args:
        space: The campaign's current search space.
        objective: The objective and its transform.
        observations: ``{"parameters": {...}, "objective": float, "sample_id"?: str}``.
        random_state: Seeds the optimiser restarts and the candidates for ``best_predicted``.
        n_restarts: Optimiser restarts. Length scales are bounded per encoded column: numeric
            and one-hot columns have their own ranges (:func:`kiln.model.surrogate.length_scale_bounds`).
        warm_start: A model fitted earlier on this campaign: the optimiser's first run starts
            from its hyperparameters (ignored when the encoding changed); ``n_restarts`` random
            restarts follow and the best optimum is kept. A warm start alone is cheap but can
            stay in an optimum the new data has left (e.g. one-hot length scales at their bound
            from a 12-point fit); the worker therefore adds seeded restarts from time to time
            (``kiln_services.worker.refits.EXPLORE_GROWTH``, measured by ``make bench-refit``).

    Raises:
        NoObservationsError: Without usable observations.
        InvalidObservationError: For NaN/inf or non-positive (under log10) objective values.
        OutsideSpaceError: For parameters that cannot be encoded.
        ModelFitError: When the GP cannot be fitted, when every target is equal (nothing to
            learn), or when its predictions overflow the objective's unit (a value off by
            hundreds of decades).
    """
    data = _parse_observations(space, objective, observations)
    start = None
    if warm_start is not None and warm_start.surrogate.length_scale_.shape == (space.dim,):
        start = warm_start.surrogate
    return _fit(
        space, objective, data, random_state=random_state, n_restarts=n_restarts, start=start
    )


def _fit(
    space: SearchSpace,
    objective: Objective,
    data: _Data,
    *,
    random_state: int,
    n_restarts: int,
    start: GPSurrogate | None = None,
) -> FittedModel:
    if not data.points:
        raise NoObservationsError(
            "there are no usable observations to fit a model on; post measured results first"
        )
    y = objective.to_model(data.values)
    if y.size > 1 and _all_equal(y):
        raise ModelFitError(
            f"all {y.size} targets are equal ({data.values[0]!r}): there is nothing to learn "
            "until a different value is measured"
        )
    # One-hot columns get their own length-scale bounds (kiln.model.surrogate explains the range).
    bounds = length_scale_bounds([label is not None for _, label in space.columns()])
    surrogate = GPSurrogate(
        n_restarts=n_restarts, random_state=random_state, length_scale_bounds=bounds
    ).fit(space.encode(data.points), y, start=start)
    # Overflow is checked for below, on what the model reports, rather than warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        return _reportable(space, objective, data, y, surrogate, random_state)


def _reportable(
    space: SearchSpace,
    objective: Objective,
    data: _Data,
    y: np.ndarray,
    surrogate: GPSurrogate,
    random_state: int,
) -> FittedModel:
    best = int(np.argmax(y))
    best_observed = {
        "parameters": dict(data.points[best]),
        "objective": data.values[best],
        "sample_id": data.sample_ids[best],
    }
    candidates = space.candidates(np.random.default_rng(random_state))
    encoded = space.encode(candidates)
    top = int(np.argmax(surrogate.predict(encoded, return_std=False)))
    mu, sd = surrogate.predict(encoded[top : top + 1])
    mean, std = objective.from_model(mu[0], sd[0])
    best_predicted = {"parameters": dict(candidates[top]), "mean": mean, "std": std}
    model = FittedModel(space, objective, surrogate, best_observed, best_predicted)
    # A model is only as good as what it can report: predictions that overflow the objective's
    # unit (e.g. one value of 1e300 under log10, a typo by hundreds of decades) cannot be stored
    # or served, so such a fit counts as failed and proposals fall back to space filling.
    where = _first_non_finite(model.summary())
    if where is not None:
        unit = objective.unit or "the objective's unit"
        raise ModelFitError(
            f"the model's {where} is not a finite number in {unit}: the data spans too many "
            "orders of magnitude; check for a value off by many decades"
        )
    return model


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
    """

    parameters: dict[str, Any]
    predicted_mean: float | None = None
    predicted_std: float | None = None
    acquisition_value: float | None = None
    candidate: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON payload (``candidate`` only with a pool)."""
        out: dict[str, Any] = {
            "parameters": dict(self.parameters),
            "predicted_mean": self.predicted_mean,
            "predicted_std": self.predicted_std,
            "acquisition_value": self.acquisition_value,
        }
        if self.candidate is not None:
            out["candidate"] = self.candidate
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


def _model_matches(
    model: FittedModel, space: SearchSpace, objective: Objective, X: np.ndarray, y: np.ndarray
) -> bool:
    s = model.surrogate
    return (
        model.space == space
        and model.objective == objective
        and s.X_train_.shape == X.shape
        and bool(np.array_equal(s.X_train_, X))
        and bool(np.array_equal(s.y_train_, y))
    )


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
) -> Batch:
    """Propose the next batch of experiments.

    Candidates are the space's grid when it has at most 200,000 points, else 20,000 seeded
    samples whose best few are polished by L-BFGS-B over the continuous parameters (then
    snapped to their steps). Pending points enter first as fantasies (Kriging believer: the
    predicted mean; constant liar: the lie); the batch never repeats a pending point or an
    earlier pick, and avoids measured points until none else remain.

    Args:
        space: Current search space.
        objective: Objective and transform.
        observations: ``{"parameters", "objective"}`` mappings (failed syntheses skipped; with a
            pool they still close their row).
        pending: Parameter mappings (or ``{"parameters": ...}``) of proposals still out.
        strategy: Acquisition, batch size and batch method.
        model: A model fitted earlier; reused when it was fitted on this space, objective and
            these exact observations, otherwise the model is refitted.
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

    Returns:
        The batch; ``fallback`` says why a space-filling design was used (no observations,
        one observation, all targets equal, model fit failure).

    Raises:
        InvalidObservationError: For unusable objective values.
        OutsideSpaceError: For observations or pending points that cannot be encoded.
    """
    data = _parse_observations(space, objective, observations)
    pend = _parse_pending(space, pending)
    rng = np.random.default_rng(random_state)
    candidates: list[Point] | None = None
    if pool is not None:
        if pool.space != space:  # built on another version: encode its rows in this one
            pool = CandidatePool(space, pool.rows, pool.removed)
        Xc = pool.encoded()
        excluded = pool.closed()
        excluded[_pool_rows(pool, observations)] = True
        excluded[_pool_rows(pool, pending)] = True
        measured = np.zeros(len(pool), dtype=bool)  # a pool never repeats a measured row
        if not (~excluded).any():
            return Batch([], True, _pool_exhausted(pool), None)
    else:
        candidates = space.candidates(rng)
        Xc = space.encode(candidates)
        excluded = np.zeros(len(candidates), dtype=bool)
        measured = np.zeros(len(candidates), dtype=bool)
        excluded[_candidate_rows(space, candidates, Xc, pend)] = True
        measured[_candidate_rows(space, candidates, Xc, data.points)] = True
    X_obs = space.encode(data.points) if data.points else np.empty((0, space.dim))
    X_pend = space.encode(pend) if pend else np.empty((0, space.dim))
    y = objective.to_model(data.values) if data.values else np.empty(0)

    fitted: FittedModel | None = None
    if fallback is not None:
        pass
    elif y.size == 0:
        fallback = "space_filling: no observations"
    elif y.size == 1:
        fallback = "space_filling: one observation"
    elif _all_equal(y):
        fallback = "space_filling: all targets equal"
    elif model is not None and _model_matches(model, space, objective, X_obs, y):
        fitted = model
    else:
        try:
            fitted = _fit(space, objective, data, random_state=random_state, n_restarts=5)
        except ModelFitError as exc:
            fallback = f"space_filling: model fit failed ({exc})"

    q = strategy.batch_size
    selection: Selection
    if fitted is None:
        selection = space_filling(
            Xc,
            q,
            reference=np.vstack([X_obs, X_pend]),
            excluded=excluded,
            measured=measured,
            rng=rng,
        )
    else:
        polisher = None
        columns = space.continuous_columns()
        if pool is None and columns and not space.is_enumerable():
            polisher = Polisher(columns, lambda row: space.encode([space.decode(row)])[0])
        selection = select_batch(
            fitted.surrogate,
            Xc,
            q,
            acquisition=strategy.acquisition,
            kappa=strategy.kappa,
            xi=strategy.xi,
            batch_method=strategy.batch_method,
            pending=X_pend,
            excluded=excluded,
            measured=measured,
            polisher=polisher,
            rng=rng,
            success_probability=None if feasibility is None else feasibility.probability(Xc),
        )

    proposals: list[Proposal] = []
    for pick in selection.picks:
        row = pick.index if pool is not None else None
        if row is not None and pool is not None:
            params = dict(pool.rows[row])
        elif pick.index is not None and candidates is not None:
            params = dict(candidates[pick.index])
        else:
            params = space.decode(pick.x)
        if fitted is None:
            proposals.append(Proposal(params, candidate=row))
            continue
        mu, sd = fitted.surrogate.predict(pick.x[None, :])
        with np.errstate(over="ignore"):
            mean, std = objective.from_model(mu[0], sd[0])
        value = None if strategy.acquisition == "random" else _clean_float(pick.acquisition_value)
        # Beyond float64 in the objective's unit: reported as unknown rather than as inf.
        proposals.append(Proposal(params, _clean_float(mean), _clean_float(std), value, row))
    return Batch(proposals, selection.exhausted, fallback, fitted)


def _candidate_rows(
    space: SearchSpace, candidates: Sequence[Point], Xc: np.ndarray, points: Sequence[Mapping]
) -> np.ndarray:
    """Indices of the candidates equal to ``points`` (the few measured or pending ones).

    On a full grid by index arithmetic; on sampled candidates by an exact comparison of encoded
    rows, after snapping each value that lies on a step (or a listed value) to it. Only the few
    points are keyed, never the tens of thousands of candidates.
    """
    if not points:
        return np.empty(0, dtype=np.int64)
    if space.is_enumerable() and len(candidates) == space.grid_size():
        rows = space.grid_index(points)
    else:
        rows = RowIndex(Xc).find(space.encode([_snapped(space, p) for p in points]))
    return rows[rows >= 0]


def _snapped(space: SearchSpace, point: Mapping[str, Any]) -> dict[str, Any]:
    # Values as the sampler writes them: grid values where the point is on one, else rounded
    # like ContinuousParameter.snap rounds an unstepped value.
    out: dict[str, Any] = {}
    for p in space.parameters:
        v = point[p.name]
        if isinstance(p, CategoricalParameter):
            out[p.name] = v
        elif (
            p.on_grid(float(v))
            if isinstance(p, DiscreteParameter) or p.step is not None
            else p.low <= float(v) <= p.high
        ):
            out[p.name] = p.snap(float(v))
        else:
            out[p.name] = v
    return out


def _pool_rows(pool: CandidatePool, entries: Sequence[Any]) -> np.ndarray:
    """Pool row ids of observations or pending entries: their ``candidate`` when they name
    one, else the row equal to their parameters (one exact lookup of just those points).

    Failed syntheses count too (the row was run); entries that cannot be encoded match none.
    """
    named: list[int] = []
    unnamed: list[Mapping[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        point = entry.get("parameters", entry)
        row = entry.get("candidate") if "parameters" in entry else None
        if isinstance(row, int) and not isinstance(row, bool) and 0 <= row < len(pool):
            named.append(row)
            continue
        try:
            pool.space.check_point(point)
        except OutsideSpaceError:
            continue
        unnamed.append(point)
    found = pool.locate(unnamed)
    return np.concatenate([np.asarray(named, dtype=np.int64), found[found >= 0]])


def _pool_exhausted(pool: CandidatePool) -> str:
    return (
        f"pool_exhausted: none of the {len(pool)} candidates is open (each is measured, pending, "
        "removed or outside the current ranges); add candidates to continue"
    )
