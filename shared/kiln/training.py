"""Which observations a Gaussian process trains on when a campaign holds too many for one fit.

An exact GP costs O(n³) time and O(n²) memory: about a minute and a few hundred MiB at n = 1,000
on two cores, an hour and tens of GiB at n = 10,000 (a LIMS import of a year's data). Above a
limit the model therefore trains on a deterministic subset that keeps what matters for proposing:

* the best observations (``best_share`` of the limit), so the model knows the region it is asked
  to refine and the best observed sample is always in it;
* the most recent ones (``recent_share``), so the newest batches (the data that answer the
  latest proposals) are always seen;
* a uniform sample of the rest, seeded, so the model still sees the whole space.

Replicates (several results at the same parameters) are separate observations: every one is kept,
none is averaged or dropped, here and in the fit (:meth:`kiln.model.surrogate.GPSurrogate.fit`).
Each is one noisy measurement of the same latent value, so together they shrink the posterior std
there (n replicates with noise variance s2 weigh like one result with s2 / n) and their spread is
evidence for the fitted white noise; averaging them first would hide that spread. Above the limit
each replicate is ranked on its own like any other result.

A campaign of several objectives takes the same shares (:mod:`kiln.multiobjective.training`):
there "best" means the lowest Pareto ranks.

Failed syntheses (``status: failed``, as a pool campaign's observations carry them) train no
model: above the limit they are left out before choosing, so a batch
(:func:`kiln.propose.propose` with ``training_limit``) chooses from a pool's observations the
subset a refit chose from the measured results.

Everything else (the result log, the ledger, best observed in the summary) keeps every result;
only the fit is bounded. The choice is a pure function of the observations and the seed, so a
redelivered refit trains on the same subset.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.errors import KilnError
from kiln.objective import Objective

__all__ = [
    "BEST_SHARE",
    "DEFAULT_LIMIT",
    "RECENT_SHARE",
    "TrainingSet",
    "bounded_training_set",
    "select_training_set",
]

#: Observations a fit trains on at most, unless a caller says otherwise.
DEFAULT_LIMIT = 1000
#: Shares of the limit kept for the best and for the most recent observations.
BEST_SHARE = 0.25
RECENT_SHARE = 0.25


@dataclass(frozen=True)
class TrainingSet:
    """The observations to fit and how they were chosen.

    Attributes:
        observations: The chosen observations, in their original (log) order.
        total: How many observations there were.
        best: How many were kept for being among the best.
        recent: How many were kept for being the most recent (not already among the best).
        sampled: How many were drawn uniformly from the rest.
    """

    observations: list[Mapping[str, Any]]
    total: int
    best: int
    recent: int
    sampled: int

    @property
    def subset(self) -> bool:
        """True when the model does not see every observation."""
        return len(self.observations) < self.total

    def summary(self) -> dict[str, Any]:
        """What the model summary says about its training data."""
        return {
            "used": len(self.observations),
            "of": self.total,
            "best": self.best,
            "recent": self.recent,
            "sampled": self.sampled,
        }


def _rank_key(value: Any, objective: Objective) -> float:
    """Larger is better; values that are not finite numbers rank first, so the fit sees them
    and reports them (a subset must not hide a bad value that the full fit would refuse)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.inf
    if not math.isfinite(number):
        return math.inf
    return number if objective.goal == "maximize" else -number


def select_training_set(
    observations: Sequence[Mapping[str, Any]],
    objective: Objective,
    *,
    limit: int = DEFAULT_LIMIT,
    best_share: float = BEST_SHARE,
    recent_share: float = RECENT_SHARE,
    seed: int = 0,
) -> TrainingSet:
    """Choose at most ``limit`` observations to fit (all of them when there are no more).

    Args:
        observations: ``{"parameters": ..., "objective": ...}`` in the order they were stored.
        objective: Says which direction is better.
        limit: The most observations to keep (at least 10).
        best_share: Share of ``limit`` kept for the best observations.
        recent_share: Share of ``limit`` kept for the most recent ones.
        seed: Seeds the uniform draw from the rest.

    Raises:
        KilnError: For a limit below 10 or shares that do not leave room for a sample.
    """

    def best_first(chosen_from: Sequence[Mapping[str, Any]]) -> np.ndarray:
        keys = np.array([_rank_key(o.get("objective"), objective) for o in chosen_from])
        # Stable order: among equal values the later observation ranks lower.
        return np.argsort(-keys, kind="stable")

    return bounded_training_set(
        observations,
        best_first,
        limit=limit,
        best_share=best_share,
        recent_share=recent_share,
        seed=seed,
    )


def bounded_training_set(
    observations: Sequence[Mapping[str, Any]],
    best_first: Callable[[Sequence[Mapping[str, Any]]], np.ndarray],
    *,
    limit: int = DEFAULT_LIMIT,
    best_share: float = BEST_SHARE,
    recent_share: float = RECENT_SHARE,
    seed: int = 0,
) -> TrainingSet:
    """The best, the most recent and a seeded sample of the rest: at most ``limit`` observations.

    Shared by one objective (:func:`select_training_set`) and several
    (:func:`kiln.multiobjective.training.select_pareto_training_set`), which differ only in
    what "best" means.

    Args:
        observations: In the order they were stored.
        best_first: Called only above the limit: the indices of the observations that may be
            kept for being best, best first (it may leave some out: they can still be kept for
            being recent or sampled).
        limit: The most observations to keep (at least 10).
        best_share: Share of ``limit`` kept for the best observations.
        recent_share: Share of ``limit`` kept for the most recent ones.
        seed: Seeds the uniform draw from the rest.

    Raises:
        KilnError: For a limit below 10 or shares that do not leave room for a sample.
    """
    if limit < 10:
        raise KilnError(f"the training limit must be at least 10, got {limit}")
    if best_share < 0 or recent_share < 0 or best_share + recent_share > 1:
        raise KilnError("best_share and recent_share must be >= 0 and add up to at most 1")
    total = len(observations)
    if total <= limit:
        return TrainingSet(list(observations), total, best=0, recent=0, sampled=0)
    # Failed syntheses train nothing: above the limit they neither take a place nor count.
    observations = [o for o in observations if o.get("status") != "failed"]
    total = len(observations)
    if total <= limit:
        return TrainingSet(list(observations), total, best=0, recent=0, sampled=0)
    best = [int(i) for i in best_first(observations)[: int(limit * best_share)]]
    chosen = set(best)
    n_recent = 0
    for index in range(total - 1, -1, -1):
        if n_recent >= int(limit * recent_share):
            break
        if index not in chosen:
            chosen.add(index)
            n_recent += 1
    rest = np.array(sorted(set(range(total)) - chosen), dtype=int)
    n_sample = limit - len(chosen)
    rng = np.random.default_rng(seed)
    if n_sample > 0:
        chosen.update(int(i) for i in rng.choice(rest, size=n_sample, replace=False))
    kept = [observations[i] for i in sorted(chosen)]
    return TrainingSet(kept, total, best=len(best), recent=n_recent, sampled=n_sample)
