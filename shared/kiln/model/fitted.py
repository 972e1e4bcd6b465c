"""A surrogate fitted to one campaign's observations, with what it reports (``GET /model``).

:func:`fit_model` parses the observations, fits the GP (:mod:`kiln.model.surrogate`) and finds the
best observed and best predicted points; :class:`FittedModel` serialises to plain JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.errors import ModelFitError, NoObservationsError
from kiln.measurement_error import model_scale_variance
from kiln.model.surrogate import GPSurrogate, length_scale_bounds
from kiln.objective import Objective
from kiln.observations import ParsedObservations, all_equal, parse_observations
from kiln.space import SearchSpace
from kiln.suspects import suspects as find_suspects


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
        sample_ids: The training results' ids, in training order (empty for a model stored
            before they were kept).
    """

    space: SearchSpace
    objective: Objective
    surrogate: GPSurrogate
    best_observed: dict[str, Any]
    best_predicted: dict[str, Any]
    sample_ids: list[str | None] = field(default_factory=list)

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

    def leave_one_out(self, residuals: np.ndarray | None = None) -> dict[str, Any]:
        """Leave-one-out error in the objective's own unit (closed form, no refits).

        Each observation is predicted by the posterior of all the others (R&W eq. 5.12); the
        predictions are mapped back to the original unit before they are compared.

        Returns:
            ``{"rmse", "mae", "unit", "rmse_model_scale", "n"}``; under ``log10`` the model-scale
            RMSE is in decades (0.1 means about 26% off). ``residuals``: the model-scale
            leave-one-out residuals when the caller has them already.
        """
        s = self.surrogate
        residuals = s.loo_residuals() if residuals is None else residuals
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
        # one inversion of K for the error, its summary and the suspects (O(n^3) each)
        residuals, variances = s.posterior_.leave_one_out()
        loo = s.y_std_ * residuals  # model scale, as s.loo_residuals()
        hyperparameters: dict[str, Any] = {
            "length_scales": self.space.length_scales_in_units(s.length_scale_),
            "length_scales_unit_cube": [float(v) for v in s.length_scale_],
            "signal_variance": s.constant_,
            "noise_level": s.noise_level_,
            "noise_std_model_scale": s.noise_std_model_,
            "target_mean_model_scale": s.y_mean_,
            "target_std_model_scale": s.y_std_,
        }
        factors = self.space.length_scale_factors()
        if factors:
            # a log-scale parameter's length scale is a ratio of values, not a difference
            hyperparameters["length_scale_factors"] = factors
        return {
            "kernel": str(s.kernel_),
            "hyperparameters": hyperparameters,
            "log_marginal_likelihood": s.log_marginal_likelihood_,
            "leave_one_out_rmse_model_scale": float(np.sqrt(np.mean(loo**2))),
            "leave_one_out": self.leave_one_out(loo),
            "n_observations": self.n_observations,
            "space_version": self.space_version,
            "objective": self.objective.to_dict(),
            "best_observed": dict(self.best_observed),
            "best_predicted": dict(self.best_predicted),
            "suspects": self.suspects((residuals, variances)),
        }

    def suspects(self, loo: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict[str, Any]]:
        """Results the others cannot explain (:mod:`kiln.suspects`), most extreme first."""
        ids = self.sample_ids or [None] * self.n_observations
        return find_suspects(self.surrogate.posterior_, ids, loo=loo)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no pickle); :meth:`from_dict` rebuilds identical predictions."""
        return {
            "space_version": self.space_version,
            "space": self.space.to_dict(),
            "objective": self.objective.to_dict(),
            "surrogate": self.surrogate.to_dict(),
            "best_observed": dict(self.best_observed),
            "best_predicted": dict(self.best_predicted),
            "sample_ids": list(self.sample_ids),
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
                sample_ids=list(payload.get("sample_ids") or []),
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
    data = parse_observations(space, objective, observations)
    start = None
    if warm_start is not None and warm_start.surrogate.length_scale_.shape == (space.dim,):
        start = warm_start.surrogate
    return fit_observations(
        space, objective, data, random_state=random_state, n_restarts=n_restarts, start=start
    )


def fit_observations(
    space: SearchSpace,
    objective: Objective,
    data: ParsedObservations,
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
    if y.size > 1 and all_equal(y):
        raise ModelFitError(
            f"all {y.size} targets are equal ({data.values[0]!r}): there is nothing to learn "
            "until a different value is measured"
        )
    # One-hot columns get their own length-scale bounds (kiln.model.surrogate explains the range).
    bounds = length_scale_bounds([label is not None for _, label in space.columns()])
    surrogate = GPSurrogate(
        n_restarts=n_restarts, random_state=random_state, length_scale_bounds=bounds
    ).fit(
        space.encode(data.points),
        y,
        start=start,
        noise_var=model_scale_variance(objective, data.values, data.sds),
    )
    # Overflow is checked for below, on what the model reports, rather than warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        return _reportable(space, objective, data, y, surrogate, random_state)


def _reportable(
    space: SearchSpace,
    objective: Objective,
    data: ParsedObservations,
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
    model = FittedModel(
        space, objective, surrogate, best_observed, best_predicted, list(data.sample_ids)
    )
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


def model_matches(
    model: FittedModel,
    space: SearchSpace,
    objective: Objective,
    X: np.ndarray,
    data: ParsedObservations,
) -> bool:
    """Whether ``model`` was fitted to exactly these observations (inputs, targets and stated
    errors) in this space and objective, so it can be reused instead of refitted."""
    s = model.surrogate
    noise_var = model_scale_variance(objective, data.values, data.sds)
    return (
        model.space == space
        and model.objective == objective
        and s.X_train_.shape == X.shape
        and bool(np.array_equal(s.X_train_, X))
        and bool(np.array_equal(s.y_train_, objective.to_model(data.values)))
        and (
            noise_var is None
            if s.noise_var_ is None
            else noise_var is not None and bool(np.array_equal(s.noise_var_, noise_var))
        )
    )


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
