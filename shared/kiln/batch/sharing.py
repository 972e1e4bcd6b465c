"""Batches whose proposals share some parameters' values by group (one furnace run per group).

How the shared values are chosen: by the batch's joint acquisition, not around the best single
point. The candidate *settings* are the distinct values of the shared parameters among the open
candidates (on a grid: every distinct value combination; on sampled candidates: the settings of
the best-ranked rows, each completed with a sample of the other parameters' values). For a
setting the Kriging-believer greedy batch (:func:`kiln.batch.selection.select_batch`) is run on
its candidates only, and the batch is scored by the number of picks and then the sum of their
greedy acquisition values (each under the fantasies of the pending points and the earlier
picks); the best-scoring setting wins.

Not every setting needs its batch: under the Kriging believer with UCB or EI a candidate's
acquisition never rises as fantasies are added, so the sum of a setting's ``n`` best single-point
acquisitions bounds the score of its batch. Settings are tried in the order of that bound and the
search stops when no bound beats the best batch so far: the result equals trying every setting.
For other acquisitions or the constant liars the :data:`MAX_SETTINGS` best by the bound are tried.
Without a model (space filling) or with the ``random`` acquisition the first setting in the
ranking (farthest from the measured and pending points, or random) is used.

With ``groups > 1`` the groups are made one after the other: each takes ``ceil(remaining /
groups left)`` proposals from the best setting not used yet, under the fantasies of the earlier
groups' picks, so the batch is spread over the best settings greedily; a setting with too few
open candidates leaves its remainder to the next group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from kiln.batch.picks import Pick, Selection
from kiln.errors import SpaceError
from kiln.parameters import CategoricalParameter, Parameter

#: Settings tried when the bound does not hold (constant liars, PI).
MAX_SETTINGS = 64
#: On sampled candidates: settings taken from the best-ranked rows, and rows completing each.
SAMPLED_SETTINGS = 32
SAMPLED_ROWS = 256

#: ``(candidate rows, how many picks, extra fantasies) -> the greedy selection on those rows``;
#: its picks' indices are positions in the rows.
PickBatch = Callable[[np.ndarray, int, np.ndarray], Selection]
#: ``(extra fantasies) -> a per-row score`` that orders the settings (see :func:`select_shared`).
Ranking = Callable[[np.ndarray], np.ndarray]


def check_sharing(parameters: Sequence[Parameter], names: Sequence[str]) -> None:
    """Raise a :class:`SpaceError` naming ``strategy.batch_shared.parameters.i`` when a shared
    parameter is not in the space."""
    known = {p.name for p in parameters}
    for i, name in enumerate(names):
        if name not in known:
            raise SpaceError(
                f"unknown parameter {name!r}; this space has {sorted(known)}",
                field=f"strategy.batch_shared.parameters.{i}",
            )


def shared_columns(parameters: Sequence[Parameter], names: Sequence[str]) -> list[int]:
    """The encoded columns of the shared parameters (a categorical's whole one-hot block)."""
    cols: list[int] = []
    col = 0
    for p in parameters:
        width = len(p.values) if isinstance(p, CategoricalParameter) else 1
        if p.name in names:
            cols.extend(range(col, col + width))
        col += width
    return cols


def setting_ids(X: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Which setting (distinct shared values) each encoded row has, as integers."""
    keys = np.round(X[:, list(columns)], 9)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    return np.asarray(inverse).reshape(-1)


def complete_settings(
    X: np.ndarray,
    columns: Sequence[int],
    ranking: np.ndarray,
    open_rows: np.ndarray,
    feasible: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Sampled candidates, where rows rarely share a setting: the settings of the
    :data:`SAMPLED_SETTINGS` best-ranked open rows, each on :data:`SAMPLED_ROWS` open rows (its
    shared columns overwritten), keeping the feasible ones; the rows are new points."""
    rows = np.flatnonzero(open_rows)
    if rows.size == 0:
        return np.empty((0, X.shape[1]))
    top = rows[np.argsort(-ranking[rows], kind="stable")[:SAMPLED_SETTINGS]]
    base = X[rng.choice(rows, size=min(SAMPLED_ROWS, rows.size), replace=False)]
    blocks = []
    cols = list(columns)
    for i in top:
        block = base.copy()
        block[:, cols] = X[i, cols]
        blocks.append(np.vstack([X[i][None, :], block]))
    out = np.unique(np.vstack(blocks), axis=0)
    return out[feasible(out)]


def select_shared(
    X: np.ndarray,
    columns: Sequence[int],
    q: int,
    groups: int,
    excluded: np.ndarray,
    measured: np.ndarray,
    pick_batch: PickBatch,
    ranking: Ranking,
    *,
    bounded: bool,
    max_settings: int = MAX_SETTINGS,
) -> Selection:
    """Choose up to ``q`` picks in at most ``groups`` groups, each group on one setting.

    Args:
        X: Encoded candidates.
        columns: The shared parameters' encoded columns.
        q: Batch size.
        groups: Most groups.
        excluded: Rows never to pick (pending, closed).
        measured: Rows to pick only when a setting has nothing else.
        pick_batch: The greedy selection restricted to some rows.
        ranking: A per-row score given the earlier groups' picks: single-point acquisitions
            (the bound) or a ranking (distance to the measured, pending and picked points).
        bounded: Whether ``ranking`` gives acquisitions that fantasies can only lower.
        max_settings: Settings tried per group (all that can win when ``bounded``).

    Returns:
        The picks (indices into ``X``) and ``groups`` (one label per pick, from 0).
    """
    ids = setting_ids(X, columns)
    members = _members(ids, ~excluded)
    used: set[int] = set()
    picks: list[Pick] = []
    labels: list[int] = []
    exhausted = False
    extra = np.empty((0, X.shape[1]))
    for g in range(groups):
        size = math.ceil((q - len(picks)) / (groups - g))
        if size == 0:
            break
        best = _best_setting(
            members, used, size, measured, ranking(extra), pick_batch, extra, bounded, max_settings
        )
        if best is None:
            exhausted = True
            break
        setting, rows, sel = best
        used.add(setting)
        exhausted |= _repeats(sel, rows, measured)
        for p in sel.picks:
            index = int(rows[p.index]) if p.index is not None else None
            picks.append(Pick(index, p.x, p.acquisition_value, p.mean, p.std))
            labels.append(g)
        extra = np.vstack([extra] + [p.x[None, :] for p in sel.picks])
    exhausted |= len(picks) < q
    return Selection(picks, exhausted, labels)


def _members(ids: np.ndarray, open_rows: np.ndarray) -> dict[int, np.ndarray]:
    rows = np.flatnonzero(open_rows)
    if rows.size == 0:
        return {}
    order = np.argsort(ids[rows], kind="stable")
    rows = rows[order]
    keys, starts = np.unique(ids[rows], return_index=True)
    return {int(k): part for k, part in zip(keys, np.split(rows, starts[1:]), strict=True)}


def _repeats(sel: Selection, rows: np.ndarray, measured: np.ndarray) -> bool:
    return any(p.index is not None and measured[rows[p.index]] for p in sel.picks)


def _best_setting(
    members: dict[int, np.ndarray],
    used: set[int],
    size: int,
    measured: np.ndarray,
    ranking: np.ndarray,
    pick_batch: PickBatch,
    extra: np.ndarray,
    bounded: bool,
    max_settings: int,
) -> tuple[int, np.ndarray, Selection] | None:
    """The setting whose greedy batch of ``size`` scores best (see the module docstring)."""
    order: list[tuple[int, float, int]] = []
    for s, rows in members.items():
        if s in used:
            continue
        n = min(size, rows.size)
        top = np.sort(ranking[rows])[::-1][:n]
        order.append((n, float(top.sum()), s))
    order.sort(key=lambda t: (-t[0], -t[1], t[2]))
    best: tuple[int, np.ndarray, Selection] | None = None
    best_score = (-1, -math.inf)
    for tried, (n, bound, s) in enumerate(order):
        if best is not None and (
            (bounded and (n, bound) <= best_score) or (not bounded and tried >= max_settings)
        ):
            break
        rows = members[s]
        sel = pick_batch(rows, size, extra)
        score = (len(sel.picks), float(np.nansum([p.acquisition_value for p in sel.picks])))
        if best is None or score > best_score:
            best, best_score = (s, rows, sel), score
    return best
