"""Read a stored model without scikit-learn: predictions, acquisition values and 2-D slices.

A worker stores each fitted model as plain JSON (:meth:`kiln.model.fitted.FittedModel.to_dict`:
hyperparameters and training arrays). :class:`ModelReader` rebuilds the exact posterior from
it with numpy and scipy only (:mod:`kiln.model.posterior`), so the HTTP intake answers "what does the
model say here?" in milliseconds, without a job and without importing scikit-learn. The numbers
equal the worker's: the same posterior formulas, the same hyperparameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln import acquisition as acq
from kiln import encoding
from kiln.errors import KilnError, ModelFitError, SpaceError
from kiln.feasibility import FeasibilityModel, acquisition_floor, weigh
from kiln.measurement_error import checked_noise_var
from kiln.model.posterior import JITTER, GPPosterior, normalisation
from kiln.objective import Objective
from kiln.parameters import CategoricalParameter, ContinuousParameter
from kiln.space import SearchSpace
from kiln.strategy import Strategy

#: Grid points per axis of a slice along a continuous parameter without a step.
SLICE_POINTS = 41
#: Most grid points per axis (a fine step is thinned to this many).
SLICE_MAX_POINTS = 101
#: Most points one prediction request may ask for.
MAX_POINTS = 10_000


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass
class ModelReader:
    """A stored model, rebuilt for prediction.

    Attributes:
        space: The space the model encodes inputs with.
        objective: The objective (its transform defines the model scale).
        posterior: The exact GP posterior with the stored hyperparameters.
        y_mean: Target normalisation mean (model scale).
        y_std: Target normalisation std (model scale).
        y_train: Training targets (model scale).
        best_observed: The best measured sample, as the model summary reports it.
        feasibility: The classifier of synthesis success, when there is one.
    """

    space: SearchSpace
    objective: Objective
    posterior: GPPosterior
    y_mean: float
    y_std: float
    y_train: np.ndarray
    best_observed: dict[str, Any]
    feasibility: FeasibilityModel | None = None

    @classmethod
    def of_objective(cls, state: Mapping[str, Any], name: str | None = None) -> ModelReader:
        """Rebuild one objective's model from a stored state, single- or multi-objective.

        A multi-objective state (``ParetoModels.to_dict()``, ``kind`` "pareto") holds one
        single-objective model state per objective: ``name`` picks it and is required. A
        single-objective state is the model itself: ``name`` may be omitted or must be its
        objective's.

        Raises:
            SpaceError: (field ``objective``) For a missing or unknown name.
            ModelFitError: When the state is malformed.
        """
        if state.get("kind") != "pareto":
            reader = cls.from_state(state)
            if name is not None and name != reader.objective.name:
                raise SpaceError(
                    f"unknown objective {name!r}; this campaign has {[reader.objective.name]}",
                    field="objective",
                )
            return reader
        try:
            names = [str(o["name"]) for o in state["objectives"]]
            models = list(state["models"])
        except (KeyError, TypeError) as exc:
            raise ModelFitError(
                f"cannot rebuild the models from their stored state: {exc!r}"
            ) from None
        if name is None:
            raise SpaceError(
                f"this campaign has several objectives; name one of {names}", field="objective"
            )
        if name not in names:
            raise SpaceError(
                f"unknown objective {name!r}; this campaign has {names}", field="objective"
            )
        return cls.from_state(models[names.index(name)])

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ModelReader:
        """Rebuild from a stored model state (``FittedModel.to_dict()``, maybe ``feasibility``).

        Raises:
            ModelFitError: When the state is malformed.
        """
        try:
            sur = state["surrogate"]
            X = np.asarray(sur["X_train"], dtype=float)
            y = np.asarray(sur["y_train"], dtype=float)
            mean, std = normalisation(y)
            noise_var = checked_noise_var(sur.get("noise_var"), y.shape[0])
            posterior = GPPosterior(
                float(sur["constant"]),
                np.asarray(sur["length_scale"], dtype=float),
                float(sur["noise_level"]) + float(sur.get("jitter", JITTER)),
                X,
                (y - mean) / std,
                None if noise_var is None else noise_var / std**2,
            )
            feas = state.get("feasibility")
            return cls(
                space=SearchSpace.from_dict(state["space"]),
                objective=Objective.from_dict(state["objective"]),
                posterior=posterior,
                y_mean=mean,
                y_std=std,
                y_train=y,
                best_observed=dict(state.get("best_observed") or {}),
                feasibility=FeasibilityModel.from_dict(feas) if feas else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFitError(
                f"cannot rebuild the model from its stored state: {exc!r}"
            ) from None

    def model_scale(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent posterior mean and std on the model scale at encoded inputs ``X``."""
        mu, var = self.posterior.mean_var(np.atleast_2d(X))
        return self.y_mean + self.y_std * mu, self.y_std * np.sqrt(var)

    def evaluate(
        self, points: Sequence[Mapping[str, Any]], strategy: Strategy | None
    ) -> dict[str, np.ndarray]:
        """Mean and std (objective's unit), acquisition (model scale) and success probability.

        The acquisition is the one a batch would use for its first pick: weighted by the
        probability of success when a feasibility classifier exists. Without a strategy (one
        objective of several, whose batches score all objectives together) it is NaN.

        Raises:
            OutsideSpaceError: For points the space cannot encode.
        """
        for point in points:
            self.space.check_point(point)
        X = self.space.encode(points)
        mu, sd = self.model_scale(X)
        mean, std = self.objective.from_model(mu, sd)
        best = float(np.max(self.y_train))
        if strategy is None or strategy.acquisition == "random":
            value = np.full(mu.shape, np.nan)
        else:
            value = acq.score(
                strategy.acquisition,
                mu,
                sd,
                best,
                strategy.kappa,
                strategy.xi,
                spread=acq.spread(self.y_train),
            )
        probability = np.ones(mu.shape)
        if self.feasibility is not None:
            probability = self.feasibility.probability(X)
            if strategy is not None and strategy.acquisition != "random":
                floor = acquisition_floor(strategy.acquisition, self.y_train)
                value = weigh(value, probability, floor)
        return {
            "mean": np.atleast_1d(mean),
            "std": np.atleast_1d(std),
            "acquisition": value,
            "probability_of_success": probability,
        }

    def predict(
        self, points: Sequence[Mapping[str, Any]], strategy: Strategy | None
    ) -> list[dict[str, Any]]:
        """One JSON-ready row per point: parameters, mean, std, acquisition value (None
        without a strategy)."""
        if len(points) > MAX_POINTS:
            raise KilnError(f"{len(points)} points; ask for at most {MAX_POINTS} at a time")
        out = self.evaluate(points, strategy)
        rows = []
        for i, point in enumerate(points):
            row = {
                "parameters": dict(point),
                "mean": _finite_or_none(out["mean"][i]),
                "std": _finite_or_none(out["std"][i]),
                "acquisition_value": _finite_or_none(out["acquisition"][i]),
            }
            if self.feasibility is not None:
                row["probability_of_success"] = float(out["probability_of_success"][i])
            rows.append(row)
        return rows

    def axis(
        self, name: str, points: int | None = None, space: SearchSpace | None = None
    ) -> list[Any]:
        """The values a slice visits along one parameter: its grid, or an even spacing (even in
        ``ln x`` on a log scale, as the model sees it).

        ``space`` gives the ranges (default: the model's own, those it was fitted in); labels
        always come from the model's space, the only ones it can encode.

        Raises:
            SpaceError: For an unknown parameter name.
        """
        space = space or self.space
        param = next((p for p in space.parameters if p.name == name), None)
        if param is None:
            raise SpaceError(f"unknown parameter {name!r}; this space has {space.names}")
        if isinstance(param, CategoricalParameter):
            fitted = self.space[name]
            return list(getattr(fitted, "values", param.values))
        if isinstance(param, ContinuousParameter) and param.step is None:
            n = points or SLICE_POINTS
            spacing = np.geomspace if param.scale == "log" else np.linspace
            return [float(v) for v in spacing(param.low, param.high, n)]
        values = list(param.grid_values())
        cap = points or SLICE_MAX_POINTS
        if len(values) > cap:
            picks = np.unique(np.linspace(0, len(values) - 1, cap).round().astype(int))
            values = [values[i] for i in picks]
        return values

    def slice(
        self,
        x: str,
        y: str,
        strategy: Strategy | None,
        fixed: Mapping[str, Any] | None = None,
        points: int | None = None,
        ranges: SearchSpace | None = None,
    ) -> dict[str, Any]:
        """A 2-D slice of the mean, std and acquisition, like the study's Figure 2.

        ``x`` and ``y`` vary over their grids (or an even spacing) in ``ranges``: the
        campaign's current space, which a PATCH may have changed since the fit (default: the
        model's space). Every other parameter is held at ``fixed`` or else at the best observed
        sample's value. Without a strategy (one objective of several) ``acquisition`` and
        ``acquisition_name`` are None.

        Returns:
            ``{"x": {"name", "unit", "values"}, "y": {...}, "fixed": {...}, "mean": rows,
            "std": rows, "acquisition": rows, "probability_of_success": rows | None,
            "observations": [...], "unit": ..., "best_observed": {...}}`` where ``rows[j][i]``
            is at ``(x.values[i], y.values[j])``; ``observations`` are the training points
            (``x``, ``y``, objective) and whether they lie on the slice.

        Raises:
            SpaceError: For unknown or equal axes, or a fixed value for an axis.
            OutsideSpaceError: For fixed values the space cannot encode.
        """
        xs, ys, held = self._axes_and_held(x, y, fixed, points, ranges)
        grid = [{**held, x: vx, y: vy} for vy in ys for vx in xs]
        out = self.evaluate(grid, strategy)
        shape = (len(ys), len(xs))

        def rows(values: np.ndarray) -> list[list[float | None]]:
            return [[_finite_or_none(v) for v in row] for row in values.reshape(shape)]

        observations = self._slice_observations(x, y, xs[0], ys[0], held)
        return {
            "x": {"name": x, "unit": self._unit(x), "values": xs},
            "y": {"name": y, "unit": self._unit(y), "values": ys},
            "fixed": held,
            "objective": self.objective.to_dict(),
            "acquisition_name": None if strategy is None else strategy.acquisition,
            "mean": rows(out["mean"]),
            "std": rows(out["std"]),
            "acquisition": None if strategy is None else rows(out["acquisition"]),
            "probability_of_success": rows(out["probability_of_success"])
            if self.feasibility is not None
            else None,
            "observations": observations,
            "best_observed": self.best_observed,
        }

    def _axes_and_held(
        self,
        x: str,
        y: str,
        fixed: Mapping[str, Any] | None,
        points: int | None,
        ranges: SearchSpace | None,
    ) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """The slice's two axes and the values it holds every other parameter at."""
        if x == y:
            raise SpaceError("x and y must be two different parameters", field="y")
        xs, ys = self.axis(x, points, ranges), self.axis(y, points, ranges)
        fixed = dict(fixed or {})
        for name in (x, y):
            if name in fixed:
                raise SpaceError(f"{name!r} is an axis of the slice; do not fix it", field=name)
        unknown = sorted(set(fixed) - set(self.space.names))
        if unknown:
            raise SpaceError(
                f"unknown parameter {unknown[0]!r}; this space has {self.space.names}",
                field=unknown[0],
            )
        base = dict(self.best_observed.get("parameters") or {})
        held: dict[str, Any] = {}
        for p in self.space.parameters:
            if p.name in (x, y):
                continue
            if p.name in fixed:
                held[p.name] = fixed[p.name]
            elif p.name in base:
                held[p.name] = base[p.name]
            else:
                held[p.name] = self.axis(p.name, space=ranges)[0]
        return xs, ys, held

    def _slice_observations(
        self, x: str, y: str, x0: Any, y0: Any, held: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The training points' ``x``, ``y`` and objective, and whether they lie on the slice."""
        X = self.posterior.X
        observed, _ = self.objective.from_model(self.y_train, np.zeros_like(self.y_train))
        held_x = self.space.encode([{**held, x: x0, y: y0}])[0]
        cols = self._columns(x) + self._columns(y)
        others = np.ones(X.shape[1], bool)
        others[cols] = False
        on_slice = np.all(np.isclose(X[:, others], held_x[others], atol=1e-9), axis=1)
        decoded = [self._raw(row) for row in X]
        return [
            {
                "x": decoded[i][x],
                "y": decoded[i][y],
                "objective": float(np.atleast_1d(observed)[i]),
                "on_slice": bool(on_slice[i]),
            }
            for i in range(X.shape[0])
        ]

    def _raw(self, row: np.ndarray) -> dict[str, Any]:
        # Like SearchSpace.decode, without snapping: old data may lie outside today's ranges.
        point: dict[str, Any] = {}
        col = 0
        for p in self.space.parameters:
            if isinstance(p, CategoricalParameter):
                point[p.name] = p.values[int(np.argmax(row[col : col + len(p.values)]))]
                col += len(p.values)
            else:
                point[p.name] = round(float(encoding.from_unit(p, row[col])), 9)
                col += 1
        return point

    def _unit(self, name: str) -> str | None:
        param = next(p for p in self.space.parameters if p.name == name)
        return getattr(param, "unit", None)

    def _columns(self, name: str) -> list[int]:
        start = 0
        for p in self.space.parameters:
            width = len(p.values) if isinstance(p, CategoricalParameter) else 1
            if p.name == name:
                return list(range(start, start + width))
            start += width
        return []
