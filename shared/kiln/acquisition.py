"""Acquisition functions on the model scale, all to be maximised.

``mu`` and ``sd`` are the posterior mean and latent std of the (transformed, sign-adjusted)
target; ``best`` is the best observed model-scale target. See e.g. Brochu, Cora & de Freitas,
"A tutorial on Bayesian optimization of expensive cost functions" (2010), eqs. 3-4 and 7.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from kiln.errors import KilnError

NAMES = ("ucb", "ei", "pi", "random")


def ucb(mu: ArrayLike, sd: ArrayLike, kappa: float = 1.96) -> np.ndarray:
    """Upper confidence bound ``mu + kappa * sd``."""
    return np.asarray(mu, dtype=float) + kappa * np.asarray(sd, dtype=float)


def _z(mu: ArrayLike, sd: ArrayLike, best: float, xi: float) -> tuple[np.ndarray, ...]:
    improvement = np.asarray(mu, dtype=float) - best - xi
    s = np.asarray(sd, dtype=float)
    safe = np.where(s > 0, s, 1.0)
    z = np.where(s > 0, improvement / safe, np.where(improvement > 0, np.inf, -np.inf))
    return improvement, s, z


def ei(mu: ArrayLike, sd: ArrayLike, best: float, xi: float = 0.01) -> np.ndarray:
    """Expected improvement over ``best + xi``; equals ``max(mu - best - xi, 0)`` where sd=0."""
    improvement, s, z = _z(mu, sd, best, xi)
    with np.errstate(invalid="ignore"):
        value = improvement * norm.cdf(z) + s * norm.pdf(z)
    return np.where(s > 0, value, np.maximum(improvement, 0.0))


def pi(mu: ArrayLike, sd: ArrayLike, best: float, xi: float = 0.01) -> np.ndarray:
    """Probability of improving on ``best + xi``."""
    _, _, z = _z(mu, sd, best, xi)
    return np.asarray(norm.cdf(z), dtype=float)


def score(
    name: str,
    mu: ArrayLike,
    sd: ArrayLike,
    best: float,
    kappa: float = 1.96,
    xi: float = 0.01,
    *,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Evaluate the acquisition ``name`` (``"random"`` draws uniform scores from ``rng``).

    Raises:
        KilnError: On an unknown name.
    """
    if name == "ucb":
        return ucb(mu, sd, kappa)
    if name == "ei":
        return ei(mu, sd, best, xi)
    if name == "pi":
        return pi(mu, sd, best, xi)
    if name == "random":
        generator = rng if rng is not None else np.random.default_rng(0)
        return generator.uniform(size=np.shape(mu))
    raise KilnError(f"acquisition {name!r} is unknown; use one of {list(NAMES)}")
