"""Outcome constraints on a single-objective campaign: the probability of meeting them, handed to
:func:`kiln.propose.propose` as its ``feasibility`` (which multiplies the acquisition by it).

The single-objective path stays as it is: :func:`outcome_feasibility` fits the constrained
quantities' models (:func:`kiln.multiobjective.fitted.fit_pareto_models`) and returns an object
with the one method ``propose`` uses, ``probability(X)``: the classifier's probability of a
successful synthesis (when there is one) times that of meeting every outcome constraint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.feasibility import FeasibilityModel
from kiln.multiobjective.fitted import ParetoModels, fit_pareto_models
from kiln.multiobjective.objectives import Objectives
from kiln.multiobjective.outcomes import OutcomeConstraint
from kiln.space import SearchSpace


@dataclass(frozen=True)
class ConstrainedFeasibility:
    """Success probability times the probability of meeting the outcome constraints.

    Attributes:
        models: The fitted models the outcome-constraint probabilities come from.
        success: The synthesis-success classifier, None when there is none yet.
    """

    models: ParetoModels
    success: FeasibilityModel | None = None

    def probability(self, X: np.ndarray) -> np.ndarray:
        """The product of the probabilities at the encoded rows ``X`` ``(m,)``."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        p = self.models.probability_feasible(X)
        p = np.ones(X.shape[0]) if p is None else p
        return p if self.success is None else p * self.success.probability(X)


def outcome_feasibility(
    space: SearchSpace,
    objectives: Objectives,
    observations: Sequence[Mapping[str, Any]],
    outcome_constraints: Sequence[OutcomeConstraint],
    *,
    success: FeasibilityModel | None = None,
    random_state: int = 0,
) -> ConstrainedFeasibility | FeasibilityModel | None:
    """What to pass as ``propose(feasibility=...)`` on a campaign with outcome constraints.

    Args:
        space: The campaign's current space.
        objectives: Its objectives (one, from :func:`kiln.campaign.objectives_of`).
        observations: Its results (singular ``"objective"`` values are read).
        outcome_constraints: Its outcome constraints (:func:`outcome_constraints_of`).
        success: The synthesis-success classifier, if any.
        random_state: Seeds the fits.

    Returns:
        ``success`` unchanged without outcome constraints; else a
        :class:`ConstrainedFeasibility`.

    Raises:
        NoObservationsError, ModelFitError: When the objective's model cannot be fitted (the
            caller then proposes without the constraints, as ``propose`` falls back).
    """
    if not outcome_constraints:
        return success
    models = fit_pareto_models(
        space,
        objectives,
        observations,
        outcome_constraints=outcome_constraints,
        random_state=random_state,
    )
    return ConstrainedFeasibility(models, success)
