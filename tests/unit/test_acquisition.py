"""Acquisition functions (model scale, maximisation)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from kiln.acquisition import ei, pi, score, spread, ucb
from kiln.errors import KilnError


def test_ucb() -> None:
    np.testing.assert_allclose(ucb([1.0, 2.0], [0.5, 0.0]), [1.98, 2.0])
    np.testing.assert_allclose(ucb([1.0], [0.5], kappa=0.0), [1.0])


@pytest.mark.parametrize(("mu", "sd", "best"), [(0.0, 1.0, 0.5), (1.2, 0.3, 1.0), (-2, 0.1, 0)])
def test_ei_equals_the_integral_of_the_improvement(mu: float, sd: float, best: float) -> None:
    xi = 0.01
    expected, _ = integrate.quad(
        lambda f: max(f - best - xi, 0.0) * norm.pdf(f, mu, sd), mu - 12 * sd, mu + 12 * sd,
        points=[best + xi], limit=200,
    )  # fmt: skip
    assert ei([mu], [sd], best, xi)[0] == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert pi([mu], [sd], best, xi)[0] == pytest.approx(norm.sf(best + xi, mu, sd))


def test_zero_std_is_deterministic_improvement() -> None:
    np.testing.assert_allclose(ei([1.0, 0.0], [0.0, 0.0], best=0.5, xi=0.0), [0.5, 0.0])
    np.testing.assert_allclose(pi([1.0, 0.0], [0.0, 0.0], best=0.5, xi=0.0), [1.0, 0.0])


def test_ei_and_pi_grow_with_the_mean() -> None:
    mu = np.linspace(-1, 1, 11)
    sd = np.full(11, 0.3)
    assert np.all(np.diff(ei(mu, sd, 0.0)) > 0)
    assert np.all(np.diff(pi(mu, sd, 0.0)) > 0)
    assert np.all(ei(mu, sd, 0.0) >= 0)


def test_score_dispatch() -> None:
    mu, sd = np.array([0.1, 0.4]), np.array([0.2, 0.1])
    np.testing.assert_allclose(score("ucb", mu, sd, 0.3, kappa=2.0, spread=2.0), ucb(mu, sd, 2.0))
    np.testing.assert_allclose(score("ei", mu, sd, 0.3, xi=0.05, spread=1.0), ei(mu, sd, 0.3, 0.05))
    np.testing.assert_allclose(score("pi", mu, sd, 0.3, xi=0.05, spread=1.0), pi(mu, sd, 0.3, 0.05))
    r1 = score("random", mu, sd, 0.3, spread=1.0, rng=np.random.default_rng(4))
    r2 = score("random", mu, sd, 0.3, spread=1.0, rng=np.random.default_rng(4))
    assert r1.shape == (2,) and np.array_equal(r1, r2)
    with pytest.raises(KilnError, match="thompson"):
        score("thompson", mu, sd, 0.3, spread=1.0)


def test_xi_counts_in_units_of_the_targets_spread() -> None:
    mu, sd = np.array([0.1, 0.4]), np.array([0.2, 0.1])
    # the margin is xi times the spread: 0.05 * 2 = 0.1 on the model scale
    np.testing.assert_allclose(score("ei", mu, sd, 0.3, xi=0.05, spread=2.0), ei(mu, sd, 0.3, 0.1))
    np.testing.assert_allclose(score("pi", mu, sd, 0.3, xi=0.05, spread=2.0), pi(mu, sd, 0.3, 0.1))
    # a change of unit (targets x 1000) scales mu, sd, best and the spread alike: same scores
    for name in ("ei", "pi"):
        small = score(name, mu, sd, 0.3, xi=0.5, spread=spread([0.0, 0.3]))
        large = score(name, 1e3 * mu, 1e3 * sd, 300.0, xi=0.5, spread=spread([0.0, 300.0]))
        scale = 1e3 if name == "ei" else 1.0  # EI is an improvement, in the targets' unit
        np.testing.assert_allclose(large, scale * small, rtol=1e-9)
    assert spread([0.0, 0.3]) == pytest.approx(0.15)
    assert spread([2.0, 2.0]) == 1.0  # all equal: no spread to count in
