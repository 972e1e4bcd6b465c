"""bench-moo's virtual LATP lab: the ``latp-moo`` preset through the public API, EHVI against random.

The campaign is ``{"preset": "latp-moo"}`` (conductivity, log10, threshold 1e-4 S/cm; relative
density, threshold 0.90; the 2,574-point grid of iterations 3-4, holding time on a log scale). Each
run starts from 6 random grid points, then proposes 7 batches of 6 with
:func:`kiln.multiobjective.propose.propose_pareto` (the preset's strategy with acquisition ``ehvi``
or ``parego``; the models of the previous batch passed back as a warm start) or picks 6 unmeasured
grid points at random; the virtual lab (:func:`kiln.lab.measure_objectives`, seeded noise) measures
them.
The hypervolume is that of the TRUE (noise-free) values of the measured points, on the model
scale (decades of S/cm times relative density) against the thresholds, after 6, 12, ... 48
experiments; the same seeds for every method (the same random start and the same noise draw for
the n-th measurement). Per budget the summary gives the median, the seeds where a method beats
random, and a paired bootstrap 90 % interval of the median difference: on this lab the seed-to-seed
spread is large against the differences (the front's density span, 0.957-0.970, is little more
than the 0.01 density noise), so the medians of 20 seeds alone can flip between seed sets.

Also the time of one batch of 4 through ``propose_pareto`` at 10,000 candidates (a 100 x 100
grid), n = 100 results, 2 objectives (Branin-Currin): cold (fitting both models) and with the
models already fitted on those results (selection only).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from kiln.campaign import campaign_definition, objectives_of, space_of
from kiln.lab import VirtualLatpLab, measure_objectives
from kiln.multiobjective.pareto import hypervolume
from kiln.multiobjective.propose import propose_pareto
from kiln.space import SearchSpace
from kiln.strategy import Strategy

INITIAL, BATCH, BATCHES = 6, 6, 7
#: The methods compared: Kiln's two acquisitions through propose_pareto, and random picks.
METHODS = ("ehvi", "parego", "random")
#: Bootstrap resamples of the seeds for the interval of the median difference.
BOOTSTRAP = 2000
#: Seeds of the default run (``--full``: 20).
DEFAULT_SEEDS = 10


def latp_run(method: str, seed: int) -> list[float]:
    """Hypervolume of the true values after the random start and after every batch.

    Args:
        method: ``"ehvi"`` or ``"parego"`` (the preset's strategy with that acquisition), or
            ``"random"``.
        seed: Seeds the lab's noise, the random start and the proposals.
    """
    campaign = campaign_definition({"preset": "latp-moo"})
    space, objectives = space_of(campaign), objectives_of(campaign)
    strategy = Strategy.from_dict(campaign["strategy"])
    if method != "random":
        strategy = replace(strategy, acquisition=method)
    ref = objectives.thresholds_model()
    lab = VirtualLatpLab(seed)
    rng = np.random.default_rng([seed, 16])
    grid = space.candidates(rng)
    start = rng.choice(len(grid), INITIAL, replace=False)
    results = [_measured(lab, objectives.names, grid[int(i)], n) for n, i in enumerate(start)]
    hv = [_true_hypervolume(lab, objectives, results, ref)]
    models = None
    with threadpool_limits(1):
        for b in range(BATCHES):
            if method == "random":
                taken = {tuple(r["parameters"].values()) for r in results}
                open_ = [i for i, p in enumerate(grid) if tuple(p.values()) not in taken]
                points = [grid[int(i)] for i in rng.choice(open_, BATCH, replace=False)]
            else:
                batch = propose_pareto(
                    space, objectives, results, [], strategy, models=models,
                    random_state=seed * 1000 + b,
                )  # fmt: skip
                models = batch.models
                points = [p.parameters for p in batch.proposals]
            n0 = len(results)
            results += [_measured(lab, objectives.names, p, n0 + k) for k, p in enumerate(points)]
            hv.append(_true_hypervolume(lab, objectives, results, ref))
    return hv


def _measured(lab: VirtualLatpLab, names: list[str], point: dict[str, Any], n: int) -> dict:
    return {
        "sample_id": f"L{n}",
        "parameters": dict(point),
        **measure_objectives(lab, point, names, n),
    }


def _true_hypervolume(
    lab: VirtualLatpLab, objectives: Any, results: list[dict], ref: np.ndarray
) -> float:
    """Hypervolume of the noise-free values at the measured points (model scale)."""
    truth = [lab.truth(**{k: r["parameters"][k] for k in lab.parameter_names}) for r in results]
    values = np.array([[t[name] for name in objectives.names] for t in truth])
    return hypervolume(objectives.to_model(values), ref)


def time_public_batch(repeats: int = 3) -> dict[str, float]:
    """Seconds for a batch of 4 through propose_pareto: 10,000 grid candidates, n = 100."""
    from moo import branin_currin  # bench/moo.py, on the path as bench-moo runs

    step = 1 / 99
    space = SearchSpace.from_dict(
        {
            "parameters": [
                {"name": "u", "kind": "continuous", "low": 0.0, "high": 1.0, "step": step},
                {"name": "v", "kind": "continuous", "low": 0.0, "high": 1.0, "step": step},
            ]
        }
    )
    campaign = {
        "objectives": [
            {"name": "branin", "goal": "minimize", "threshold": 18.0},
            {"name": "currin", "goal": "minimize", "threshold": 6.0},
        ]
    }
    objectives = objectives_of(campaign)
    rng = np.random.default_rng(0)
    grid = space.candidates(rng)
    assert len(grid) == 10_000, len(grid)
    rows = rng.choice(len(grid), 100, replace=False)
    X = np.array([[grid[int(i)]["u"], grid[int(i)]["v"]] for i in rows])
    F = branin_currin(X)
    results = [
        {"parameters": grid[int(i)], "objectives": {"branin": f[0], "currin": f[1]}}
        for i, f in zip(rows, F, strict=True)
    ]
    strategy = Strategy(acquisition="ehvi", batch_size=4)
    cold, warm = [], []
    with threadpool_limits(1):
        for _ in range(repeats):
            t0 = time.perf_counter()
            batch = propose_pareto(space, objectives, results, [], strategy)
            t1 = time.perf_counter()
            propose_pareto(space, objectives, results, [], strategy, models=batch.models)
            cold.append(t1 - t0)
            warm.append(time.perf_counter() - t1)
    return {"cold_s": float(np.median(cold)), "models_given_s": float(np.median(warm))}


def grid_maximum() -> float:
    """The hypervolume of the true values of the whole grid (the best any run can reach)."""
    campaign = campaign_definition({"preset": "latp-moo"})
    space, objectives = space_of(campaign), objectives_of(campaign)
    grid = space.candidates(np.random.default_rng(0))
    results = [{"parameters": p} for p in grid]
    return _true_hypervolume(VirtualLatpLab(0), objectives, results, objectives.thresholds_model())


def summarise_latp(runs: dict[str, list[list[float]]]) -> dict[str, Any]:
    """Print the median (quartiles) hypervolume per budget and method; return the table."""
    budgets = [INITIAL + BATCH * b for b in range(BATCHES + 1)]
    n = len(next(iter(runs.values())))
    print(f"\nlatp-moo: {INITIAL} random + {BATCHES} batches of {BATCH}, {n} seeds; "
          "true hypervolume (decades x density) above (1e-4 S/cm, 0.90)")  # fmt: skip
    print("  experiments    " + "".join(f"{b:>8d}" for b in budgets))
    table: dict[str, Any] = {"budgets": budgets, "grid_maximum": grid_maximum()}
    for method, hv in runs.items():
        q1, med, q3 = np.percentile(np.array(hv), [25, 50, 75], axis=0)
        table[method] = {"median": med.tolist(), "q1": q1.tolist(), "q3": q3.tolist()}
        for label, row in (("median", med), ("q1", q1), ("q3", q3)):
            print(f"  {method:7s}{label:7s} " + "".join(f"{v:8.4f}" for v in row))
    print(f"  grid maximum {table['grid_maximum']:.4f}")
    models = [m for m in runs if m != "random"] if "random" in runs else []
    for method in models:
        table[f"{method}_vs_random"] = _versus_random(method, runs, budgets)
    return table


def _versus_random(method: str, runs: dict[str, list[list[float]]], budgets: list[int]) -> dict:
    """Per budget: seeds where ``method`` beats random, the median difference and its paired
    bootstrap 90 % interval (seeds resampled together); print them and the verdict."""
    hv, rnd = np.array(runs[method]), np.array(runs["random"])
    wins = (hv > rnd).sum(axis=0)
    diff = np.median(hv, axis=0) - np.median(rnd, axis=0)
    rows = np.random.default_rng(0).integers(0, hv.shape[0], (BOOTSTRAP, hv.shape[0]))
    boot = np.median(hv[rows], axis=1) - np.median(rnd[rows], axis=1)
    low, high = np.percentile(boot, [5, 95], axis=0)
    print(f"  {method} vs random: seeds won " + "".join(f"{w:8d}" for w in wins))
    print(f"  {'':9s}median diff   " + "".join(f"{v:+8.4f}" for v in diff))
    print(f"  {'':9s}90% interval  " + "".join(f"{v:+8.4f}" for v in low))
    print(f"  {'':9s}              " + "".join(f"{v:+8.4f}" for v in high))
    worse = [b for b, d in zip(budgets[1:], diff[1:], strict=True) if not d > 0]
    verdict = "yes" if not worse else f"NO at {worse}"
    print(f"  {method} median above random at every budget after the start: {verdict}")
    return {
        "seeds_won": wins.tolist(),
        "median_difference": diff.tolist(),
        "interval_90": [low.tolist(), high.tolist()],
        "every_budget": not worse,
    }
