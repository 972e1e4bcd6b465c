"""Batches for multi-objective campaigns: Kriging believer across all objectives.

One :class:`~kiln.batch.fantasy.FantasyPosterior` per objective holds the candidates' posterior;
pending proposals and each pick become believer fantasies in every objective's model (the mean
is unchanged, the variance shrinks near them) and their predicted means join the front, so the
next pick is scored against the front the batch is expected to reach.

- ``"ehvi"``: exact expected hypervolume improvement (:mod:`kiln.multiobjective.ehvi`), 2-3
  objectives;
- ``"parego"``: per pick a fresh augmented-Chebyshev weight vector (:mod:`kiln.multiobjective.parego`),
  one GP on the scalarised observations, expected improvement on it, any number of objectives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiln import acquisition as acq
from kiln.batch.fantasy import FantasyPosterior
from kiln.batch.picks import open_rows, start_masks
from kiln.errors import KilnError
from kiln.model.surrogate import GPSurrogate
from kiln.multiobjective import parego
from kiln.multiobjective.ehvi import decompose, ehvi_boxes
from kiln.multiobjective.models import predict_all
from kiln.multiobjective.pareto import complete_rows

ACQUISITIONS = ("ehvi", "parego")
#: ParEGO's EI margin, in units of the scalarised targets' std (as :mod:`kiln.acquisition`).
PAREGO_XI = 0.01


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


class Scorer(Protocol):
    """Scores the open rows at each step and learns of every pick."""

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values over ``rows``, their means ``(r, k)`` and stds ``(r, k)``."""

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        """Record a pick (its point and believed objectives)."""


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
        acquisition: ``"ehvi"`` (2-3 objectives) or ``"parego"``.
        pending: Encoded points handed out and not yet measured: fantasies first.
        excluded: Candidates never to pick (a picked row is added to it: no repeats).
        measured: Candidates to pick only when nothing else is left.
        rng: Randomness of the ParEGO weights.
        weights: ParEGO's weight draw, ``"lattice"`` or ``"dirichlet"``.

    Raises:
        KilnError: On an unknown acquisition, or EHVI with other than 2-3 objectives.
    """
    if acquisition not in ACQUISITIONS:
        raise KilnError(f"acquisition {acquisition!r} is unknown; use one of {list(ACQUISITIONS)}")
    excluded, measured, rng = start_masks(candidates.shape[0], excluded, measured, rng)
    pending = np.empty((0, candidates.shape[1])) if pending is None else np.atleast_2d(pending)
    posteriors = [FantasyPosterior(m, candidates) for m in models]
    front = np.atleast_2d(Y)[complete_rows(Y)]
    if pending.shape[0]:
        front = np.vstack([front, predict_all(models, pending)[0]])
        for post in posteriors:
            for p in pending:
                post.add(p)
    scorer: Scorer
    if acquisition == "ehvi":
        scorer = _EHVIScorer(posteriors, front, np.asarray(ref, dtype=float))
    else:
        scorer = _ParEGOScorer(posteriors, X, Y, candidates, pending, rng, weights)
    return _greedy(posteriors, candidates, q, excluded, measured, scorer)


def _mean_std(posteriors: Sequence[FantasyPosterior]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [p.mean_std() for p in posteriors]
    return np.column_stack([p[0] for p in pairs]), np.column_stack([p[1] for p in pairs])


class _EHVIScorer:
    """EHVI of the open rows against the observed front plus the believed picks so far."""

    def __init__(
        self, posteriors: Sequence[FantasyPosterior], front: np.ndarray, ref: np.ndarray
    ) -> None:
        self.posteriors, self.front, self.ref = posteriors, front, ref

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu, sd = _mean_std(self.posteriors)
        mu, sd = mu[rows], sd[rows]
        return ehvi_boxes(mu, sd, decompose(self.front, self.ref)), mu, sd

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        self.front = np.vstack([self.front, mean])


class _ParEGOScorer:
    """Per step a new weight vector and a GP on the scalarised complete observations; EI on it."""

    def __init__(
        self,
        posteriors: Sequence[FantasyPosterior],
        X: np.ndarray,
        Y: np.ndarray,
        candidates: np.ndarray,
        pending: np.ndarray,
        rng: np.random.Generator,
        weights: str,
    ) -> None:
        ok = complete_rows(Y)
        self.X, self.Y = np.asarray(X, dtype=float)[ok], np.atleast_2d(Y)[ok]
        if self.Y.shape[0] == 0:
            raise KilnError("ParEGO needs at least one result with every objective measured")
        self.low, self.high = self.Y.min(axis=0), self.Y.max(axis=0)
        self.posteriors, self.candidates, self.rng, self.weights = (
            posteriors,
            candidates,
            rng,
            weights,
        )
        self.fantasies = list(pending)
        self.model: GPSurrogate | None = None

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w = parego.draw_weights(self.Y.shape[1], self.rng, self.weights)
        s = parego.chebyshev(parego.scale_unit(self.Y, self.low, self.high), w)
        model = GPSurrogate(n_restarts=1, random_state=step).fit(self.X, s, start=self.model)
        self.model = model
        post = FantasyPosterior(model, self.candidates[rows])
        for p in self.fantasies:
            post.add(p)
        m, sd = post.mean_std()
        values = acq.ei(m, sd, float(s.max()), PAREGO_XI * model.y_std_)
        mu_k, sd_k = _mean_std(self.posteriors)
        return values, mu_k[rows], sd_k[rows]

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        self.fantasies.append(x)


def _greedy(
    posteriors: Sequence[FantasyPosterior],
    candidates: np.ndarray,
    q: int,
    excluded: np.ndarray,
    measured: np.ndarray,
    scorer: Scorer,
) -> ParetoSelection:
    """Pick the best open row ``q`` times; each pick becomes a believer fantasy everywhere."""
    picks: list[ParetoPick] = []
    exhausted = False
    for step in range(q):
        pool, repeats = open_rows(excluded, measured)
        if not pool.any():
            exhausted = True
            break
        exhausted |= repeats
        rows = np.flatnonzero(pool)
        values, mu, sd = scorer.score(rows, step)
        best = int(np.argmax(values))
        i = int(rows[best])
        picks.append(ParetoPick(i, candidates[i], float(values[best]), mu[best], sd[best]))
        excluded[i] = True
        scorer.taken(candidates[i], mu[best])
        if step < q - 1:
            for post in posteriors:
                post.add(candidates[i])
    return ParetoSelection(picks, exhausted)
