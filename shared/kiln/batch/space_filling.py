"""The greedy maximin design used when there is no model to choose a batch with."""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import cdist

from kiln.batch.fantasy import DEFAULT_CHUNK
from kiln.batch.picks import Pick, Selection, greedy, start_masks


def space_filling(
    candidates: np.ndarray,
    q: int,
    *,
    reference: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Selection:
    """Greedy maximin design: each pick is the candidate farthest from all earlier points.

    Args:
        candidates: Encoded candidates ``(m, d)``.
        q: Number of picks.
        reference: Encoded points already there (observations, pending proposals).
        excluded: Candidates never to pick.
        measured: Candidates to pick only when nothing else is left.
        rng: Breaks ties (and chooses the first point when there is no reference), seeded.
        chunk_size: Rows per chunk for the distance computation.
    """
    m = candidates.shape[0]
    excluded, measured, rng = start_masks(m, excluded, measured, rng)
    dmin = np.full(m, np.inf)
    if reference is not None and reference.shape[0]:
        for i in range(0, m, chunk_size):
            dmin[i : i + chunk_size] = cdist(candidates[i : i + chunk_size], reference).min(1)

    def choose(pool: np.ndarray, repeats: bool, step: int) -> Pick:
        d = np.where(pool, dmin, -np.inf)
        top = d.max()
        ties = np.flatnonzero(d >= top - 1e-12) if np.isfinite(top) else np.flatnonzero(pool)
        i = int(rng.choice(ties))
        for s in range(0, m, chunk_size):
            sl = slice(s, s + chunk_size)
            dmin[sl] = np.minimum(dmin[sl], cdist(candidates[sl], candidates[i][None, :])[:, 0])
        return Pick(i, candidates[i], math.nan, math.nan, math.nan)

    return greedy(q, excluded, measured, choose)
