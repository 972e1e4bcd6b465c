"""The batch :func:`kiln.propose.propose` makes with ``strategy.batch_shared``: its ranking of
the candidates and the greedy selection restricted to one setting (:mod:`kiln.batch.sharing`
says how the shared values are chosen)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.spatial.distance import cdist
from threadpoolctl import threadpool_limits

from kiln.batch.picks import Selection
from kiln.batch.scores import LAZY_ACQUISITIONS
from kiln.batch.selection import acquisition_values, select_batch
from kiln.batch.sharing import (
    MAX_SETTINGS,
    PickBatch,
    Ranking,
    check_sharing,
    complete_settings,
    select_shared,
    shared_columns,
)
from kiln.batch.space_filling import space_filling
from kiln.feasibility import FeasibilityModel
from kiln.model.fitted import FittedModel
from kiln.pool import CandidatePool
from kiln.space import SearchSpace
from kiln.strategy import Strategy

SHARED_BLAS_THREADS = 1


def select_shared_batch(
    space: SearchSpace,
    strategy: Strategy,
    fitted: FittedModel | None,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    pool: CandidatePool | None,
    feasibility: FeasibilityModel | None,
) -> Selection:
    """A batch in groups sharing some parameters' values (:mod:`kiln.batch.sharing`), from
    :func:`kiln.propose.propose`'s candidates ``(encoded, excluded, measured)`` and the encoded
    ``(observations, pending points)``; no polishing. On sampled candidates the picks are new
    points (no candidate index)."""
    assert strategy.batch_shared is not None
    check_sharing(space.parameters, strategy.batch_shared.parameters)
    Xc, excluded, measured = candidates
    X_obs, X_pend = known
    cols = shared_columns(space.parameters, strategy.batch_shared.parameters)
    ranking, bounded = _ranking(strategy, fitted, Xc, X_obs, X_pend, rng, feasibility)
    sampled = pool is None and not space.is_enumerable()
    if sampled:
        Xc = complete_settings(
            Xc, cols, ranking(X_pend[:0]), ~excluded, space.constraints.mask, rng
        )
        excluded = measured = np.zeros(Xc.shape[0], dtype=bool)
        ranking, bounded = _ranking(strategy, fitted, Xc, X_obs, X_pend, rng, feasibility)
    success = None if feasibility is None or fitted is None else feasibility.probability(Xc)
    pick_batch = _greedy_on_rows(strategy, fitted, (Xc, excluded, measured), known, rng, success)
    informed = fitted is not None and strategy.acquisition != "random"
    # Many small triangular solves (a greedy batch per setting): one BLAS thread is ~9x faster
    # than waking several on the loaded 2-core machine (as for the fit, kiln.model.surrogate).
    with threadpool_limits(SHARED_BLAS_THREADS, user_api="blas"):
        selection = select_shared(
            Xc,
            cols,
            strategy.batch_size,
            strategy.batch_shared.groups,
            excluded,
            measured,
            pick_batch,
            ranking,
            bounded=bounded,
            max_settings=MAX_SETTINGS if informed else 1,
        )
    if sampled:
        picks = [replace(p, index=None) for p in selection.picks]
        return Selection(picks, selection.exhausted, selection.groups)
    return selection


def _greedy_on_rows(
    strategy: Strategy,
    fitted: FittedModel | None,
    candidates: tuple[np.ndarray, np.ndarray, np.ndarray],
    known: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    success: np.ndarray | None,
) -> PickBatch:
    """The greedy batch on some rows: the model's (pending points and earlier groups' picks as
    fantasies) or, without a model, space filling away from every known point."""
    Xc, excluded, measured = candidates
    X_obs, X_pend = known

    def pick_batch(rows: np.ndarray, size: int, extra: np.ndarray) -> Selection:
        if fitted is None:
            reference = np.vstack([X_obs, X_pend, extra])
            return space_filling(
                Xc[rows],
                size,
                reference=reference,
                excluded=excluded[rows],
                measured=measured[rows],
                rng=rng,
            )
        return select_batch(
            fitted.surrogate,
            Xc[rows],
            size,
            **strategy.acquisition_options(),
            pending=np.vstack([X_pend, extra]),
            excluded=excluded[rows],
            measured=measured[rows],
            rng=rng,
            success_probability=None if success is None else success[rows],
        )

    return pick_batch


def _ranking(
    strategy: Strategy,
    fitted: FittedModel | None,
    Xc: np.ndarray,
    X_obs: np.ndarray,
    X_pend: np.ndarray,
    rng: np.random.Generator,
    feasibility: FeasibilityModel | None,
) -> tuple[Ranking, bool]:
    """How settings are ordered, and whether that order bounds their batches' scores: the rows'
    single-point acquisitions (fantasies can only lower them under the Kriging believer with UCB
    or EI); without a model the distance to the measured, pending and earlier groups' points;
    for ``random`` a random order."""
    if fitted is not None and strategy.acquisition != "random":
        values = acquisition_values(
            fitted.surrogate,
            Xc,
            strategy.acquisition_options(),
            pending=X_pend,
            success_probability=None if feasibility is None else feasibility.probability(Xc),
        )
        bounded = strategy.batch_method == "kriging_believer"
        return (lambda extra: values), bounded and strategy.acquisition in LAZY_ACQUISITIONS
    order = np.asarray(rng.random(Xc.shape[0]))
    if fitted is not None:
        return (lambda extra: order), False

    def farthest(extra: np.ndarray) -> np.ndarray:
        reference = np.vstack([X_obs, X_pend, extra])
        return cdist(Xc, reference).min(axis=1) if reference.shape[0] else order

    return farthest, False
