"""BayBE (0.15) with one furnace on bench-constraints' problem: the peer of ``kiln-shared``.

Needs the opt-in ``peers`` extra (``make bench-constraints-peers`` installs it): BayBE runs on
BoTorch and PyTorch, which `make venv` / `make test` never install.

What BayBE is given, so the comparison is like for like:

- the same candidates: the ``latp-furnace`` preset's grid levels as
  ``NumericalDiscreteParameter``s and its forbidden hot long holds as a
  ``DiscreteExcludeConstraint`` (AND of ``ThresholdCondition``s): 2,394 feasible points, checked
  to be exactly the grid the Kiln methods score;
- one furnace: a ``DiscreteBatchConstraint`` on ``temperature_c`` and one on ``time_min``
  (BayBE 0.15's constraint takes exactly one parameter, and each parameter at most one such
  constraint; two constraints split the candidates into one subset per (temperature, time)
  pair). Its BotorchRecommender then optimises a whole batch of 6 inside each subset it tries
  and returns the batch with the highest joint acquisition value. It tries every subset only
  when there are at most ``max_n_subsets`` of them (default 10); the furnace grid has
  13 x 22 = 286 pairs (266 feasible), so by default it tries 10 random feasible firings per
  batch. ``subsets`` sets ``max_n_subsets``: bench/constraints.py's ``baybe`` keeps the default
  10, its ``baybe-all`` sets it above 286, so every feasible firing is tried (about 8-10 s per
  batch against under 1 s);
- its default recommender otherwise (TwoPhaseMetaRecommender: a random batch from no data,
  honouring the batch constraints, then BotorchRecommender with its default surrogate and
  qLogEI-type batch acquisition), and its default ``allow_recommending_*`` flags (on discrete
  spaces it does not propose a point already measured);
- the same measurements: bench/constraints.py's loop measures BayBE's batches with the same lab
  and the same noise stream per sample index as Kiln's, and BayBE is given log10 of each
  measured conductivity, as Kiln models it (the campaign's ``transform``);
- BayBE's own randomness seeded per batch from the bench's seed (``Settings(random_seed=...)``).

BayBE's warnings and those of BoTorch/GPyTorch are silenced; its disk cache is turned off.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from baybe import Campaign
from baybe.constraints import (
    DiscreteBatchConstraint,
    DiscreteExcludeConstraint,
    ThresholdCondition,
)
from baybe.parameters import NumericalDiscreteParameter
from baybe.recommenders import BotorchRecommender, TwoPhaseMetaRecommender
from baybe.searchspace import SearchSpace
from baybe.settings import Settings
from baybe.targets import NumericalTarget

#: BayBE's default ``BotorchRecommender.max_n_subsets`` (firings it tries per batch).
DEFAULT_SUBSETS = 10


def furnace_searchspace(
    grid: Sequence[Mapping[str, Any]],
    forbidden: Sequence[Mapping[str, Any]],
    shared: Sequence[str],
) -> Any:
    """BayBE's search space: the grid's levels, the forbidden regions, one batch constraint per
    shared parameter; its candidates are checked to be exactly the feasible grid.

    Args:
        grid: The feasible grid points (every point the bench's Kiln methods may propose).
        forbidden: The campaign's ``{"kind": "forbidden", "when": {...}}`` constraints
            (threshold conditions only), each a ``DiscreteExcludeConstraint`` (AND).
        shared: The parameters one furnace run fixes for the whole batch.

    Raises:
        ValueError: When BayBE's candidates differ from the feasible grid.
    """
    names = list(grid[0])
    params = [
        NumericalDiscreteParameter(name=n, values=tuple(sorted({float(p[n]) for p in grid})))
        for n in names
    ]
    constraints: list[Any] = [
        DiscreteExcludeConstraint(
            parameters=list(c["when"]),
            conditions=[
                ThresholdCondition(threshold=float(v), operator="=" if op == "==" else op)
                for cond in c["when"].values()
                for op, v in cond.items()
            ],
            combiner="AND",
        )
        for c in forbidden
    ]
    constraints += [DiscreteBatchConstraint(parameters=[n]) for n in shared]
    space = SearchSpace.from_product(params, constraints)
    rows = {tuple(r) for r in space.discrete.exp_rep[names].itertuples(index=False)}
    if rows != {tuple(float(p[n]) for n in names) for p in grid}:
        raise ValueError(f"BayBE's {len(rows)} candidates are not the {len(grid)} feasible points")
    return space


def baybe_batches(
    grid: Sequence[Mapping[str, Any]],
    forbidden: Sequence[Mapping[str, Any]],
    shared: Sequence[str],
    target: str,
    batch_size: int,
    subsets: int = DEFAULT_SUBSETS,
) -> Callable[[list[dict[str, Any]], int], list[dict[str, Any]]]:
    """A batch function for bench/constraints.py's loop, backed by one BayBE campaign.

    Args:
        grid: The feasible grid points.
        forbidden: The campaign's forbidden-region constraints.
        shared: The parameters one furnace run fixes (``DiscreteBatchConstraint`` each).
        target: The objective's name (a log10-modelled conductivity).
        batch_size: Proposals per batch (one furnace run).
        subsets: ``max_n_subsets``: firings BayBE tries per batch.

    Returns:
        ``batch(observations, seed)``: adds the observations it has not seen yet (the loop's
        list of ``{"parameters", "objective"}``, objective in S/cm) to the campaign and returns
        BayBE's next batch as grid points.
    """
    torch.set_num_threads(1)
    names = list(grid[0])
    types = {n: type(grid[0][n]) for n in names}
    recommender = TwoPhaseMetaRecommender(recommender=BotorchRecommender(max_n_subsets=subsets))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        campaign = Campaign(
            searchspace=furnace_searchspace(grid, forbidden, shared),
            objective=NumericalTarget(name=target),
            recommender=recommender,
        )
    seen = 0

    def batch(observations: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
        nonlocal seen
        with warnings.catch_warnings(), Settings(random_seed=seed, cache_directory=None):
            warnings.simplefilter("ignore")
            new = observations[seen:]
            if new:
                frame = pd.DataFrame([o["parameters"] for o in new], columns=names).astype(float)
                frame[target] = np.log10([o["objective"] for o in new])
                campaign.add_measurements(frame)
                seen = len(observations)
            recommended = campaign.recommend(batch_size=batch_size)
        return [{n: types[n](row[n]) for n in names} for _, row in recommended.iterrows()]

    return batch
