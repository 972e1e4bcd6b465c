"""Exact EHVI (kiln.multiobjective.ehvi) against Monte Carlo and a closed form; hypervolume vs moocore."""

from __future__ import annotations

import moocore
import numpy as np
import pytest
from scipy.stats import norm

from kiln.errors import KilnError
from kiln.multiobjective.ehvi import ehvi
from kiln.multiobjective.pareto import hypervolume, pareto_mask, pareto_ranks, reference_point

MC_SAMPLES = 100_000


def _mc_ehvi(mu: np.ndarray, sd: np.ndarray, front: np.ndarray, ref: np.ndarray, seed: int):
    """Mean and standard error of the hypervolume improvement over sampled outcomes (moocore)."""
    rng = np.random.default_rng(seed)
    Y = mu + sd * rng.standard_normal((MC_SAMPLES, mu.size))
    base = moocore.hypervolume(front, ref=ref, maximise=True)
    # the improvement of y is the hypervolume of y's box minus the part the front already has:
    # the front clipped to y (points not above ref add nothing)
    above = (ref < Y).all(axis=1)
    gain = np.zeros(MC_SAMPLES)
    for i in np.flatnonzero(above):
        y = Y[i]
        clipped = np.minimum(front, y)
        clipped = clipped[(clipped > ref).all(axis=1)]
        covered = moocore.hypervolume(clipped, ref=ref, maximise=True) if clipped.size else 0.0
        gain[i] = np.prod(y - ref) - covered
    assert base > 0
    return gain.mean(), gain.std() / np.sqrt(MC_SAMPLES)


@pytest.mark.parametrize("k", [2, 3])
def test_ehvi_equals_monte_carlo(k: int) -> None:
    rng = np.random.default_rng(k)
    front = rng.uniform(0.2, 1.0, (6, k))
    ref = np.zeros(k)
    mu = np.array([np.full(k, 0.7), rng.uniform(0.3, 1.1, k)])
    sd = np.array([np.full(k, 0.2), rng.uniform(0.05, 0.3, k)])
    exact = ehvi(mu, sd, front, ref)
    for c in range(2):
        mean, se = _mc_ehvi(mu[c], sd[c], front, ref, seed=10 * k + c)
        assert abs(exact[c] - mean) < 4 * se + 1e-9, (c, exact[c], mean, se)
        assert exact[c] > 0


def _psi(a: float, mu: float, sd: float) -> float:
    z = (mu - a) / sd
    return (mu - a) * norm.cdf(z) + sd * norm.pdf(z)


def test_ehvi_closed_form_for_one_point_front() -> None:
    p, ref = np.array([1.0, 2.0]), np.array([0.0, 0.5])
    mu, sd = (
        np.array([[1.2, 1.0], [0.3, 2.5], [-1.0, -1.0]]),
        np.array([[0.5, 0.3], [0.2, 1.0], [0.1, 0.1]]),
    )
    got = ehvi(mu, sd, p[None], ref)
    for c in range(3):
        whole = _psi(ref[0], mu[c, 0], sd[c, 0]) * _psi(ref[1], mu[c, 1], sd[c, 1])
        inside = (_psi(ref[0], mu[c, 0], sd[c, 0]) - _psi(p[0], mu[c, 0], sd[c, 0])) * (
            _psi(ref[1], mu[c, 1], sd[c, 1]) - _psi(p[1], mu[c, 1], sd[c, 1])
        )
        assert got[c] == pytest.approx(whole - inside, rel=1e-9, abs=1e-15)


def test_ehvi_without_uncertainty_is_the_improvement() -> None:
    front, ref = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), np.zeros(2)
    y = np.array([[2.5, 2.5], [0.5, 0.5]])
    got = ehvi(y, np.zeros_like(y), front, ref)
    base = hypervolume(front, ref)
    assert got[0] == pytest.approx(hypervolume(np.vstack([front, y[0]]), ref) - base)
    assert got[1] == 0.0


def test_ehvi_needs_two_or_three_objectives() -> None:
    with pytest.raises(KilnError, match="2 or 3 objectives"):
        ehvi(np.zeros((1, 4)), np.ones((1, 4)), np.ones((1, 4)), np.zeros(4))


def test_hypervolume_equals_moocore_minimising() -> None:
    rng = np.random.default_rng(3)
    for k in (2, 3, 4):
        F = rng.random((30, k))  # minimised
        ref = np.full(k, 1.1)
        assert hypervolume(-F, -ref) == pytest.approx(moocore.hypervolume(F, ref=ref))
    assert hypervolume(np.array([[1.0, 1.0], [2.0, 0.5]]), np.zeros(2)) == pytest.approx(1.5)
    assert hypervolume(np.array([[-1.0, 5.0]]), np.zeros(2)) == 0.0


def test_pareto_mask_and_ranks_skip_missing_objectives() -> None:
    Y = np.array([[1.0, 1.0], [2.0, 0.0], [0.5, 0.5], [5.0, np.nan]])
    assert pareto_mask(Y).tolist() == [True, True, False, False]
    assert pareto_ranks(Y).tolist() == [0, 0, 1, -1]


def test_reference_point_from_thresholds_or_nadir_minus_tenth_of_range() -> None:
    Y = np.array([[1.0, 4.0], [3.0, 2.0], [0.0, 0.0]])
    ref = reference_point(Y, np.array([np.nan, -1.0]))
    # objective 0: front nadir 1.0, observed range 3.0 -> 1.0 - 0.3
    assert ref.point == pytest.approx([0.7, -1.0])
    assert ref.derived.tolist() == [True, False]
