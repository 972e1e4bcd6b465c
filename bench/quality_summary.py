"""bench-quality's summaries: per method, the curves over seeds (best / regret / share of the
gap on grids; top-set rows found, AF and EF on pools) and issue 12's acceptance checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import quality_metrics as qm
from problems import Problem
from quality_methods import KILN_METHODS

#: Budgets (experiments) the enhancement factor is reported at, per pool problem.
EF_BUDGETS = {"crossed-barrel": (10, 25, 50, 100), "agnp": (10, 25, 50)}
#: Shares of the top set the acceleration factor is reported at.
AF_LEVELS = (0.5, 0.8)


def budget_of(problem: Problem) -> int:
    return problem.n_init + problem.batch_size * problem.n_batches


def grid_curves(problem: Problem, trace: Mapping[str, Any]) -> dict[str, list[float]]:
    """Best true value, regret and share of the gap after the initial design and each batch."""
    truth = problem.truth(trace["points"])
    best = qm.best_so_far(truth, problem.goal)
    ends = [
        min(problem.n_init + b * problem.batch_size, len(best)) - 1
        for b in range(0, problem.n_batches + 1)
    ]
    values = [float(best[e]) for e in ends]
    return {
        "best": values,
        "regret": [problem.regret(v) for v in values],
        "share": [problem.share_of_gap(v) for v in values],
    }


def pool_curve(problem: Problem, trace: Mapping[str, Any]) -> list[int]:
    """Top-set rows found after each experiment, over the whole budget."""
    rows = [problem.row_of(p) for p in trace["points"]]
    return [int(c) for c in qm.top_found_curve(rows, problem.top_set, budget_of(problem))]


def summarise_grid(problem: Problem, runs: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per method: quartiles of best / regret / share after each batch, time per batch."""
    out: dict[str, Any] = {}
    for method, method_runs in runs.items():
        curves = [grid_curves(problem, r["trace"]) for r in method_runs]
        per_batch = {
            key: [qm.quartiles([c[key][b] for c in curves]) for b in range(problem.n_batches + 1)]
            for key in ("best", "regret", "share")
        }
        out[method] = {
            "seeds": len(method_runs),
            "final": {k: per_batch[k][-1] for k in per_batch},
            "per_batch": per_batch,
            "per_seed_best": [c["best"] for c in curves],
            **_timing(method_runs),
        }
    return out


def summarise_pool(problem: Problem, runs: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per method: experiments to 50 / 80 / 100 % of the top set, AF, EF, found curve quartiles."""
    n_pool, k_top = problem.size, len(problem.top_set)
    budget = budget_of(problem)
    levels = (*AF_LEVELS, 1.0)
    out: dict[str, Any] = {}
    for method, method_runs in runs.items():
        curves = [pool_curve(problem, r["trace"]) for r in method_runs]
        entry: dict[str, Any] = {"seeds": len(method_runs), "levels": {}}
        for level in levels:
            count = qm.level_count(level, k_top)
            needed = [qm.experiments_to(c, count) for c in curves]
            entry["levels"][f"{level:.0%}"] = {
                "count": count,
                "needed": needed,
                "needed_quartiles": qm.quartiles([math.inf if n is None else n for n in needed]),
                "random_expected": qm.random_experiments_to(n_pool, k_top, count),
                "af": qm.acceleration_factor(needed, n_pool, k_top, count),
                "reached": sum(n is not None for n in needed),
            }
        entry["ef"] = {
            str(b): qm.enhancement_factor(curves, n_pool, k_top, b)
            for b in EF_BUDGETS.get(problem.name, (budget,))
            if b <= budget
        }
        entry["found_quartiles"] = [qm.quartiles([c[i] for c in curves]) for i in range(budget)]
        entry["per_seed_found"] = curves
        entry.update(_timing(method_runs))
        out[method] = entry
    return out


def _timing(method_runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    per_batch = [s for r in method_runs for s in r["trace"]["batch_seconds"]]
    return {
        "seconds_per_batch_median": float(np.median(per_batch)) if per_batch else None,
        "wall_seconds_total": float(sum(r["wall_seconds"] for r in method_runs)),
    }


def acceptance(problem: Problem, summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """Issue 12's checks: the service's median inside the library's quartiles (final regret /
    experiments to 50 % and 80 % of the top set); on pools, its AF against the paper's loop."""
    if not all(m in summary for m in KILN_METHODS):
        return None
    service, library = summary["kiln-service"], summary["kiln-library"]
    if problem.pool is None:
        q1, _, q3 = library["final"]["regret"]
        median = service["final"]["regret"][1]
        # Regret: lower is better, so a median below the library's quartiles passes too.
        return {
            "service_regret_median": median,
            "library_regret_quartiles": [q1, q3],
            "within_or_better": median <= q3,
        }
    out: dict[str, Any] = {}
    for level in (f"{lv:.0%}" for lv in AF_LEVELS):
        q1, _, q3 = library["levels"][level]["needed_quartiles"]
        median = service["levels"][level]["needed_quartiles"][1]
        out[level] = {
            "service_needed_median": median,
            "library_needed_quartiles": [q1, q3],
            "within_or_better": median <= q3,
        }
        if "paper-gp" in summary and level in summary["paper-gp"]["levels"]:
            out[level]["service_af"] = service["levels"][level]["af"]
            out[level]["paper_gp_af"] = summary["paper-gp"]["levels"][level]["af"]
    return out


def summarise(problem: Problem, runs: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The summary of a grid or a pool problem."""
    return summarise_grid(problem, runs) if problem.pool is None else summarise_pool(problem, runs)


def problem_facts(problem: Problem) -> dict[str, Any]:
    """What a report says of a problem before its numbers."""
    return {
        "description": problem.description,
        "n_init": problem.n_init,
        "batch_size": problem.batch_size,
        "n_batches": problem.n_batches,
    }
