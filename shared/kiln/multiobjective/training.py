"""Which results the models of a multi-objective campaign train on when there are too many.

The shares and the limit are :mod:`kiln.training`'s (one GP per objective costs what one
objective's does, O(n³) each); only "best" differs. Here the best results are those of the lowest
non-dominated ranks on the model scale (every objective maximised there,
:func:`kiln.multiobjective.pareto.pareto_ranks`): the measured front first, then the front
without it, and so on, rank by rank until the best share is full (the last rank taken may be cut,
in log order). A result missing an objective has no rank; like any other it can still be kept
for being recent or sampled. Values the fit would refuse (not finite, not positive under log10,
an unknown objective) are kept first, so a subset never hides what the full fit would report.

Failed syntheses (``status: failed``, as a pool campaign's observations carry them) train no
model: above the limit they are left out before choosing, so a batch chooses from a pool's
observations the subset a refit chose from the measured results.

Everything else (the fronts and the reference point a batch improves on, the report) keeps every
result: only the fits are bounded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kiln.errors import InvalidObservationError
from kiln.multiobjective.objectives import Objectives
from kiln.multiobjective.pareto import pareto_ranks
from kiln.training import (
    BEST_SHARE,
    DEFAULT_LIMIT,
    RECENT_SHARE,
    TrainingSet,
    bounded_training_set,
)

__all__ = ["select_pareto_training_set"]


def select_pareto_training_set(
    observations: Sequence[Mapping[str, Any]],
    objectives: Objectives,
    *,
    limit: int = DEFAULT_LIMIT,
    best_share: float = BEST_SHARE,
    recent_share: float = RECENT_SHARE,
    seed: int = 0,
) -> TrainingSet:
    """Choose at most ``limit`` results to fit the objectives' models on (module docstring).

    With at most ``limit`` observations every one is kept, in order (the input unchanged).

    Args:
        observations: ``{"parameters": ..., "objectives": {name: value}, ...}`` in the order
            they were stored.
        objectives: The campaign's objectives (their goals and transforms give the model scale).
        limit: The most results to keep (at least 10).
        best_share: Share of ``limit`` kept for the results of the lowest Pareto ranks.
        recent_share: Share of ``limit`` kept for the most recent ones.
        seed: Seeds the uniform draw from the rest.

    Raises:
        KilnError: For a limit below 10 or shares that do not leave room for a sample.
    """

    def best_first(chosen_from: Sequence[Mapping[str, Any]]) -> np.ndarray:
        Y, refused = _model_scale(chosen_from, objectives)
        ranks = pareto_ranks(Y)
        ranked = np.flatnonzero(ranks >= 0)
        by_rank = ranked[np.argsort(ranks[ranked], kind="stable")]  # ties: log order
        return np.concatenate([np.flatnonzero(refused), by_rank])

    return bounded_training_set(
        observations,
        best_first,
        limit=limit,
        best_share=best_share,
        recent_share=recent_share,
        seed=seed,
    )


def _model_scale(
    observations: Sequence[Mapping[str, Any]], objectives: Objectives
) -> tuple[np.ndarray, np.ndarray]:
    """The objectives on the model scale ``(n, k)`` (NaN where missing) and a mask of the rows the
    fit would refuse (those rows are NaN throughout)."""
    Y = np.full((len(observations), len(objectives)), np.nan)
    refused = np.zeros(len(observations), dtype=bool)
    for i, obs in enumerate(observations):
        row = obs.get("objectives")
        if row is None and len(objectives) == 1 and obs.get("objective") is not None:
            row = {objectives.names[0]: obs["objective"]}
        if row is None:
            continue
        if not isinstance(row, Mapping) or set(row) - set(objectives.names):
            refused[i] = True
            continue
        try:
            for j, spec in enumerate(objectives.specs):
                if row.get(spec.name) is not None:
                    value = spec.objective.check_value(row[spec.name])
                    Y[i, j] = float(spec.objective.to_model(value))
        except InvalidObservationError:
            refused[i] = True
            Y[i] = np.nan
    return Y, refused
