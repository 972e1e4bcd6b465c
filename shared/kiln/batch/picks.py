"""What a batch selection returns, the constant-liar values, and which candidate rows are open."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from kiln.errors import KilnError
from kiln.strategy import BATCH_METHODS


@dataclass(frozen=True)
class Pick:
    """One point of a batch.

    Attributes:
        index: Row of the candidate array, or None for a point found by local polishing.
        x: Encoded point.
        acquisition_value: Acquisition at pick time (under the fantasies so far).
        mean: Posterior mean on the model scale at pick time.
        std: Latent posterior std on the model scale at pick time.
    """

    index: int | None
    x: np.ndarray
    acquisition_value: float
    mean: float
    std: float


@dataclass(frozen=True)
class Selection:
    """Result of a batch selection.

    Attributes:
        picks: The chosen points, in order.
        exhausted: True when the unmeasured, non-pending candidates ran out: fewer picks than
            asked for, or some picks repeat measured points.
        groups: With shared parameters (:mod:`kiln.batch.sharing`), each pick's group.
    """

    picks: list[Pick]
    exhausted: bool
    groups: list[int] | None = None


def lie_value(method: str, y: np.ndarray) -> float | None:
    """The constant-liar value (model scale) for ``method``; None for the Kriging believer.

    Raises:
        KilnError: On an unknown method.
    """
    if method == "kriging_believer":
        return None
    if method == "constant_liar_min":
        return float(np.min(y))
    if method == "constant_liar_mean":
        return float(np.mean(y))
    if method == "constant_liar_max":
        return float(np.max(y))
    raise KilnError(f"batch method {method!r} is unknown; use one of {list(BATCH_METHODS)}")


def start_masks(
    m: int,
    excluded: np.ndarray | None,
    measured: np.ndarray | None,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """The masks a selection starts from (``excluded`` copied: picks are added to it) and its rng."""
    excluded = np.zeros(m, bool) if excluded is None else excluded.copy()
    measured = np.zeros(m, bool) if measured is None else measured
    rng = rng if rng is not None else np.random.default_rng(0)
    return excluded, measured, rng


def open_rows(excluded: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, bool]:
    """Rows a pick may come from, preferring unmeasured ones; flag when measured are needed."""
    fresh = ~excluded & ~measured
    if fresh.any():
        return fresh, False
    return ~excluded, True


#: ``(open rows, whether they include measured ones, step) -> the pick``; it updates its own state.
Choose = Callable[[np.ndarray, bool, int], Pick]
#: The pick type of :func:`greedy_picks` (:class:`Pick`, or a multi-objective pick).
P = TypeVar("P", bound="HasIndex")


class HasIndex(Protocol):
    """A pick: the candidate row it came from, or None for a point found elsewhere."""

    @property
    def index(self) -> int | None: ...


def greedy(q: int, excluded: np.ndarray, measured: np.ndarray, choose: Choose) -> Selection:
    """Pick up to ``q`` times from the open rows (:func:`open_rows`); a picked row is excluded.

    ``exhausted`` when the rows ran out, or some picks had to come from measured rows.
    """
    return Selection(*greedy_picks(q, excluded, measured, choose))


def greedy_picks(
    q: int, excluded: np.ndarray, measured: np.ndarray, choose: Callable[[np.ndarray, bool, int], P]
) -> tuple[list[P], bool]:
    """:func:`greedy` for any pick type: ``(picks, exhausted)``."""
    picks: list[P] = []
    exhausted = False
    for step in range(q):
        pool, repeats = open_rows(excluded, measured)
        if not pool.any():
            exhausted = True
            break
        exhausted |= repeats
        pick = choose(pool, repeats, step)
        if pick.index is not None:
            excluded[pick.index] = True
        picks.append(pick)
    return picks, exhausted
