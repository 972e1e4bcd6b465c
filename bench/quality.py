"""Closed-loop proposal quality through the worker's own code path, beside the library and random.

Methods, side by side on the same problems (bench/problems.py), seeds and initial points:

- ``kiln-service``: what a lab gets from the service. In-process, on a real redis-server (a free
  port, never 6379): the campaign is created as ``POST /campaigns`` does (its schema, then
  ``intake.domain.campaign_definition``, then ``Store.create_campaign``), results are posted as
  ``POST /results`` does (``ResultIn`` schema, ``domain.validate_results``,
  ``Store.append_results`` setting the refit flag; measured proposals carry their
  ``proposal_id``), and then the functions the Celery tasks call run: ``refit_campaign`` (which
  starts the automatic batch, as the refit task does) and ``propose_for_job``. The stored batch is
  read back, measured with the problem's noisy ``measure`` and posted; repeat. Whatever the worker
  does (warm starts, training-set limits, candidate pools) is what is measured.
- ``kiln-library``: the reference: ``kiln.propose.propose`` with a cold fit at every batch
  (``model=None``), no pending points, the same batches.
- ``random``: seeded picks from the grid / pool without repeats.
- ``paper-gp`` (pool problems only): the GP loop of Liang et al. 2021, bench/reference_gp.py.
- ``baybe`` with ``--peers``: bench/peers_baybe.py's ``run_baybe`` when the `peers` extra is
  installed (fewer seeds, said in the output).

Metrics: grid problems, the best TRUE value found after each batch (simple regret, and the share
of the way from the grid's median to its optimum); pools, the top-5 % rows found against
experiments, AF at 50 % and 80 % of the top set and EF at budgets (bench/quality_metrics.py).

Usage: ``make bench-quality`` or ``.venv/bin/python bench/quality.py [--problems a,b]
[--seeds 20] [--quick] [--full] [--jobs 2] [--peers]``. Writes bench/results/quality.json and
bench/results/quality-<problem>.png; prints a table per problem.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent

import machine  # noqa: E402
import quality_metrics as qm  # noqa: E402
import reference_gp  # noqa: E402
from problems import PROBLEMS, Problem, load  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from kiln.objective import Objective  # noqa: E402
from kiln.propose import propose  # noqa: E402
from kiln.space import SearchSpace  # noqa: E402
from kiln.strategy import Strategy  # noqa: E402
from kiln_services.devstack.redis_server import RedisServer  # noqa: E402
from kiln_services.intake import domain  # noqa: E402
from kiln_services.intake.campaigns.schemas import CampaignIn  # noqa: E402
from kiln_services.intake.results.schemas import ResultIn  # noqa: E402
from kiln_services.store import Store  # noqa: E402
from kiln_services.worker import batches, refits  # noqa: E402

RESULTS = HERE / "results"
KILN_METHODS = ("kiln-service", "kiln-library")
#: Seconds the refit flag lives, as the intake's default (KILN_REFIT_FLAG_TTL_S).
REFIT_FLAG_TTL_S = 300
#: Budgets (experiments) the enhancement factor is reported at, per pool problem.
EF_BUDGETS = {"crossed-barrel": (10, 25, 50, 100), "agnp": (10, 25, 50)}
#: Seeds per problem of a default run, as issue 12 asks: 752 s on the 2 cores at a load average of
#: 1-4 (22 min at 5-6, when other jobs share them; the library path's cold fits dominate);
#: --full runs 40 for tighter quartiles (about twice as long).
DEFAULT_SEEDS = 20
#: Shares of the top set the acceleration factor is reported at.
AF_LEVELS = (0.5, 0.8)


# ------------------------------------------------------------------------------------ pools
def pools_supported() -> dict[str, bool]:
    """Which Kiln paths of this checkout take a candidate pool: the library (kiln.pool) and the
    service (a campaign's "candidates")."""
    try:
        importlib.import_module("kiln.pool")
    except ImportError:
        return {"kiln-library": False, "kiln-service": False}
    return {"kiln-library": True, "kiln-service": "candidates" in CampaignIn().fields}


# ------------------------------------------------------------------------------------ methods
def _noise_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """The initial points' noise (the same for every method) and the loop's noise."""
    return np.random.default_rng([seed, 11]), np.random.default_rng([seed, 17])


def _initial(problem: Problem, seed: int) -> tuple[list[dict[str, Any]], list[float]]:
    init_rng, _ = _noise_streams(seed)
    points = problem.initial_points(seed)
    return points, [float(v) for v in problem.measure(points, init_rng)]


def _all_top_found(problem: Problem, points: Sequence[Mapping[str, Any]]) -> bool:
    return problem.pool is not None and problem.top_set <= {problem.row_of(p) for p in points}


def _post(store: Store, cid: str, rows: list[dict[str, Any]]) -> None:
    """Store results as POST /results does: schema, domain validation, append + refit flag."""
    campaign = store.get_campaign(cid)
    loaded = ResultIn(many=True).load(rows)
    valid = domain.validate_results(campaign, loaded)
    store.append_results(cid, valid, mark_refit_ttl_s=REFIT_FLAG_TTL_S)


def run_service(problem: Problem, seed: int, redis_url: str) -> dict[str, Any]:
    """The service path (see the module docstring); returns a trace (bench/problems.py)."""
    store = Store.from_url(redis_url)
    body = {**problem.campaign, "name": f"{problem.name}-{seed}-{uuid.uuid4().hex[:8]}"}
    if problem.pool is not None:
        body["candidates"] = problem.pool
    campaign = store.create_campaign(domain.campaign_definition(CampaignIn().load(body)))
    cid = campaign["id"]
    sent: list[str] = []

    def send(name: str, args: list[Any], queue: str, task_id: str | None) -> None:
        sent.append(name)  # the tasks are called directly below

    points, values = _initial(problem, seed)
    _, rng = _noise_streams(seed)
    _post(
        store,
        cid,
        [
            {"sample_id": f"init-{i}", "parameters": p, "objective": v}
            for i, (p, v) in enumerate(zip(points, values, strict=True))
        ],
    )
    seconds: list[float] = []
    for b in range(problem.n_batches):
        if _all_top_found(problem, points):
            break
        started = time.perf_counter()
        outcome = refits.refit_campaign(store, cid, send)
        job_id = outcome["auto_batch_job"]
        if job_id is None:  # auto_batch off: ask as POST /proposals does
            job_id = store.create_job("proposals", cid, {"overrides": {}})[0]["id"]
        batch = batches.propose_for_job(store, job_id)
        seconds.append(time.perf_counter() - started)
        proposals = batch.get("proposals") or []
        if not proposals:
            break
        new = [dict(p["parameters"]) for p in proposals]
        measured = [float(v) for v in problem.measure(new, rng)]
        _post(
            store,
            cid,
            [
                {"sample_id": f"b{b}-{k}", "parameters": p, "objective": v, "proposal_id": pr["id"]}
                for k, (p, v, pr) in enumerate(zip(new, measured, proposals, strict=True))
            ],
        )
        points += new
        values += measured
    store.redis.close()
    return {"points": points, "values": values, "batch_seconds": seconds, "n_init": problem.n_init}


def run_library(problem: Problem, seed: int) -> dict[str, Any]:
    """kiln.propose with a cold fit at every batch, no pending points."""
    definition = domain.campaign_definition(CampaignIn().load(problem.campaign))
    space = SearchSpace.from_dict({"parameters": definition["parameters"], "version": 1})
    objective = Objective.from_dict(definition["objective"])
    strategy = Strategy.from_dict(definition["strategy"])
    extra: dict[str, Any] = {}
    if problem.pool is not None:
        from kiln.pool import CandidatePool

        extra["pool"] = CandidatePool.from_rows(space, problem.pool)
    points, values = _initial(problem, seed)
    _, rng = _noise_streams(seed)
    seconds: list[float] = []
    for b in range(problem.n_batches):
        if _all_top_found(problem, points):
            break
        started = time.perf_counter()
        observations = [
            {"parameters": p, "objective": v} for p, v in zip(points, values, strict=True)
        ]
        batch = propose(
            space,
            objective,
            observations,
            [],
            strategy,
            model=None,
            random_state=seed * 1_000 + b,
            **extra,
        )
        seconds.append(time.perf_counter() - started)
        new = [dict(p.parameters) for p in batch.proposals]
        if not new:
            break
        points += new
        values += [float(v) for v in problem.measure(new, rng)]
    return {"points": points, "values": values, "batch_seconds": seconds, "n_init": problem.n_init}


def run_random(problem: Problem, seed: int) -> dict[str, Any]:
    """Seeded random picks from the grid / pool, no repeats (of the initial points either)."""
    points, values = _initial(problem, seed)
    _, rng = _noise_streams(seed)
    picker = np.random.default_rng([seed, 23])
    used = {problem.index_of(p) for p in points}
    seconds: list[float] = []
    for _ in range(problem.n_batches):
        if _all_top_found(problem, points):
            break
        started = time.perf_counter()
        picks = problem.random_indices(problem.batch_size, picker, used)
        used.update(picks)
        new = [problem.point(i) for i in picks]
        seconds.append(time.perf_counter() - started)
        if not new:
            break
        points += new
        values += [float(v) for v in problem.measure(new, rng)]
    return {"points": points, "values": values, "batch_seconds": seconds, "n_init": problem.n_init}


def run_peer(problem: Problem, seed: int) -> dict[str, Any]:
    """BayBE (bench/peers_baybe.py, the `peers` extra) on the same problem and seed."""
    peers = importlib.import_module("peers_baybe")
    return dict(peers.run_baybe(problem, seed))


# ------------------------------------------------------------------------------------ running
_PROBLEMS: dict[str, Problem] = {}


def _problem(name: str, budget: Mapping[str, Any] | None) -> Problem:
    key = f"{name}:{sorted((budget or {}).items())}"
    if key not in _PROBLEMS:
        problem = load(name)
        _PROBLEMS[key] = problem.with_budget(**budget) if budget else problem
    return _PROBLEMS[key]


def run_one(
    name: str, budget: Mapping[str, Any] | None, method: str, seed: int, redis_url: str
) -> dict[str, Any]:
    """One (problem, method, seed) run in a worker process, one BLAS thread."""
    problem = _problem(name, budget)
    started = time.perf_counter()
    with threadpool_limits(1):
        if method == "kiln-service":
            trace = run_service(problem, seed, redis_url)
        elif method == "kiln-library":
            trace = run_library(problem, seed)
        elif method == "random":
            trace = run_random(problem, seed)
        elif method == "paper-gp":
            trace = reference_gp.run_reference_gp(problem, seed)
        elif method == "baybe":
            trace = run_peer(problem, seed)
        else:
            raise ValueError(method)
    return {
        "problem": name,
        "method": method,
        "seed": seed,
        "trace": trace,
        "wall_seconds": time.perf_counter() - started,
    }


# ------------------------------------------------------------------------------------ summaries
def _budget(problem: Problem) -> int:
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
    return [int(c) for c in qm.top_found_curve(rows, problem.top_set, _budget(problem))]


def _fmt_q(q: tuple[float, float, float], digits: int = 3) -> str:
    def one(x: float) -> str:
        return "inf" if math.isinf(x) else f"{x:.{digits}g}"

    return f"{one(q[1])} [{one(q[0])}, {one(q[2])}]"


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
    budget = _budget(problem)
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


def print_acceptance(checks: Mapping[str, Any] | None) -> None:
    """One line per check."""
    if checks is None:
        return
    if "within_or_better" in checks:
        q1, q3 = checks["library_regret_quartiles"]
        print(
            f"   service median regret {checks['service_regret_median']:.3g} vs library quartiles "
            f"[{q1:.3g}, {q3:.3g}]: {'ok' if checks['within_or_better'] else 'OUTSIDE'}"
        )
        return
    for level, c in checks.items():
        q1, q3 = c["library_needed_quartiles"]
        line = (
            f"   {level}: service median {c['service_needed_median']:.3g} experiments vs library "
            f"quartiles [{q1:.3g}, {q3:.3g}]: {'ok' if c['within_or_better'] else 'OUTSIDE'}"
        )
        if "paper_gp_af" in c:
            af_s, af_p = c["service_af"], c["paper_gp_af"]
            line += f"; AF service {_fmt_af(af_s)} vs paper-gp {_fmt_af(af_p)}"
        print(line)


def _fmt_af(af: float | None) -> str:
    return "-" if af is None else f"{af:.2f}"


def print_grid(problem: Problem, summary: Mapping[str, Any]) -> None:
    """The table of a grid problem."""
    print(
        f"\n== {problem.name}: {problem.description}\n   {problem.n_init} initial + "
        f"{problem.n_batches} batches of {problem.batch_size}; optimum {problem.optimum:.4g} "
        f"(grid median {problem.median:.4g}); medians [quartiles] over seeds after the last batch"
    )
    unit = " (decades)" if problem.score_transform == "log10" else ""
    print(
        f"   {'method':<14} {'seeds':>5}  {'best true':<26} {'regret' + unit:<26} "
        f"{'% of the way median->opt':<26} {'s/batch':>8}"
    )
    for method, s in summary.items():
        share = tuple(100 * x for x in s["final"]["share"])
        spb = s["seconds_per_batch_median"]
        print(
            f"   {method:<14} {s['seeds']:>5}  {_fmt_q(s['final']['best'], 4):<26} "
            f"{_fmt_q(s['final']['regret']):<26} {_fmt_q(share):<26} "  # type: ignore[arg-type]
            f"{spb if spb is None else f'{spb:.3f}':>8}"
        )


def print_pool(problem: Problem, summary: Mapping[str, Any]) -> None:
    """The table of a pool problem."""
    k_top = len(problem.top_set)
    print(
        f"\n== {problem.name}: {problem.description}\n   top set {k_top} of {problem.size} rows; "
        f"{problem.n_init} initial + up to {problem.n_batches} batches of {problem.batch_size} "
        f"(paper-gp: one pick per step, same budget {_budget(problem)}); experiments to a share "
        "of the top set: median [quartiles] over seeds (inf: not within the budget); AF = "
        "random's exact expectation / the median; EF = mean share found / random's n/N"
    )
    levels = list(next(iter(summary.values()))["levels"])
    efs = list(next(iter(summary.values()))["ef"])
    head = "".join(f"{'n to ' + lv:<22}" for lv in levels)
    head += "".join(f"{'AF ' + lv:>8}" for lv in levels[:-1])
    head += "".join(f"{'EF@' + b:>8}" for b in efs)
    print(f"   {'method':<14} {'seeds':>5}  {head} {'s/batch':>8}")
    for method, s in summary.items():
        row = "".join(f"{_fmt_q(tuple(s['levels'][lv]['needed_quartiles'])):<22}" for lv in levels)
        for lv in levels[:-1]:
            af = s["levels"][lv]["af"]
            row += f"{'-' if af is None else f'{af:.2f}':>8}"
        row += "".join(f"{s['ef'][b]:>8.2f}" for b in efs)
        spb = s["seconds_per_batch_median"]
        print(f"   {method:<14} {s['seeds']:>5}  {row} {spb if spb is None else f'{spb:.3f}':>8}")
    first = next(iter(summary.values()))["levels"]
    print(
        "   random (exact expectation): "
        + ", ".join(f"{lv}: {first[lv]['random_expected']:.1f}" for lv in levels)
    )


COLORS = {
    "kiln-service": "tab:blue",
    "kiln-library": "tab:orange",
    "random": "tab:gray",
    "paper-gp": "tab:green",
    "baybe": "tab:red",
}


def plot(problem: Problem, summary: Mapping[str, Any], path: Path) -> None:
    """Median line and quartile band per method against experiments."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, s in summary.items():
        color = COLORS.get(method)
        if problem.pool is None:
            x = [problem.n_init + b * problem.batch_size for b in range(problem.n_batches + 1)]
            q = np.array(s["per_batch"]["regret"])
            ylabel = "simple regret" + (" (decades)" if problem.score_transform == "log10" else "")
        else:
            x = list(range(1, _budget(problem) + 1))
            q = np.array(s["found_quartiles"])
            ylabel = f"top-set rows found (of {len(problem.top_set)})"
        ax.plot(x, q[:, 1], label=f"{method} ({s['seeds']} seeds)", color=color)
        ax.fill_between(x, q[:, 0], q[:, 2], alpha=0.2, color=color)
    if problem.pool is not None:
        x = np.arange(1, _budget(problem) + 1)
        ax.plot(x, len(problem.top_set) * x / problem.size, "k--", lw=1, label="random (exact)")
    else:
        ax.set_yscale("symlog", linthresh=1e-3 if problem.score_transform == "log10" else 1e-2)
    ax.set_xlabel("experiments")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{problem.name}: median and quartiles over seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------ main
def methods_for(problem: Problem, *, pools: Mapping[str, bool], peers: bool) -> list[str]:
    """The methods run on a problem (Kiln on pools only where this checkout has them)."""
    out = [m for m in KILN_METHODS if problem.pool is None or pools[m]]
    out.append("random")
    if problem.pool is not None:
        out.append("paper-gp")
    if peers:
        out.append("baybe")
    return out


def peers_available() -> bool:
    """Whether bench/peers_baybe.py and its `baybe` dependency import."""
    try:
        importlib.import_module("peers_baybe")
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the tables, write quality.json and the plots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS), help="comma-separated names")
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds per problem (default 20, --full 40)"
    )
    parser.add_argument("--peer-seeds", type=int, default=5, help="seeds for --peers")
    parser.add_argument("--quick", action="store_true", help="3 seeds: a smoke run")
    parser.add_argument("--full", action="store_true", help="40 seeds per problem")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--peers", action="store_true", help="also run BayBE (the peers extra)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n_seeds = args.seeds or (3 if args.quick else 40 if args.full else DEFAULT_SEEDS)
    names = [n for n in args.problems.split(",") if n]
    for n in names:
        load(n)  # fail early on a typo
    pools = pools_supported()
    peers = args.peers and peers_available()
    info = machine.describe()
    print(f"bench-quality: {machine.summary(info)}")
    print(f"seeds 0..{n_seeds - 1} per problem; {args.jobs} processes, one BLAS thread each")
    for method, ok in pools.items():
        if not ok:
            print(f"candidate pools are not in this checkout's {method}: skipped on pool problems")
    if args.peers and not peers:
        print("peers skipped: bench/peers_baybe.py or the `peers` extra is not installed")
    elif not args.peers:
        print("peers skipped (run with --peers and the `peers` extra installed)")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tasks: list[tuple[str, str, int]] = []
    for name in names:
        problem = load(name)
        for method in methods_for(problem, pools=pools, peers=peers):
            seeds = min(n_seeds, args.peer_seeds) if method == "baybe" else n_seeds
            tasks += [(name, method, s) for s in range(seeds)]
    # The slow ones first, so the two processes finish together.
    order = {"kiln-library": 0, "kiln-service": 1, "baybe": 0, "paper-gp": 2, "random": 3}
    tasks.sort(key=lambda t: (order[t[1]], t[0], t[2]))
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="kiln-bench-quality-") as tmp,
        RedisServer(Path(tmp)) as redis_server,
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
    ):
        url = redis_server.url
        futures = {pool.submit(run_one, n, None, m, s, url): (n, m, s) for n, m, s in tasks}
        for done, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            if done % max(1, len(tasks) // 20) == 0 or done == len(tasks):
                print(
                    f"  {done}/{len(tasks)} runs, {time.perf_counter() - started:.0f} s", flush=True
                )
    wall = time.perf_counter() - started
    report: dict[str, Any] = {
        "benchmark": "bench-quality",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "load_average_after": machine.load_average(),
        "wall_seconds": wall,
        "seeds": list(range(n_seeds)),
        "jobs": args.jobs,
        "pools_supported": pools,
        "peers": peers,
        "reference_gp": reference_gp.describe(),
        "problems": {},
    }
    for name in names:
        problem = load(name)
        runs: dict[str, list[dict[str, Any]]] = {}
        for method in methods_for(problem, pools=pools, peers=peers):
            chosen = [r for r in results if r["problem"] == name and r["method"] == method]
            runs[method] = sorted(chosen, key=lambda r: r["seed"])
        if problem.pool is None:
            summary = summarise_grid(problem, runs)
            print_grid(problem, summary)
        else:
            summary = summarise_pool(problem, runs)
            print_pool(problem, summary)
        checks = acceptance(problem, summary)
        print_acceptance(checks)
        plot(problem, summary, args.out / f"quality-{name}.png")
        report["problems"][name] = {
            "description": problem.description,
            "n_init": problem.n_init,
            "batch_size": problem.batch_size,
            "n_batches": problem.n_batches,
            "budget": _budget(problem),
            "goal": problem.goal,
            "noise_sd": problem.noise_sd,
            "noise_unit": problem.noise_unit,
            "optimum": problem.optimum,
            "median": problem.median,
            "size": problem.size,
            "top_set_size": len(problem.top_set),
            "methods": summary,
            "acceptance": checks,
        }
    print(
        f"\nwall time {wall:.0f} s; load average before {info['load_average']}, after "
        f"{report['load_average_after']}"
    )
    path = args.out / "quality.json"
    path.write_text(json.dumps(_finite(report), indent=1, allow_nan=False) + "\n")
    print(f"wrote {path} and {args.out}/quality-<problem>.png")
    return 0


def _finite(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, infinities (never reached) and NaN to None."""
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


if __name__ == "__main__":
    sys.exit(main())
