"""BayBE (0.15, its default recommender) on a `bench/problems` problem: the peer of Kiln.

Needs the opt-in ``peers`` extra (``make bench-quality-peers`` installs it): BayBE runs on
BoTorch and PyTorch, which `make venv` / `make test` never install.

What BayBE is given, so the comparison is like for like:

- the same initial design (``problem.initial_points(seed)``) with the same noisy measurements,
  added as BayBE's first measurements, so its default TwoPhaseMetaRecommender (random, then
  BotorchRecommender once it has data) never draws random points of its own;
- the same batch size and number of batches, the same measurement noise (``noise_rng``);
- its default recommender and surrogate, and its default ``allow_recommending_*`` flags (on
  discrete spaces it does not propose a point already measured);
- pools as ``SearchSpace.from_dataframe`` over the pool rows (each column a
  ``NumericalDiscreteParameter`` of its values), so it proposes only pool rows;
- grids: Kiln's discrete parameters as ``NumericalDiscreteParameter``, categorical ones as
  ``CategoricalParameter`` (one-hot, BayBE's default). Kiln's stepped continuous parameters: on
  grids of at most ``GRID_LIMIT`` points (latp, branin-cat, mixed-4) BayBE gets the grid Kiln
  scores, each step a value of a ``NumericalDiscreteParameter``, so both choose among the same
  candidates; on larger grids (decoy-3d, hartmann6), where BayBE's discrete search gets slow,
  ``NumericalContinuousParameter`` over [low, high], each recommended value snapped to the
  nearest step (the grid point that is run and reported back to BayBE). ``grid=False`` gives
  every stepped parameter as continuous (BayBE's hybrid search: 10 s per batch on mixed-4,
  100-170 s on latp at batch 6, on the shared machine);
- the objective direction of the problem (``minimize=True`` for a minimisation); where the
  campaign models a log10 target (the virtual LATP lab), BayBE is given log10 of each
  measurement (the trace keeps the original unit), as Kiln models it.

BayBE 0.15 sends no telemetry (the switch of older releases, BAYBE_TELEMETRY_ENABLED, is gone;
0.15 refuses to start when an unknown BAYBE_* variable is set); its warnings and those of
BoTorch/GPyTorch are silenced for the run, and its disk cache is turned off.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from baybe import Campaign
from baybe.parameters import (
    CategoricalParameter,
    NumericalContinuousParameter,
    NumericalDiscreteParameter,
)
from baybe.searchspace import SearchSpace
from baybe.settings import Settings
from baybe.targets import NumericalTarget
from problems import Problem

#: Largest grid BayBE is given as a discrete space: its discrete search scores every row for
#: each of the batch's sequential picks (decoy-3d's 132,651 points took 130-150 s per batch of 4
#: on the shared 2-core machine, against 3-13 s for the grids below this limit).
GRID_LIMIT = 20_000


def noise_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The noise of a seed's initial points and of its loop: the streams bench/quality_methods.py's
    ``_noise_streams`` gives every method, so BayBE sees the same initial values as Kiln."""
    return np.random.default_rng([seed, 11]), np.random.default_rng([seed, 17])


def _log_target(problem: Problem) -> bool:
    return problem.campaign["objective"].get("transform") == "log10"


def _snap(value: float, spec: Mapping[str, Any]) -> float:
    """A continuous value moved to the nearest step of its parameter (and inside its bounds)."""
    low, high = float(spec["low"]), float(spec["high"])
    step = spec.get("step")
    if step:
        k = round((float(value) - low) / float(step))
        k = min(max(k, 0), math.floor((high - low) / float(step) + 1e-9))
        value = low + k * float(step)
    return round(min(max(float(value), low), high), 10)


def as_grid(problem: Problem) -> bool:
    """Whether BayBE gets the problem's stepped parameters as a grid (Kiln scores its grid)."""
    return problem.pool is None and problem.size <= GRID_LIMIT


