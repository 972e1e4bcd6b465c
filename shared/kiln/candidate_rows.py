"""Which candidate rows are measured or pending: on a grid, on sampled candidates, in a pool."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kiln.errors import OutsideSpaceError
from kiln.parameters import CategoricalParameter, DiscreteParameter, Point
from kiln.pool import CandidatePool, RowIndex
from kiln.space import SearchSpace


def candidate_rows(
    space: SearchSpace, candidates: Sequence[Point], Xc: np.ndarray, points: Sequence[Mapping]
) -> np.ndarray:
    """Indices of the candidates equal to ``points`` (the few measured or pending ones).

    On a full grid by index arithmetic; on sampled candidates by an exact comparison of encoded
    rows, after snapping each value that lies on a step (or a listed value) to it. Only the few
    points are keyed, never the tens of thousands of candidates.
    """
    if not points:
        return np.empty(0, dtype=np.int64)
    if space.is_enumerable() and len(candidates) == space.grid_size():
        rows = space.grid_index(points)
    else:
        rows = RowIndex(Xc).find(space.encode([_snapped(space, p) for p in points]))
    return rows[rows >= 0]


def _snapped(space: SearchSpace, point: Mapping[str, Any]) -> dict[str, Any]:
    # Values as the sampler writes them: grid values where the point is on one, else rounded
    # like ContinuousParameter.snap rounds an unstepped value.
    out: dict[str, Any] = {}
    for p in space.parameters:
        v = point[p.name]
        if isinstance(p, CategoricalParameter):
            out[p.name] = v
        elif (
            p.on_grid(float(v))
            if isinstance(p, DiscreteParameter) or p.step is not None
            else p.low <= float(v) <= p.high
        ):
            out[p.name] = p.snap(float(v))
        else:
            out[p.name] = v
    return out


def pool_rows(pool: CandidatePool, entries: Sequence[Any]) -> np.ndarray:
    """Pool row ids of observations or pending entries: their ``candidate`` when they name
    one, else the row equal to their parameters (one exact lookup of just those points).

    Failed syntheses count too (the row was run); entries that cannot be encoded match none.
    """
    named: list[int] = []
    unnamed: list[Mapping[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        point = entry.get("parameters", entry)
        row = entry.get("candidate") if "parameters" in entry else None
        if isinstance(row, int) and not isinstance(row, bool) and 0 <= row < len(pool):
            named.append(row)
            continue
        try:
            pool.space.check_point(point)
        except OutsideSpaceError:
            continue
        unnamed.append(point)
    found = pool.locate(unnamed)
    return np.concatenate([np.asarray(named, dtype=np.int64), found[found >= 0]])


def pool_exhausted(pool: CandidatePool) -> str:
    return (
        f"pool_exhausted: none of the {len(pool)} candidates is open (each is measured, pending, "
        "removed or outside the current ranges); add candidates to continue"
    )


def batch_candidates(
    space: SearchSpace,
    rng: np.random.Generator,
    pool: CandidatePool | None,
    observations: Sequence[Any],
    pending: Sequence[Any],
    points: Sequence[Mapping[str, Any]],
    pend: Sequence[Mapping[str, Any]],
) -> tuple[list[Point] | None, np.ndarray, np.ndarray, np.ndarray]:
    """``(points or None for a pool, encoded, excluded, measured)``: the rows a batch picks from
    (:func:`kiln.propose.propose` and :func:`kiln.multiobjective.propose.propose_pareto`).

    ``observations`` and ``pending`` are as posted (a pool matches their ``candidate``),
    ``points`` and ``pend`` their parsed parameters (measured and pending points).

    A pool excludes its closed rows and those measured or pending (it never repeats a measured
    row); the grid or sampled candidates exclude pending points and avoid measured ones.
    """
    if pool is not None:
        Xc = pool.encoded()
        excluded = pool.closed()
        excluded[pool_rows(pool, observations)] = True
        excluded[pool_rows(pool, pending)] = True
        if space.constraints:
            excluded |= ~space.constraints.mask(Xc)
        return None, Xc, excluded, np.zeros(len(pool), dtype=bool)
    candidates = space.candidates(rng)
    Xc = space.encode(candidates)
    excluded = np.zeros(len(candidates), dtype=bool)
    measured = np.zeros(len(candidates), dtype=bool)
    excluded[candidate_rows(space, candidates, Xc, pend)] = True
    measured[candidate_rows(space, candidates, Xc, points)] = True
    return candidates, Xc, excluded, measured


def pick_parameters(
    index: int | None,
    x: np.ndarray,
    space: SearchSpace,
    pool: CandidatePool | None,
    candidates: Sequence[Point] | None,
) -> dict[str, Any]:
    """A pick's parameters: its pool row, else its grid or sampled candidate, else (a polished
    point) its encoded vector ``x`` decoded."""
    if index is not None and pool is not None:
        return dict(pool.rows[index])
    if index is not None and candidates is not None:
        return dict(candidates[index])
    return space.decode(x)
