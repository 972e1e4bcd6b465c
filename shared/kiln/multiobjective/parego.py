"""ParEGO: random augmented-Chebyshev scalarisations of any number of objectives.

Knowles, "ParEGO: a hybrid algorithm with on-line landscape approximation for expensive
multiobjective optimization problems" (IEEE TEC, 2006): at each step draw a weight vector ``w``
on the simplex, scale every objective to [0, 1] over the observations, and model the scalar

    s(y) = min_j w_j y_j + rho * sum_j w_j y_j     (maximised; Knowles' minimised form negated)

with one Gaussian process (Knowles scales by the observed range; Kiln scales between the
reference point and the best value, see :class:`kiln.multiobjective.scorers.ParEGOScorer`). Weights come from a seeded simplex lattice (Knowles: the
``C(s + k - 1, k - 1)`` vectors with components in ``{0, 1/s, ..., 1}``) or a Dirichlet(1)
draw (uniform on the simplex).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from kiln.errors import KilnError

#: Knowles' augmentation weight (keeps weakly dominated points from tying with the front).
RHO = 0.05
WEIGHT_METHODS = ("lattice", "dirichlet")


def lattice_steps(k: int) -> int:
    """Knowles' lattice resolution: ``s = 10`` for 2 objectives, 4 for 3 (11 and 15 vectors), 3 above."""
    return {1: 1, 2: 10, 3: 4}.get(k, 3)


def simplex_lattice(k: int, s: int) -> np.ndarray:
    """Every weight vector with ``k`` components in ``{0, 1/s, ..., 1}`` summing to 1."""
    rows = [c for c in itertools.product(range(s + 1), repeat=k - 1) if sum(c) <= s]
    lattice = np.array([[*c, s - sum(c)] for c in rows], dtype=float) / s
    assert lattice.shape[0] == math.comb(s + k - 1, k - 1)
    return lattice


def draw_weights(k: int, rng: np.random.Generator, method: str = "lattice") -> np.ndarray:
    """One weight vector on the simplex, drawn with ``rng`` by ``method``.

    Raises:
        KilnError: On an unknown method.
    """
    if method == "lattice":
        lattice = simplex_lattice(k, lattice_steps(k))
        return lattice[rng.integers(lattice.shape[0])]
    if method == "dirichlet":
        return rng.dirichlet(np.ones(k))
    raise KilnError(f"weight method {method!r} is unknown; use one of {list(WEIGHT_METHODS)}")


#: Scaled values below this are clipped: a point far worse than the reference point in one
#: objective is simply bad, and its size would only stretch the GP's target.
UNIT_FLOOR = -1.0


def scale_unit(Y: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``Y`` scaled per column so ``low`` -> 0 and ``high`` -> 1 (a flat column by 1), clipped
    below at :data:`UNIT_FLOOR`."""
    span = np.where(high > low, high - low, 1.0)
    return np.maximum((np.asarray(Y, dtype=float) - low) / span, UNIT_FLOOR)


def chebyshev(Y_unit: np.ndarray, weights: np.ndarray, rho: float = RHO) -> np.ndarray:
    """Augmented Chebyshev scalarisation of unit-scaled, maximised objectives ``(n, k) -> (n,)``."""
    weighted = np.atleast_2d(Y_unit) * weights
    return weighted.min(axis=1) + rho * weighted.sum(axis=1)
