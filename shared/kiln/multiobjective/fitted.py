"""The models of a multi-objective campaign: one fitted GP per objective, one per constrained
measurement, and the probability that a candidate meets the outcome constraints.

Each model is a :class:`kiln.model.fitted.FittedModel` fitted on the results that measured its
quantity (:func:`kiln.model.fitted.fit_observations`: the same kernel, bounds, checks and
summary as a single-objective campaign). An outcome constraint on an objective reuses that
objective's GP; on a measurement, a GP of the measurement in its own unit. The probability of
meeting ``y op v`` is the normal CDF of the latent posterior on the model scale (a minimised
objective's model scale is negated, so its inequality flips there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

from kiln.errors import ModelFitError, NoObservationsError
from kiln.model.fitted import FittedModel, fit_observations, model_matches
from kiln.model.surrogate import GPSurrogate
from kiln.multiobjective.objectives import Objectives, parse_objectives
from kiln.multiobjective.observations import parse_pareto_observations
from kiln.multiobjective.outcomes import OutcomeConstraint
from kiln.objective import Objective
from kiln.observations import ParsedObservations
from kiln.space import SearchSpace


@dataclass
class ParetoModels:
    """One fitted model per objective (column order) and per constrained measurement.

    Attributes:
        objectives: The campaign's objectives.
        models: Their models, in the objectives' order.
        outcome_constraints: The constraints the probabilities are for.
        measurement_models: Per constrained measurement, its model; None where it could not
            be fitted yet (fewer than two distinct values): that constraint then counts as met.
        n_observations: Results used (those with at least one objective measured).
    """

    objectives: Objectives
    models: list[FittedModel]
    outcome_constraints: tuple[OutcomeConstraint, ...] = ()
    measurement_models: dict[str, FittedModel | None] = field(default_factory=dict)
    n_observations: int = 0

    @property
    def space(self) -> SearchSpace:
        """The space (and version) the models were fitted in."""
        return self.models[0].space

    def predict_model(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and latent stds ``(m, k)`` on the model scale at encoded ``X``."""
        pairs = [m.surrogate.predict(X) for m in self.models]
        return np.column_stack([p[0] for p in pairs]), np.column_stack([p[1] for p in pairs])

    def constraint_probabilities(self, X: np.ndarray) -> np.ndarray:
        """Per outcome constraint, the probability each encoded row meets it: ``(m, c)``."""
        X = np.atleast_2d(X)
        columns = [self._probability(c, X) for c in self.outcome_constraints]
        return np.column_stack(columns) if columns else np.ones((X.shape[0], 0))

    def probability_feasible(self, X: np.ndarray) -> np.ndarray | None:
        """The product of the outcome-constraint probabilities at ``X``; None without any."""
        if not self.outcome_constraints:
            return None
        return self.constraint_probabilities(X).prod(axis=1)

    def _probability(self, c: OutcomeConstraint, X: np.ndarray) -> np.ndarray:
        model = self._model_of(c.name)
        if model is None:
            return np.ones(X.shape[0])
        objective = model.objective
        bound = float(objective.to_model(c.value))
        at_least = (c.op == ">=") == (objective.sign > 0)  # model scale: f >= bound
        mu, sd = model.surrogate.predict(X)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, (mu - bound) / np.where(sd > 0, sd, 1.0), np.inf)
            z = np.where((sd > 0) | (mu >= bound), z, -np.inf)
        return ndtr(z if at_least else -z)

    def _model_of(self, name: str) -> FittedModel | None:
        if name in self.objectives.names:
            return self.models[self.objectives.names.index(name)]
        return self.measurement_models.get(name)

    def matches(
        self,
        space: SearchSpace,
        objectives: Objectives,
        observations: Sequence[Mapping[str, Any]],
        outcome_constraints: Sequence[OutcomeConstraint] | None = None,
    ) -> bool:
        """Whether these models were fitted to exactly these results (and, when given, these
        outcome constraints) in this space, so they can be reused instead of refitted."""
        if objectives != self.objectives or (
            outcome_constraints is not None
            and tuple(outcome_constraints) != self.outcome_constraints
        ):
            return False
        data = parse_pareto_observations(space, objectives, observations, self._measured())
        pairs = [(m, data.column(j)) for j, m in enumerate(self.models)]
        pairs += [(m, data.measurement(n)) for n, m in self.measurement_models.items() if m]
        return all(
            model_matches(m, space, m.objective, _encoded(space, d.points), d) for m, d in pairs
        )

    def _measured(self) -> list[str]:
        return list(self.measurement_models)

    def summary(self) -> dict[str, Any]:
        """What ``GET /model`` shows: per objective the single-objective summary (with its
        ``name``), and per outcome constraint what models it."""
        constraints = []
        for c in self.outcome_constraints:
            entry: dict[str, Any] = c.to_dict()
            if c.name in self.objectives.names:
                entry["model"] = "objective"
            elif self.measurement_models.get(c.name) is not None:
                entry["model"] = "measurement"
                entry["summary"] = self.measurement_models[c.name].summary()  # type: ignore[union-attr]
            else:
                entry["model"] = None
                entry["reason"] = "fewer than two distinct values measured: counted as met"
            constraints.append(entry)
        return {
            "objectives": [
                {"name": s.name, **m.summary()}
                for s, m in zip(self.objectives.specs, self.models, strict=True)
            ],
            "outcome_constraints": constraints,
            "n_observations": self.n_observations,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no pickle); :meth:`from_dict` rebuilds identical predictions."""
        return {
            "kind": "pareto",
            "objectives": self.objectives.to_list(),
            "models": [m.to_dict() for m in self.models],
            "outcome_constraints": [c.to_dict() for c in self.outcome_constraints],
            "measurement_models": {
                n: None if m is None else m.to_dict() for n, m in self.measurement_models.items()
            },
            "n_observations": self.n_observations,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> ParetoModels:
        """Rebuild from :meth:`to_dict` output without refitting.

        Raises:
            ModelFitError: When the payload is malformed.
        """
        try:
            return cls(
                objectives=parse_objectives({"objectives": payload["objectives"]}),
                models=[FittedModel.from_dict(m) for m in payload["models"]],
                outcome_constraints=tuple(
                    OutcomeConstraint(c["name"], c["op"], float(c["value"]))
                    for c in payload.get("outcome_constraints") or []
                ),
                measurement_models={
                    n: None if m is None else FittedModel.from_dict(m)
                    for n, m in (payload.get("measurement_models") or {}).items()
                },
                n_observations=int(payload.get("n_observations", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFitError(f"cannot rebuild the models from their payload: {exc!r}") from None


def fit_pareto_models(
    space: SearchSpace,
    objectives: Objectives,
    observations: Sequence[Mapping[str, Any]],
    *,
    outcome_constraints: Sequence[OutcomeConstraint] = (),
    random_state: int = 0,
    start: ParetoModels | None = None,
    n_restarts: int = 5,
) -> ParetoModels:
    """Fit one model per objective, and one per measurement an outcome constraint names.

    Args:
        space: The campaign's current search space.
        objectives: Its objectives.
        observations: Stored results (``parameters``, ``objectives``, ``measurements``,
            ``status``, ``sample_id``); failed ones are skipped.
        outcome_constraints: The campaign's outcome constraints.
        random_state: Seeds every fit's restarts.
        start: Models fitted earlier on this campaign to warm-start from (per model, when the
            encoding is unchanged).
        n_restarts: Optimiser restarts per model.

    Raises:
        NoObservationsError: When an objective has no measured value.
        ModelFitError: When an objective's model cannot be fitted (e.g. all its values equal).
        InvalidObservationError, OutsideSpaceError: For unusable results.
    """
    names = _constrained_measurements(objectives, outcome_constraints)
    data = parse_pareto_observations(space, objectives, observations, names)
    models = []
    for j, spec in enumerate(objectives.specs):
        warm = _warm(start, spec.name, space) if start is not None else None
        try:
            fitted = _fit(space, spec.objective, data.column(j), random_state, n_restarts, warm)
        except (ModelFitError, NoObservationsError) as exc:
            raise type(exc)(f"objective {spec.name!r}: {exc}") from None
        models.append(fitted)
    measurement_models: dict[str, FittedModel | None] = {}
    for name in names:
        warm = _warm(start, name, space) if start is not None else None
        try:
            measurement_models[name] = _fit(
                space,
                Objective(name),
                data.measurement(name),
                random_state,
                n_restarts,
                warm,
                minimum=2,
            )
        except (ModelFitError, NoObservationsError):
            measurement_models[name] = None
    used = int((~np.isnan(data.values)).any(axis=1).sum())
    return ParetoModels(objectives, models, tuple(outcome_constraints), measurement_models, used)


def _fit(
    space: SearchSpace,
    objective: Objective,
    data: ParsedObservations,
    random_state: int,
    n_restarts: int,
    start: GPSurrogate | None,
    *,
    minimum: int = 1,
) -> FittedModel:
    """:func:`kiln.model.fitted.fit_observations` on at least ``minimum`` results."""
    if len(data.points) < minimum:
        raise NoObservationsError(f"{len(data.points)} measured values; {minimum} needed")
    return fit_observations(
        space, objective, data, random_state=random_state, n_restarts=n_restarts, start=start
    )


def _warm(start: ParetoModels, name: str, space: SearchSpace) -> GPSurrogate | None:
    """The surrogate of ``name`` fitted earlier, when its encoding still fits ``space``."""
    model = start._model_of(name)
    if model is None or model.surrogate.length_scale_.shape != (space.dim,):
        return None
    return model.surrogate


def _constrained_measurements(
    objectives: Objectives, constraints: Sequence[OutcomeConstraint]
) -> list[str]:
    """The measurements (not objectives) the constraints name, in order, once each."""
    out: list[str] = []
    for c in constraints:
        if c.name not in objectives.names and c.name not in out:
            out.append(c.name)
    return out


def _encoded(space: SearchSpace, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
    return space.encode(points) if points else np.empty((0, space.dim))


__all__ = ["ParetoModels", "fit_pareto_models"]
