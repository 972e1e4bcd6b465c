"""Acquisition functions on the model scale, all to be maximised.

``mu`` and ``sd`` are the posterior mean and latent std of the (transformed, sign-adjusted)
target; ``best`` is the best observed model-scale target. See e.g. Brochu, Cora & de Freitas,
"A tutorial on Bayesian optimization of expensive cost functions" (2010), eqs. 3-4 and 7.

EI's and PI's margin ``xi`` is relative: :func:`score` counts an improvement from
``best + xi * spread``, where ``spread`` is the std of the training targets on the model scale
(:func:`spread`, the unit the normalised GP works in). So ``xi = 0.01`` asks for a hundredth of
the targets' spread whatever their unit (S/cm or mS/cm, decades under ``log10``), as UCB's
``kappa`` counts posterior standard deviations. :func:`ei` and :func:`pi` take the absolute
margin.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from kiln.errors import KilnError
from kiln.model.posterior import normalisation
from kiln.strategy import ACQUISITIONS


def spread(y_train: ArrayLike) -> float:
    """The unit of ``xi``: the std of the training targets on the model scale (1 if all equal).

    The same number the surrogate normalises its targets by (``GPSurrogate.y_std_``).
    """
    return normalisation(np.asarray(y_train, dtype=float))[1]


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
    """Expected improvement over ``best + xi`` (``xi`` absolute, on the model scale).

    Equals ``max(mu - best - xi, 0)`` where ``sd = 0``.
    """
    improvement, s, z = _z(mu, sd, best, xi)
    with np.errstate(invalid="ignore"):
        value = improvement * norm.cdf(z) + s * norm.pdf(z)
    return np.where(s > 0, value, np.maximum(improvement, 0.0))


def pi(mu: ArrayLike, sd: ArrayLike, best: float, xi: float = 0.01) -> np.ndarray:
    """Probability of improving on ``best + xi`` (``xi`` absolute, on the model scale)."""
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
    spread: float,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Evaluate the acquisition ``name`` (``"random"`` draws uniform scores from ``rng``).

    Args:
        name: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``.
        mu: Posterior mean on the model scale.
        sd: Posterior latent std on the model scale.
        best: Best observed model-scale target.
        kappa: UCB's weight of the std.
        xi: EI's and PI's margin, relative to ``spread``: the improvement counts from
            ``best + xi * spread``.
        spread: The std of the training targets on the model scale (:func:`spread`).
        rng: Randomness for ``"random"``.

    Raises:
        KilnError: On an unknown name.
    """
    if name == "ucb":
        return ucb(mu, sd, kappa)
    if name == "ei":
        return ei(mu, sd, best, xi * spread)
    if name == "pi":
        return pi(mu, sd, best, xi * spread)
    if name == "random":
        generator = rng if rng is not None else np.random.default_rng(0)
        return generator.uniform(size=np.shape(mu))
    raise KilnError(f"acquisition {name!r} is unknown; use one of {list(ACQUISITIONS)}")
