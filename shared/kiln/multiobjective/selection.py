"""Batches for multi-objective campaigns: greedy picks, Kriging believer across all objectives.

Each step scores the open candidates and takes the best; the scorer
(:mod:`kiln.multiobjective.scorers`) then learns of the pick, so the next one is scored against
the front the batch is expected to reach. Pending proposals are treated like earlier picks.

- ``"ehvi"``: exact expected hypervolume improvement (:mod:`kiln.multiobjective.ehvi`), 2-3
  objectives. Picks are believer fantasies in every objective's GP (the mean is unchanged, the
  variance shrinks near them) and their predicted means join the front; with
  ``front_samples > 0`` (noisy objectives) the EHVI is averaged over joint posterior samples of
  the front's values instead.
- ``"parego"``: per pick a fresh augmented-Chebyshev weight vector
  (:mod:`kiln.multiobjective.parego`), one GP on the scalarised values, expected improvement on
  it under believer fantasies; any number of objectives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kiln.batch.picks import greedy_picks, start_masks
from kiln.errors import KilnError
from kiln.model.surrogate import GPSurrogate
from kiln.multiobjective.pareto import complete_rows
from kiln.multiobjective.scorers import (
    Believers,
    EHVIScorer,
    NoisyEHVIScorer,
    ParEGOScorer,
    RandomScorer,
    Scorer,
)
from kiln.strategy import PARETO_ACQUISITIONS

#: What select_pareto_batch scores by: the Pareto acquisitions, or ``"random"`` (a seeded random
#: order of the open rows; the models still predict the picks).
ACQUISITIONS = (*PARETO_ACQUISITIONS, "random")


@dataclass(frozen=True)
class ParetoPick:
    """One point of a multi-objective batch (means and latent stds per objective, model scale)."""

    index: int
    x: np.ndarray
    acquisition_value: float
    mean: np.ndarray
    std: np.ndarray


@dataclass(frozen=True)
class ParetoSelection:
    """The picks in order; ``exhausted`` as in :class:`kiln.batch.picks.Selection`."""

    picks: list[ParetoPick]
    exhausted: bool


def select_pareto_batch(
    models: Sequence[GPSurrogate],
    X: np.ndarray,
    Y: np.ndarray,
    candidates: np.ndarray,
    q: int,
    ref: np.ndarray,
    *,
    acquisition: str = "ehvi",
    pending: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    weights: str = "lattice",
    front_samples: int = 0,
    success: np.ndarray | None = None,
) -> ParetoSelection:
    """Choose ``q`` candidates greedily under believer fantasies in every objective's model.

    Args:
        models: One fitted surrogate per objective (:func:`~kiln.multiobjective.models.fit_models`).
        X: Encoded observed inputs ``(n, d)``.
        Y: Observed objectives on the model scale ``(n, k)``, NaN where missing.
        candidates: Encoded candidates ``(m, d)``.
        q: Batch size.
        ref: Reference point on the model scale ``(k,)``
            (:func:`~kiln.multiobjective.pareto.reference_point`).
        acquisition: ``"ehvi"`` (2-3 objectives), ``"parego"`` or ``"random"``.
        pending: Encoded points handed out and not yet measured: fantasies first.
        excluded: Candidates never to pick (a picked row is added to it: no repeats).
        measured: Candidates to pick only when nothing else is left.
        rng: Randomness of the ParEGO weights.
        weights: ParEGO's weight draw, ``"lattice"`` or ``"dirichlet"``.
        front_samples: EHVI only: 0 improves on the front of ``Y`` (pass the models' means at
            ``X`` for noisy objectives) plus believed picks; ``S > 0`` averages the exact EHVI
            over ``S`` joint posterior samples of the front's values instead (noisy objectives,
            :class:`~kiln.multiobjective.scorers.NoisyEHVIScorer`; ``Y`` then only says which
            rows are complete).
        success: Per candidate, a probability ``(m,)`` that multiplies its acquisition at every
            step: of a successful synthesis (:mod:`kiln.feasibility`) times that of meeting the
            outcome constraints (:class:`~kiln.multiobjective.fitted.ParetoModels`).

    Raises:
        KilnError: On an unknown acquisition, or EHVI with other than 2-3 objectives.
    """
    excluded, measured, rng = start_masks(candidates.shape[0], excluded, measured, rng)
    scorer = make_scorer(
        models, X, Y, candidates, ref, acquisition, pending, rng, weights, front_samples
    )
    return _greedy(candidates, q, excluded, measured, scorer, success)


def single_point_values(
    models: Sequence[GPSurrogate],
    X: np.ndarray,
    Y: np.ndarray,
    candidates: np.ndarray,
    ref: np.ndarray,
    *,
    acquisition: str = "ehvi",
    pending: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    success: np.ndarray | None = None,
) -> np.ndarray:
    """Every candidate's acquisition as a batch's first pick (under the pending fantasies),
    weighted by ``success``: how furnace-shared batches rank their settings."""
    rng = rng if rng is not None else np.random.default_rng(0)
    scorer = make_scorer(models, X, Y, candidates, ref, acquisition, pending, rng, "lattice", 0)
    values = scorer.score(np.arange(candidates.shape[0]), 0)[0]
    return values if success is None else values * success


def make_scorer(
    models: Sequence[GPSurrogate],
    X: np.ndarray,
    Y: np.ndarray,
    candidates: np.ndarray,
    ref: np.ndarray,
    acquisition: str,
    pending: np.ndarray | None,
    rng: np.random.Generator,
    weights: str,
    front_samples: int,
) -> Scorer:
    """The scorer of :func:`select_pareto_batch` (its arguments)."""
    if acquisition not in ACQUISITIONS:
        raise KilnError(f"acquisition {acquisition!r} is unknown; use one of {list(ACQUISITIONS)}")
    pending = np.empty((0, candidates.shape[1])) if pending is None else np.atleast_2d(pending)
    front = np.atleast_2d(Y)[complete_rows(Y)]
    ref = np.asarray(ref, dtype=float)
    scorer: Scorer
    if acquisition == "random":
        scorer = RandomScorer(Believers(models, candidates), rng)
    elif acquisition == "parego":
        scorer = ParEGOScorer(
            Believers(models, candidates), X, Y, candidates, pending, ref, rng, weights
        )
    elif front_samples > 0:
        Z = np.vstack([np.asarray(X, dtype=float)[complete_rows(Y)], pending])
        scorer = NoisyEHVIScorer(models, candidates, Z, ref, rng, front_samples)
    else:
        scorer = EHVIScorer(Believers(models, candidates), front, pending, ref)
    return scorer


def _greedy(
    candidates: np.ndarray,
    q: int,
    excluded: np.ndarray,
    measured: np.ndarray,
    scorer: Scorer,
    success: np.ndarray | None = None,
) -> ParetoSelection:
    """Pick the best open row ``q`` times (:func:`kiln.batch.picks.greedy_picks`); the scorer
    learns of every pick but the last. ``success`` weights every row's value."""

    def choose(pool: np.ndarray, repeats: bool, step: int) -> ParetoPick:
        rows = np.flatnonzero(pool)
        values, mu, sd = scorer.score(rows, step)
        if success is not None:
            values = values * success[rows]
        best = int(np.argmax(values))
        i = int(rows[best])
        if step < q - 1:  # the last pick's fantasy would change nothing that is used
            scorer.taken(candidates[i], mu[best])
        return ParetoPick(i, candidates[i], float(values[best]), mu[best], sd[best])

    return ParetoSelection(*greedy_picks(q, excluded, measured, choose))
