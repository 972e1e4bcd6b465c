"""bench-quality's methods: one closed loop per (problem, method, seed), each returning a trace
(bench/problems): the service's own code path, the library, random picks, the paper's GP loop
and, with the `peers` extra, BayBE; and the pool of processes that runs them."""

from __future__ import annotations

import importlib
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import reference_gp
from problems import Problem, load
from threadpoolctl import threadpool_limits

from kiln.objective import Objective
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln_services.devstack.redis_server import RedisServer
from kiln_services.intake import domain
from kiln_services.intake.campaigns.schemas import CampaignIn
from kiln_services.intake.results.schemas import ResultIn
from kiln_services.store import Store
from kiln_services.worker import batches, refits

KILN_METHODS = ("kiln-service", "kiln-library")
#: Seconds the refit flag lives, as the intake's default (KILN_REFIT_FLAG_TTL_S).
REFIT_FLAG_TTL_S = 300


def pools_supported() -> dict[str, bool]:
    """Which Kiln paths of this checkout take a candidate pool: the library (kiln.pool) and the
    service (a campaign's "candidates")."""
    try:
        importlib.import_module("kiln.pool")
    except ImportError:
        return {"kiln-library": False, "kiln-service": False}
    return {"kiln-library": True, "kiln-service": "candidates" in CampaignIn().fields}


def peers_available() -> bool:
    """Whether bench/peers_baybe.py and its `baybe` dependency import."""
    try:
        importlib.import_module("peers_baybe")
    except ImportError:
        return False
    return True


def methods_for(problem: Problem, *, pools: Mapping[str, bool], peers: bool) -> list[str]:
    """The methods run on a problem (Kiln on pools only where this checkout has them)."""
    out = [m for m in KILN_METHODS if problem.pool is None or pools[m]]
    out.append("random")
    if problem.pool is not None:
        out.append("paper-gp")
    if peers:
        out.append("baybe")
    return out


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
    campaign = store.campaigns.get(cid)
    loaded = ResultIn(many=True).load(rows)
    valid = domain.validate_results(campaign, loaded)
    store.results.append(cid, valid, mark_refit_ttl_s=REFIT_FLAG_TTL_S)


def run_service(problem: Problem, seed: int, redis_url: str) -> dict[str, Any]:
    """The service path (see bench/quality.py); returns a trace (bench/problems)."""
    store = Store.from_url(redis_url)
    body = {**problem.campaign, "name": f"{problem.name}-{seed}-{uuid.uuid4().hex[:8]}"}
    if problem.pool is not None:
        body["candidates"] = problem.pool
    campaign = store.campaigns.create(domain.campaign_definition(CampaignIn().load(body)))
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
            job_id = store.jobs.create("proposals", cid, {"overrides": {}})[0]["id"]
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
    return _trace(problem, points, values, seconds)


def _closed_loop(
    problem: Problem,
    seed: int,
    start: Callable[
        [list[dict[str, Any]]], Callable[[int, list[dict[str, Any]], list[float]], list]
    ],
) -> dict[str, Any]:
    """The loop every in-process method shares: the seeded initial design, then batches until
    the budget is spent (or a pool's top set is found), each measured with the loop's noise.

    `start(initial points)` gives the method's ``next_batch(b, points, values)``; its wall time
    is the batch's seconds.
    """
    points, values = _initial(problem, seed)
    _, rng = _noise_streams(seed)
    next_batch = start(points)
    seconds: list[float] = []
    for b in range(problem.n_batches):
        if _all_top_found(problem, points):
            break
        started = time.perf_counter()
        new = next_batch(b, points, values)
        seconds.append(time.perf_counter() - started)
        if not new:
            break
        points += new
        values += [float(v) for v in problem.measure(new, rng)]
    return _trace(problem, points, values, seconds)


def _trace(
    problem: Problem, points: list[dict[str, Any]], values: list[float], seconds: list[float]
) -> dict[str, Any]:
    """A method's trace for one seed (the format in bench/problems)."""
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

    def next_batch(b: int, points: list[dict[str, Any]], values: list[float]) -> list:
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
        return [dict(p.parameters) for p in batch.proposals]

    return _closed_loop(problem, seed, lambda initial: next_batch)


def run_random(problem: Problem, seed: int) -> dict[str, Any]:
    """Seeded random picks from the grid / pool, no repeats (of the initial points either)."""

    def start(initial: list[dict[str, Any]]) -> Callable[..., list]:
        picker = np.random.default_rng([seed, 23])
        used = {problem.index_of(p) for p in initial}

        def next_batch(b: int, points: list[dict[str, Any]], values: list[float]) -> list:
            picks = problem.random_indices(problem.batch_size, picker, used)
            used.update(picks)
            return [problem.point(i) for i in picks]

        return next_batch

    return _closed_loop(problem, seed, start)


def run_peer(problem: Problem, seed: int) -> dict[str, Any]:
    """BayBE (bench/peers_baybe.py, the `peers` extra) on the same problem and seed."""
    peers = importlib.import_module("peers_baybe")
    return dict(peers.run_baybe(problem, seed))


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


def run_tasks(
    tasks: Sequence[tuple[str, str, int]], jobs: int, prefix: str, started: float
) -> tuple[list[dict[str, Any]], float]:
    """Every (problem, method, seed) in `jobs` processes beside one redis-server; progress
    printed about every 5 %. Returns the runs and the wall seconds since `started`."""
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        RedisServer(Path(tmp)) as redis_server,
        ProcessPoolExecutor(max_workers=jobs) as pool,
    ):
        url = redis_server.url
        futures = {pool.submit(run_one, n, None, m, s, url): (n, m, s) for n, m, s in tasks}
        for done, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            if done % max(1, len(tasks) // 20) == 0 or done == len(tasks):
                print(
                    f"  {done}/{len(tasks)} runs, {time.perf_counter() - started:.0f} s", flush=True
                )
    return results, time.perf_counter() - started


def runs_of(
    results: Sequence[dict[str, Any]], name: str, methods: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """A problem's runs per method, in seed order."""
    return {
        m: sorted(
            (r for r in results if r["problem"] == name and r["method"] == m),
            key=lambda r: r["seed"],
        )
        for m in methods
    }
