"""Poison input: data the surrogate cannot model is a ModelFitError with a reason, never a crash,
never a non-finite number handed on, and proposals fall back to a space-filling design.

What actually breaks: scikit-learn fits all of these without complaint. The failures are ours:
identical targets give a flat model with nothing learnt; one value of 1e300 under log10 fits well
on the log scale, but its predictions and leave-one-out error overflow S/cm (inf, which the store
cannot keep as JSON); +-1e300 without a transform overflows the target normalisation, and every
prediction comes out NaN. 1e-300 under log10 is only -300 on the model scale and fits fine.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kiln.errors import ModelFitError
from kiln.model.fitted import fit_model
from kiln.model.surrogate import GPSurrogate
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter, DiscreteParameter
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

LOG = Objective("conductivity", unit="S/cm")
LINEAR = Objective("yield", unit="%", transform="none")

SPACE = SearchSpace(
    [
        DiscreteParameter("acid_wt_pct", [-22.5, -15.0, -7.5, 0.0, 7.5]),
        ContinuousParameter("temperature_c", 800, 1100, step=25),
        DiscreteParameter("time_min", [10, 30, 60, 480]),
    ]
)


def good_values(n: int) -> list[float]:
    rng = np.random.default_rng(0)
    return [float(10 ** rng.uniform(-6, -3)) for _ in range(n)]


def observations(values: list[float]) -> list[dict]:
    points = [
        {"acid_wt_pct": a, "temperature_c": t, "time_min": m}
        for a in (-22.5, -7.5, 7.5)
        for t in (800, 950, 1100)
        for m in (10, 480)
    ]
    assert len(values) <= len(points)
    return [
        {"sample_id": f"S{i}", "parameters": p, "objective": v}
        for i, (p, v) in enumerate(zip(points, values, strict=False))
    ]


def finite_json(value: object) -> str:
    """Encode as the store does: NaN and infinity are refused."""
    return json.dumps(value, allow_nan=False)


POISON = {
    "identical targets": (LOG, [1e-4] * 8, "targets are equal"),
    "1e300 among good values (log10)": (LOG, [*good_values(10), 1e300], "not a finite number"),
    "1e300 and 1e-300 (log10)": (LOG, [1e300, 1e-300] * 5, "not a finite number"),
    "+-1e300 without a transform": (LINEAR, [1e300, -1e300] * 5, "cannot be normalised"),
    "one 1e300 without a transform": (LINEAR, [*range(10), 1e300], "cannot be normalised"),
}


@pytest.mark.parametrize("case", list(POISON))
def test_poison_is_a_fit_failure_with_a_reason(case: str) -> None:
    objective, values, reason = POISON[case]
    with pytest.raises(ModelFitError, match=reason):
        fit_model(SPACE, objective, observations(values), n_restarts=0)


@pytest.mark.parametrize("case", list(POISON))
def test_poison_proposals_fall_back_to_space_filling(case: str) -> None:
    objective, values, _ = POISON[case]
    batch = propose(SPACE, objective, observations(values), [], Strategy(batch_size=4))
    assert batch.fallback is not None and batch.fallback.startswith("space_filling")
    assert batch.model is None and len(batch.proposals) == 4
    assert all(p.predicted_mean is None for p in batch.proposals)
    measured = {SPACE.key(o["parameters"]) for o in observations(values)}
    assert not measured & {SPACE.key(p.parameters) for p in batch.proposals}
    finite_json(batch.to_dict())


def test_a_tiny_value_under_log10_still_fits() -> None:
    # 1e-300 S/cm is -300 on the model scale: far out, but finite everywhere.
    model = fit_model(SPACE, LOG, observations([*good_values(10), 1e-300]), n_restarts=0)
    finite_json(model.summary())
    finite_json(model.to_dict())


def test_the_next_good_value_recovers_from_identical_targets() -> None:
    flat = [1e-4] * 8
    with pytest.raises(ModelFitError):
        fit_model(SPACE, LOG, observations(flat), n_restarts=0)
    recovered = observations([*flat, 3e-4])
    model = fit_model(SPACE, LOG, recovered, n_restarts=0)
    assert model.n_observations == 9
    batch = propose(SPACE, LOG, recovered, [], Strategy(batch_size=3), model=model)
    assert batch.fallback is None and batch.model is model


def test_a_caller_can_ask_for_the_fallback() -> None:
    # The worker does when the refit already failed on exactly this data: no second failed fit.
    obs = observations(good_values(12))
    batch = propose(SPACE, LOG, obs, [], Strategy(batch_size=3), fallback="space_filling: known")
    assert batch.fallback == "space_filling: known" and batch.model is None
    assert [p.predicted_mean for p in batch.proposals] == [None] * 3
    normal = propose(SPACE, LOG, obs, [], Strategy(batch_size=3))
    assert normal.fallback is None


def test_the_surrogate_refuses_an_overflowing_normalisation() -> None:
    X = np.linspace(0, 1, 6)[:, None]
    with pytest.raises(ModelFitError, match="overflows"):
        GPSurrogate(n_restarts=0).fit(X, np.array([1.7e308, -1.7e308] * 3))
    fitted = GPSurrogate(n_restarts=0).fit(X, np.array([0.0, 1.0, 0.5, 0.2, 0.9, 0.4]))
    assert math.isfinite(fitted.log_marginal_likelihood_)