def searchspace(problem: Problem, grid: bool) -> Any:
    """BayBE's search space for the problem (see the module docstring for the mapping).

    Args:
        problem: The benchmark problem.
        grid: Give stepped continuous parameters as their steps (discrete) rather than as
            continuous ranges.
    """
    specs = problem.campaign["parameters"]
    if problem.pool is not None:
        frame = pd.DataFrame(problem.pool, columns=problem.names)
        params = [
            NumericalDiscreteParameter(name=n, values=tuple(sorted(set(frame[n].tolist()))))
            for n in problem.names
        ]
        return SearchSpace.from_dataframe(frame, params)
    parameters: list[Any] = []
    assert problem.levels is not None
    for spec, levels in zip(specs, problem.levels, strict=True):
        if spec["kind"] == "categorical":
            parameters.append(CategoricalParameter(name=spec["name"], values=tuple(spec["values"])))
        elif spec["kind"] == "discrete" or (grid and spec.get("step")):
            parameters.append(
                NumericalDiscreteParameter(
                    name=spec["name"], values=tuple(float(v) for v in levels)
                )
            )
        else:
            parameters.append(
                NumericalContinuousParameter(
                    name=spec["name"], bounds=(float(spec["low"]), float(spec["high"]))
                )
            )
    return SearchSpace.from_product(parameters)


def _points(problem: Problem, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """BayBE's recommendations as the problem's points (continuous values snapped to steps)."""
    out: list[dict[str, Any]] = []
    for _, row in frame.iterrows():
        point: dict[str, Any] = {}
        for spec in problem.campaign["parameters"]:
            value = row[spec["name"]]
            if spec["kind"] == "categorical":
                point[spec["name"]] = str(value)
            elif spec["kind"] == "continuous" and problem.pool is None:
                point[spec["name"]] = _snap(value, spec)
            else:
                point[spec["name"]] = float(value)
        out.append(point)
    return out


def _measurements(
    problem: Problem, points: Sequence[Mapping[str, Any]], values: np.ndarray
) -> pd.DataFrame:
    target = problem.campaign["objective"]["name"]
    frame = pd.DataFrame([dict(p) for p in points], columns=problem.names)
    frame[target] = np.log10(values) if _log_target(problem) else values
    return frame


def run_baybe(problem: Problem, seed: int, *, grid: bool | None = None) -> dict[str, Any]:
    """One seeded closed-loop run of BayBE's default recommender on `problem`.

    Args:
        problem: The benchmark problem (bench/problems).
        seed: The seed of the initial design, the noise (:func:`noise_streams`) and BayBE's own
            randomness.
        grid: Stepped parameters as a discrete grid (True) or continuous (False); None: as Kiln
            searches them (:func:`as_grid`).

    Returns:
        The trace (bench/problems's format): ``points``, ``values`` (measured, original
        unit), ``batch_seconds`` (wall time of each ``recommend`` call), ``n_init``; plus
        ``method`` ("baybe"), ``seed`` and ``space`` ("pool", "grid" or "continuous").
    """
    torch.set_num_threads(1)
    if grid is None:
        grid = as_grid(problem)
    init_rng, rng = noise_streams(seed)
    points = [dict(p) for p in problem.initial_points(seed)]
    values = problem.measure(points, init_rng)
    batch_seconds: list[float] = []
    with warnings.catch_warnings(), Settings(random_seed=seed, cache_directory=None):
        warnings.simplefilter("ignore")
        target = NumericalTarget(
            name=problem.campaign["objective"]["name"], minimize=problem.goal == "minimize"
        )
        campaign = Campaign(searchspace=searchspace(problem, grid), objective=target)
        campaign.add_measurements(_measurements(problem, points, values))
        for _ in range(problem.n_batches):
            started = time.perf_counter()
            recommended = campaign.recommend(batch_size=problem.batch_size)
            batch_seconds.append(time.perf_counter() - started)
            batch = _points(problem, recommended)
            measured = problem.measure(batch, rng)
            campaign.add_measurements(_measurements(problem, batch, measured))
            points.extend(batch)
            values = np.concatenate([values, measured])
    return {
        "method": "baybe",
        "seed": seed,
        "space": "pool" if problem.pool is not None else "grid" if grid else "continuous",
        "points": points,
        "values": [float(v) for v in values],
        "batch_seconds": batch_seconds,
        "n_init": problem.n_init,
    }
