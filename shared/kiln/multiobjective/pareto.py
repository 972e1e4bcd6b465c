"""Pareto fronts, hypervolumes and the reference point, on the model scale (every objective maximised).

Non-dominated sorting and hypervolumes come from moocore (the project's library for them). The
reference point is the worst value still worth having per objective: the campaign's threshold
where one is given, else derived from the data as the front's nadir minus 10 % of the observed
range of that objective (:data:`DERIVED_MARGIN`), so that every point of the front adds volume.
:func:`reference_point` says which coordinates were derived, for the service to report.
"""

from __future__ import annotations

from dataclasses import dataclass

import moocore
import numpy as np

from kiln.errors import KilnError

#: A derived reference coordinate lies this fraction of the observed range below the front's nadir.
DERIVED_MARGIN = 0.1


def complete_rows(Y: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``Y`` with every objective measured (no NaN)."""
    return ~np.isnan(np.atleast_2d(Y)).any(axis=1)


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Mask of the non-dominated rows of ``Y`` ``(n, k)`` (maximised; rows with NaN are never on it).

    Duplicated non-dominated rows are all kept.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    mask = np.zeros(Y.shape[0], bool)
    ok = complete_rows(Y)
    if ok.any():
        mask[ok] = moocore.is_nondominated(Y[ok], maximise=True, keep_weakly=True)
    return mask


def pareto_ranks(Y: np.ndarray) -> np.ndarray:
    """Non-dominated sorting: 0 for the front, 1 for the front without it, ...; -1 for rows with NaN."""
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    ranks = np.full(Y.shape[0], -1)
    ok = complete_rows(Y)
    if ok.any():
        ranks[ok] = moocore.pareto_rank(Y[ok], maximise=True)
    return ranks


def hypervolume(Y: np.ndarray, ref: np.ndarray) -> float:
    """Volume dominated by the rows of ``Y`` and dominating ``ref`` (maximised; 0 when none does)."""
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    ref = np.asarray(ref, dtype=float)
    Y = Y[complete_rows(Y)]
    Y = Y[(ref < Y).all(axis=1)]
    if Y.shape[0] == 0:
        return 0.0
    return float(moocore.hypervolume(Y, ref=ref, maximise=True))


@dataclass(frozen=True)
class ReferencePoint:
    """The reference point on the model scale and, per objective, whether it was derived."""

    point: np.ndarray
    derived: np.ndarray


def reference_point(Y: np.ndarray, thresholds: np.ndarray) -> ReferencePoint:
    """The reference point: the thresholds, else the front's nadir minus 10 % of the range.

    Args:
        Y: Observed objectives on the model scale ``(n, k)`` (NaN where missing).
        thresholds: Thresholds on the model scale, NaN where none was given.

    Raises:
        KilnError: When a coordinate must be derived but that objective has no observation.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    thresholds = np.asarray(thresholds, dtype=float)
    derived = np.isnan(thresholds)
    point = thresholds.copy()
    if derived.any():
        front = Y[pareto_mask(Y)]
        for j in np.flatnonzero(derived):
            col = Y[~np.isnan(Y[:, j]), j]
            if col.size == 0:
                raise KilnError(
                    f"objective {j} has no threshold and no observation to derive one from"
                )
            nadir = float(front[:, j].min()) if front.size else float(col.min())
            span = float(col.max() - col.min()) or max(abs(nadir), 1.0)
            point[j] = nadir - DERIVED_MARGIN * span
    return ReferencePoint(point, derived)
