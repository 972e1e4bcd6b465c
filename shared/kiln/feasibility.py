"""Feasibility: learn where syntheses fail, and weight the acquisition by the chance of success.

A failed synthesis (``"status": "failed"``: no pellet, nothing to measure) has no objective
value, so the regression surrogate cannot learn from it. A logistic-regression classifier
(scikit-learn) on the encoded space plus its squares (so a failing region can be a band or a
corner, not only a half-space) predicts the probability of success; the acquisition of a
candidate is multiplied by it ("constrained" BO, as in Gardner et al. 2014, with a probability of
feasibility in place of a GP classifier). The classifier is off until there is at least one
failure and one success.

Fitting imports scikit-learn lazily; evaluating a stored classifier needs numpy only, so the
HTTP intake can show it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.errors import OutsideSpaceError
from kiln.space import SearchSpace

FAILED = "failed"
#: Inverse regularisation strength of the classifier (scikit-learn's ``C``).
REGULARISATION_C = 1.0


def _features(X: np.ndarray) -> np.ndarray:
    X = np.atleast_2d(np.asarray(X, dtype=float))
    return np.hstack([X, X**2])


@dataclass(frozen=True)
class FeasibilityModel:
    """A fitted logistic classifier of synthesis success on the encoded space.

    Attributes:
        coef: Weights of the features ``[x, x**2]`` (encoded columns, then their squares).
        intercept: Bias.
        n_failed: Failed syntheses it learned from.
        n_succeeded: Successful ones.
    """

    coef: tuple[float, ...]
    intercept: float
    n_failed: int
    n_succeeded: int

    def probability(self, X: np.ndarray) -> np.ndarray:
        """Probability of success at encoded inputs ``X`` of shape ``(m, d)``."""
        z = _features(X) @ np.asarray(self.coef, dtype=float) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0))), dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no pickle)."""
        return {
            "type": "logistic_quadratic",
            "coef": list(self.coef),
            "intercept": self.intercept,
            "n_failed": self.n_failed,
            "n_succeeded": self.n_succeeded,
        }

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> FeasibilityModel:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            coef=tuple(float(c) for c in payload["coef"]),
            intercept=float(payload["intercept"]),
            n_failed=int(payload["n_failed"]),
            n_succeeded=int(payload["n_succeeded"]),
        )

    def summary(self) -> dict[str, Any]:
        """What reports show: the counts it learned from."""
        return {
            "type": "logistic_quadratic",
            "n_failed": self.n_failed,
            "n_succeeded": self.n_succeeded,
        }


def _any_value(values: Any) -> bool:
    """True when a multi-objective result's ``objectives`` holds at least one value."""
    return isinstance(values, Mapping) and any(v is not None for v in values.values())


def fit_feasibility(
    space: SearchSpace, results: Sequence[Mapping[str, Any]]
) -> FeasibilityModel | None:
    """Fit the classifier on successful and failed results; None until both kinds exist.

    Args:
        space: The campaign's current space (results outside its ranges still count).
        results: Result records: ``status`` ``"failed"`` (no objective) or a measured success.

    Returns:
        The fitted classifier, or None with no failure or no success yet.
    """
    points: list[Mapping[str, Any]] = []
    labels: list[int] = []
    for r in results:
        params = r.get("parameters")
        if not isinstance(params, Mapping):
            continue
        failed = r.get("status") == FAILED
        if not failed and r.get("objective") is None and not _any_value(r.get("objectives")):
            continue  # neither failed nor measured (a multi-objective result gives "objectives")
        try:
            space.check_point(params)
        except OutsideSpaceError:
            continue  # a parameter the space no longer encodes: nothing to learn from it
        points.append(params)
        labels.append(0 if failed else 1)
    n_failed = labels.count(0)
    n_succeeded = labels.count(1)
    if n_failed == 0 or n_succeeded == 0:
        return None
    from sklearn.linear_model import LogisticRegression  # only the worker fits

    clf = LogisticRegression(C=REGULARISATION_C, max_iter=1000)
    clf.fit(_features(space.encode(points)), np.asarray(labels))
    return FeasibilityModel(
        coef=tuple(float(c) for c in clf.coef_[0]),
        intercept=float(clf.intercept_[0]),
        n_failed=n_failed,
        n_succeeded=n_succeeded,
    )


def acquisition_floor(acquisition: str, y_train: np.ndarray) -> float:
    """The value below which an acquisition counts as worthless before weighting.

    EI and PI are non-negative already; UCB lives on the objective's model scale, so it is
    measured from the worst observation (a UCB below every measured value promises nothing).
    """
    if acquisition == "ucb" and np.size(y_train):
        return float(np.min(y_train))
    return 0.0


def weigh(values: np.ndarray, probability: np.ndarray, floor: float) -> np.ndarray:
    """Acquisition weighted by the probability of success: ``p * max(a - floor, 0)``."""
    return np.asarray(probability * np.maximum(np.asarray(values) - floor, 0.0), dtype=float)
