"""Choosing a batch: greedy picks under Kriging-believer or constant-liar fantasies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np

from kiln import acquisition as acq
from kiln.batch.fantasy import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_CHUNK,
    FantasyPosterior,
    FantasyState,
    chunk_rows,
)
from kiln.batch.picks import Pick, Selection, greedy, lie_value, start_masks
from kiln.batch.polishing import Polisher, polish
from kiln.batch.scores import ALL_ROWS, LAZY_ACQUISITIONS, DenseScores, LazyScores, Rows, Weighted
from kiln.feasibility import acquisition_floor, weigh
from kiln.model.surrogate import GPSurrogate

#: ``(pick, its step's values, points it must not land on) -> a better pick or None``.
Polish = Callable[[Pick, np.ndarray, np.ndarray], Pick | None]
Score = Callable[[np.ndarray, np.ndarray], np.ndarray]


def select_batch(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    q: int,
    *,
    acquisition: str = "ucb",
    kappa: float = 1.96,
    xi: float = 0.01,
    batch_method: str = "kriging_believer",
    pending: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    polisher: Polisher | None = None,
    observed: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    success_probability: np.ndarray | None = None,
    lazy: bool = True,
) -> Selection:
    """Choose ``q`` points by sequential fantasies with rank-1 posterior updates.

    With the Kriging believer and UCB or EI, candidates are scored lazily (see
    :class:`~kiln.batch.scores.LazyScores`): the picks are those of scoring every candidate at every step, but
    only the candidates that can still win are scored exactly.

    Args:
        surrogate: Fitted surrogate.
        candidates: Encoded candidates ``(m, d)``.
        q: Batch size.
        acquisition: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``.
        kappa: UCB weight.
        xi: EI/PI margin in units of the training targets' std (see :mod:`kiln.acquisition`).
        batch_method: Kriging believer or a constant liar.
        pending: Encoded points already handed out; they become fantasies first.
        excluded: Candidates never to pick (e.g. those equal to pending points).
        measured: Candidates to pick only when nothing else is left.
        polisher: Optional continuous refinement of the best candidates at each step.
        observed: Encoded measured points a polished pick does not land on while unmeasured
            candidates remain (default: the surrogate's training inputs; give every measured
            point when it trained on a subset of them).
        rng: Randomness for ``"random"``.
        chunk_size: Candidate rows per chunk.
        cache_bytes: Memory budget for cached cross-covariances.
        success_probability: Optional probability of a successful synthesis per candidate
            (:mod:`kiln.feasibility`); it multiplies the acquisition, and the candidates are
            then used as they are (no polishing).
        lazy: False scores every candidate at every step (the reference the lazy path must
            equal; slower).

    Returns:
        The picks; ``exhausted`` when unmeasured candidates ran out.
    """
    excluded, measured, rng = start_masks(candidates.shape[0], excluded, measured, rng)
    y_train = surrogate.y_train_
    lie = lie_value(batch_method, y_train)
    pending = np.empty((0, candidates.shape[1])) if pending is None else pending
    score = _scorer(surrogate, acquisition, kappa, xi, rng)
    weighted = _weighting(score, acquisition, y_train, success_probability)
    if success_probability is not None:
        polisher = None
    lazy = lazy and lie is None and acquisition in LAZY_ACQUISITIONS
    state, view = _scores(
        surrogate, candidates, weighted, pending, lie, lazy, chunk_size, cache_bytes
    )
    need = 1 if polisher is None or acquisition == "random" else max(1, polisher.n_starts)
    polish_pick: Polish | None = None
    if polisher is not None and acquisition != "random":
        polish_pick = partial(_polish_pick, candidates, state, score, polisher)
    forbid = (pending, surrogate.X_train_ if observed is None else observed)
    return _greedy(view, candidates, q, excluded, measured, need, lie, polish_pick, forbid)


def _scorer(
    surrogate: GPSurrogate, acquisition: str, kappa: float, xi: float, rng: np.random.Generator
) -> Score:
    best = float(np.max(surrogate.y_train_))

    def score(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return acq.score(acquisition, mu, sd, best, kappa, xi, spread=surrogate.y_std_, rng=rng)

    return score


def acquisition_values(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    options: Mapping[str, Any],
    *,
    pending: np.ndarray | None = None,
    success_probability: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """Every candidate's acquisition under the pending points' fantasies: the values the first
    greedy pick of :func:`select_batch` compares (not for ``"random"``). ``options`` holds
    ``acquisition``, ``kappa``, ``xi`` and ``batch_method`` (:meth:`Strategy.acquisition_options`).
    """
    acquisition, kappa, xi = options["acquisition"], options["kappa"], options["xi"]
    batch_method = options["batch_method"]
    y_train = surrogate.y_train_
    lie = lie_value(batch_method, y_train)
    score = _scorer(surrogate, acquisition, kappa, xi, np.random.default_rng(0))
    weighted = _weighting(score, acquisition, y_train, success_probability)
    state = FantasyState(surrogate)
    for p in [] if pending is None else pending:
        state.add(p, lie)
    m = candidates.shape[0]
    out = np.empty(m)
    rows = chunk_rows(state.post.n, chunk_size)
    for start in range(0, m, rows):
        sl = slice(start, min(start + rows, m))
        mu, var = state.predict(candidates[sl])
        ys = surrogate.y_std_
        out[sl] = weighted(surrogate.y_mean_ + ys * mu, ys * np.sqrt(var), sl)
    return out


def _polish_pick(
    candidates: np.ndarray,
    state: FantasyState,
    score: Score,
    polisher: Polisher,
    pick: Pick,
    values: np.ndarray,
    forbid: np.ndarray,
) -> Pick | None:
    return polish(pick, values, candidates, state, score, polisher, forbid)


def _weighting(
    score: Score,
    acquisition: str,
    y_train: np.ndarray,
    success_probability: np.ndarray | None,
) -> Weighted:
    """The acquisition of some rows, multiplied by their success probability when given."""
    floor = acquisition_floor(acquisition, y_train)

    def weighted(mu: np.ndarray, sd: np.ndarray, rows: Rows = ALL_ROWS) -> np.ndarray:
        values = score(mu, sd)
        if success_probability is None or acquisition == "random":
            return values
        return weigh(values, success_probability[rows], floor)

    return weighted


def _scores(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    weighted: Weighted,
    pending: np.ndarray,
    lie: float | None,
    lazy: bool,
    chunk_size: int,
    cache_bytes: int,
) -> tuple[FantasyState, DenseScores | LazyScores]:
    """The fantasy state with the pending points added, and the view that scores candidates."""
    if lazy:
        state: FantasyState = FantasyState(surrogate)
        for p in pending:
            state.add(p, lie)
        return state, LazyScores(state, candidates, weighted, chunk_rows(state.post.n, chunk_size))
    dense = FantasyPosterior(surrogate, candidates, chunk_size=chunk_size, cache_bytes=cache_bytes)
    for p in pending:
        dense.add(p, lie)
    return dense, DenseScores(dense, weighted)


def _greedy(
    view: DenseScores | LazyScores,
    candidates: np.ndarray,
    q: int,
    excluded: np.ndarray,
    measured: np.ndarray,
    need: int,
    lie: float | None,
    polish_pick: Polish | None,
    forbid: tuple[np.ndarray, np.ndarray],
) -> Selection:
    """Pick the best open candidate ``q`` times, adding a fantasy after each pick.

    ``forbid`` is ``(pending, measured points)``: a polished pick lands on neither, nor on an
    earlier pick (on measured points only while unmeasured candidates remain).
    """
    pending, X_measured = forbid
    taken = np.empty((0, candidates.shape[1]))

    def choose(pool: np.ndarray, repeats: bool, step: int) -> Pick:
        nonlocal taken
        values, mu, sd = view.scores(pool, need)
        i = int(np.argmax(values))
        pick = Pick(i, candidates[i], float(values[i]), float(mu[i]), float(sd[i]))
        if polish_pick is not None:
            near = np.vstack([pending, taken] + ([] if repeats else [X_measured]))
            pick = polish_pick(pick, values, near) or pick
        taken = np.vstack([taken, pick.x])
        if step < q - 1:  # the last pick's fantasy would change nothing that is used
            view.add(pick.x, lie)
        return pick

    return greedy(q, excluded, measured, choose)
