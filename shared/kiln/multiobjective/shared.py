"""Furnace-shared Pareto batches: ``strategy.batch_shared`` for :func:`propose_pareto`.

The groups are chosen as for one objective (:func:`kiln.batch.sharing.select_shared`): settings
(the shared parameters' values) are ranked by their rows' single-point acquisitions, the best
:data:`~kiln.batch.sharing.MAX_SETTINGS` each get a greedy Pareto batch restricted to their rows
(:func:`~kiln.multiobjective.selection.select_pareto_batch`, earlier groups' picks as
fantasies), and the batch with the largest summed acquisition wins. EHVI under fantasies has no
bound that would let settings be skipped, so the search is never ``bounded``. Without a model
the single-objective space-filling groups apply unchanged (:mod:`kiln.shared_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from kiln.batch.picks import Pick, Selection
from kiln.batch.sharing import (
    MAX_SETTINGS,
    check_sharing,
    complete_settings,
    select_shared,
    shared_columns,
)
from kiln.model.surrogate import GPSurrogate
from kiln.multiobjective.selection import select_pareto_batch, single_point_values
from kiln.pool import CandidatePool
from kiln.shared_batch import SHARED_BLAS_THREADS
from kiln.space import SearchSpace
from kiln.strategy import Strategy


def select_shared_pareto(
    space: SearchSpace,
    strategy: Strategy,
    models: Sequence[GPSurrogate],
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
    ref: np.ndarray,
    rng: np.random.Generator,
    pool: CandidatePool | None,
    success: Callable[[np.ndarray], np.ndarray | None],
) -> Selection:
    """A Pareto batch in groups sharing some parameters' values.

    Args:
        space: The campaign's space.
        strategy: Its strategy (``batch_shared`` set).
        models: One surrogate per objective.
        candidates: ``(encoded, excluded, measured)`` as :func:`kiln.candidate_rows.batch_candidates`.
        known: ``(observed inputs, the front EHVI improves on, pending inputs)``.
        ref: The reference point on the model scale.
        rng: Randomness (ParEGO weights, random picks, sampled settings).
        pool: The candidate pool, if any.
        success: Each encoded row's probability of success and of meeting the outcome
            constraints (None when there is nothing to weigh by).

    Returns:
        The picks (indices into the candidates, None on sampled candidates) and their groups.
    """
    assert strategy.batch_shared is not None
    check_sharing(space.parameters, strategy.batch_shared.parameters)
    Xc, excluded, measured = candidates
    X_obs, front, X_pend = known
    cols = shared_columns(space.parameters, strategy.batch_shared.parameters)
    values = _values(strategy, models, (X_obs, front, X_pend), Xc, ref, rng, success(Xc))
    sampled = pool is None and not space.is_enumerable()
    if sampled:
        Xc = complete_settings(Xc, cols, values, ~excluded, space.constraints.mask, rng)
        excluded = measured = np.zeros(Xc.shape[0], dtype=bool)
        values = _values(strategy, models, (X_obs, front, X_pend), Xc, ref, rng, success(Xc))
    p = success(Xc)

    def pick_batch(rows: np.ndarray, size: int, extra: np.ndarray) -> Selection:
        sel = select_pareto_batch(
            models, X_obs, front, Xc[rows], size, ref,
            acquisition=strategy.acquisition, pending=np.vstack([X_pend, extra]),
            excluded=excluded[rows], measured=measured[rows], rng=rng,
            success=None if p is None else p[rows],
        )  # fmt: skip
        picks = [
            Pick(k.index, k.x, k.acquisition_value, float(k.mean[0]), float(k.std[0]))
            for k in sel.picks
        ]
        return Selection(picks, sel.exhausted)

    with threadpool_limits(SHARED_BLAS_THREADS, user_api="blas"):
        selection = select_shared(
            Xc, cols, strategy.batch_size, strategy.batch_shared.groups, excluded, measured,
            pick_batch, lambda extra: values, bounded=False, max_settings=MAX_SETTINGS,
        )  # fmt: skip
    if sampled:
        return Selection(
            [replace(k, index=None) for k in selection.picks],
            selection.exhausted,
            selection.groups,
        )
    return selection


def _values(
    strategy: Strategy,
    models: Sequence[GPSurrogate],
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
    Xc: np.ndarray,
    ref: np.ndarray,
    rng: np.random.Generator,
    success: np.ndarray | None,
) -> np.ndarray:
    """How settings are ranked: the rows' single-point acquisitions (a random order for
    ``random``)."""
    if strategy.acquisition == "random":
        return np.asarray(rng.random(Xc.shape[0]))
    X_obs, front, X_pend = known
    return single_point_values(
        models, X_obs, front, Xc, ref,
        acquisition=strategy.acquisition, pending=X_pend, rng=rng, success=success,
    )  # fmt: skip
