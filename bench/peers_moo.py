"""BayBE (0.15) ``ParetoObjective`` with qLogNEHVI on bench-moo's problems: the peer of Kiln's EHVI.

Needs the opt-in ``peers`` extra (``make bench-moo-peers`` installs it): BayBE runs on BoTorch
and PyTorch, which `make venv` / `make test` never install.

What BayBE is given, so the comparison is like for like (bench/moo.py's ``SETUPS``):

- the same initial design and initial noise: drawn from ``np.random.default_rng(seed)`` exactly
  as bench/moo.py's ``run`` draws them, added as BayBE's first measurements (so its
  TwoPhaseMetaRecommender goes straight to BotorchRecommender);
- two maximised ``NumericalTarget`` s (the problems' negated objectives, as Kiln maximises them)
  in a ``ParetoObjective``; acquisition ``qLogNEHVI`` with the problem's reference point
  (VLMOP2 (-1, -1), Branin-Currin (-18, -6)) given as coordinates; its default surrogate;
- VLMOP2: the 101 x 101 unit grid as two ``NumericalDiscreteParameter`` s (BayBE scores the grid
  and, by default, never proposes a measured point); Branin-Currin: two
  ``NumericalContinuousParameter`` s on [0, 1] (BoTorch's gradient optimiser of the acquisition,
  BayBE's defaults), observations with the tutorial's noise drawn from the seed's stream;
- the same batch size and number of batches; the hypervolume of the TRUE values of every
  evaluated point after the initial design and after each batch, as for Kiln.

BayBE's own randomness is seeded with the seed (``Settings(random_seed=...)``); its warnings and
those of BoTorch/GPyTorch are silenced; its disk cache is turned off.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from baybe import Campaign
from baybe.acquisition import qLogNEHVI
from baybe.objectives import ParetoObjective
from baybe.parameters import NumericalContinuousParameter, NumericalDiscreteParameter
from baybe.recommenders import BotorchRecommender, TwoPhaseMetaRecommender
from baybe.searchspace import SearchSpace
from baybe.settings import Settings
from baybe.targets import NumericalTarget
from moo import SETUPS, Setup
from scipy.stats import qmc

from kiln.multiobjective.pareto import hypervolume

INPUTS = ("x0", "x1")
OUTPUTS = ("y0", "y1")


def _campaign(s: Setup) -> Any:
    """BayBE's campaign for a bench-moo setup (grid or continuous unit square)."""
    if s.grid is not None:
        levels = tuple(float(v) for v in np.unique(s.grid[:, 0]))
        params: list[Any] = [NumericalDiscreteParameter(name=n, values=levels) for n in INPUTS]
    else:
        params = [NumericalContinuousParameter(name=n, bounds=(0.0, 1.0)) for n in INPUTS]
    acqf = qLogNEHVI(reference_point=tuple(float(v) for v in s.ref))
    return Campaign(
        searchspace=SearchSpace.from_product(params),
        objective=ParetoObjective([NumericalTarget(name=n) for n in OUTPUTS]),
        recommender=TwoPhaseMetaRecommender(
            recommender=BotorchRecommender(acquisition_function=acqf)
        ),
    )


def _frame(X: np.ndarray, Y: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(X, columns=list(INPUTS))
    for j, n in enumerate(OUTPUTS):
        frame[n] = Y[:, j]
    return frame


def run_baybe(key: str, seed: int) -> list[float]:
    """One seeded closed loop of BayBE on bench/moo.py's setup ``key``; prints its final
    hypervolume and the median wall time of its ``recommend`` calls (one line per run).

    Returns:
        The hypervolume of the true values after the initial design and after every batch.
    """
    torch.set_num_threads(1)
    s = SETUPS[key]
    rng = np.random.default_rng(seed)
    if s.grid is not None:
        X = s.grid[rng.choice(s.grid.shape[0], s.n_init, replace=False)]
    else:
        X = qmc.Sobol(2, scramble=True, seed=rng).random(8)[: s.n_init]
    F = s.truth(X)
    Y = F + rng.normal(0, 1, F.shape) * s.noise
    hv, batch_s = [hypervolume(F, s.ref)], []
    with warnings.catch_warnings(), Settings(random_seed=seed, cache_directory=None):
        warnings.simplefilter("ignore")
        campaign = _campaign(s)
        campaign.add_measurements(_frame(X, Y))
        for _ in range(s.n_batches):
            started = time.perf_counter()
            recommended = campaign.recommend(batch_size=s.q)
            batch_s.append(time.perf_counter() - started)
            Xn = recommended[list(INPUTS)].to_numpy(dtype=float)
            Fn = s.truth(Xn)
            Yn = Fn + rng.normal(0, 1, Fn.shape) * s.noise
            campaign.add_measurements(_frame(Xn, Yn))
            X, F = np.vstack([X, Xn]), np.vstack([F, Fn])
            hv.append(hypervolume(F, s.ref))
    print(f"    baybe {key} seed {seed}: final HV {hv[-1]:.4f}, recommend "
          f"{np.median(batch_s):.2f} s median, {max(batch_s):.2f} s max", flush=True)  # fmt: skip
    return hv
