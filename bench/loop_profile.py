"""bench-loop's refit probe, run when a target is missed: a cold fit (as the worker runs it)
against a warm-started one at a few sizes, and a pyinstrument profile of the cold fit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from harness.profiles import profile_to_file
from harness.report import log

from kiln.lab import VirtualLatpLab
from kiln.model.fitted import fit_model
from kiln.objective import Objective
from kiln.presets import latp_campaign
from kiln.space import SearchSpace


def profile_refit(n: int, out: Path) -> dict[str, Any]:
    """What a refit at `n` observations costs, in-process: the worker's cold fit (as the
    pipeline runs it) against a fit warm-started from the model before the last 6 results.

    Writes a pyinstrument profile of the cold fit to loop-profile-refit.txt.
    """
    campaign = latp_campaign()
    space = SearchSpace.from_dict({"parameters": campaign["parameters"], "version": 1})
    objective = Objective.from_dict(campaign["objective"])
    lab = VirtualLatpLab(seed=0)
    observations = lab.seed_grid()
    grid = space.grid()
    picks = np.random.default_rng(1).choice(len(grid), max(0, n - len(observations)), replace=False)
    observations += [{"parameters": grid[i], **lab.measure(grid[i], rng=int(i))} for i in picks]
    observations = observations[:n]
    rows = []
    for size in sorted({min(n, 86), min(n, 200), n}):
        data = observations[:size]
        started = time.perf_counter()
        cold = fit_model(space, objective, data, random_state=0)
        cold_s = time.perf_counter() - started
        earlier = fit_model(space, objective, data[:-6], random_state=0)
        started = time.perf_counter()
        warm = fit_model(space, objective, data, random_state=0, warm_start=earlier, n_restarts=0)
        warm_s = time.perf_counter() - started
        rows.append(
            {
                "n": size,
                "cold_fit_s": cold_s,
                "warm_fit_s": warm_s,
                "cold_log_marginal_likelihood": cold.surrogate.log_marginal_likelihood_,
                "warm_log_marginal_likelihood": warm.surrogate.log_marginal_likelihood_,
            }
        )
        log(
            f"  refit at n={size}: cold fit (5 restarts, as the worker runs it) {cold_s:.2f} s; "
            f"warm start from the previous model, no restarts {warm_s:.2f} s (log marginal "
            f"likelihood {rows[-1]['cold_log_marginal_likelihood']:.2f} vs "
            f"{rows[-1]['warm_log_marginal_likelihood']:.2f})"
        )
    profile_to_file(
        lambda: fit_model(space, objective, observations, random_state=0),
        out / "loop-profile-refit.txt",
        interval=0.001,
    )
    return {"fits": rows, "files": ["loop-profile-refit.txt"]}
