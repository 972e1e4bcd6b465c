"""Feasible candidates: the grid's feasible points, or feasible samples by rejection (a cap, then
a clear error), equalities over continuous parameters without a step solved exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from kiln.errors import InfeasibleConstraintsError
from kiln.parameters import Point, Value

if TYPE_CHECKING:
    from kiln.space import SearchSpace

#: Rejection sampling draws at most this many rounds of ``n_samples`` points.
MAX_SAMPLE_ROUNDS = 20


def feasible_candidates(
    space: SearchSpace, rng: np.random.Generator, max_grid: int, n_samples: int
) -> list[Point]:
    """The candidates of :meth:`SearchSpace.candidates` that satisfy the space's constraints.

    A grid is filtered by the vectorised mask. Otherwise rounds of ``n_samples`` seeded samples
    are drawn (equalities repaired, see :meth:`ConstraintSet.repair`), filtered and de-duplicated
    until ``n_samples`` feasible points are found or :data:`MAX_SAMPLE_ROUNDS` rounds are spent.

    Raises:
        InfeasibleConstraintsError: When no candidate is feasible, naming the constraints.
    """
    cs = space.constraints
    if space.is_enumerable(max_grid):
        grid = space.grid(max_grid)
        keep = cs.mask(space.encode(grid))
        out = [p for p, k in zip(grid, keep, strict=True) if k]
        if not out:
            raise InfeasibleConstraintsError(
                f"none of the {len(grid)} grid points satisfies {cs.describe()}; relax them or "
                "widen the ranges"
            )
        return out
    seen: set[tuple[Value, ...]] = set()
    found: list[Point] = []
    for _ in range(MAX_SAMPLE_ROUNDS):
        for point in _feasible_sample(space, n_samples, rng):
            key = space.key(point)
            if key not in seen:
                seen.add(key)
                found.append(point)
        if len(found) >= n_samples:
            break
    if not found:
        raise InfeasibleConstraintsError(
            f"none of {MAX_SAMPLE_ROUNDS * n_samples} random points satisfies {cs.describe()}; "
            "relax them or widen the ranges"
        )
    return found[:n_samples]


def _feasible_sample(space: SearchSpace, n: int, rng: np.random.Generator) -> list[Point]:
    cs = space.constraints
    points = space.sample(n, rng)
    X = space.encode(points)
    if not cs.needs_repair():
        return [points[i] for i in np.flatnonzero(cs.mask(X))]
    X, ok = cs.repair(X)
    repaired = [space.decode(X[i]) for i in np.flatnonzero(ok)]
    if not repaired:
        return []
    keep = cs.mask_points(repaired)
    return [p for p, k in zip(repaired, keep, strict=True) if k]


def check_satisfiable(space: SearchSpace, random_state: int = 0) -> None:
    """Raise :class:`InfeasibleConstraintsError` when the constraints leave no candidate."""
    if space.constraints:
        space.candidates(np.random.default_rng(random_state))
