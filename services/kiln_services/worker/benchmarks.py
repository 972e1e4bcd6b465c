"""Virtual experiments as a fan-out: one planner task, many chunk tasks, the last one summarises.

No Celery result backend and no task waits for another: every chunk stores its outcome on the
job in Redis, and the chunk that completes the set writes the summary. The plan pins the data
(a prefix of the append-only log) and the space, so chunks agree even if results keep arriving
(a correction made while a job runs reaches the chunks that start after it).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from kiln.errors import KilnError
from kiln.strategy_choice import choose_strategy
from kiln.virtual_experiments import pool_from_results, repeat_seed, run_repeat, summarise
from kiln_services import task_names
from kiln_services.store import Store
from kiln_services.worker.refits import Send


def _pool(store: Store, campaign_id: str, plan: dict[str, Any]) -> tuple[Any, Any]:
    # The log's first n_results, current values, none excluded (plans made before corrections
    # existed pinned the data by data_version, the log's length then).
    n_results = plan.get("n_results", plan["data_version"])
    results = store.results.current(campaign_id, 0, n_results, excluded=False)
    space = {"parameters": plan["parameters"], "version": plan["space_version"]}
    return pool_from_results(space, plan["objective"], results)


def total_items(plan: dict[str, Any]) -> int:
    """Number of repeats (strategy, n, seed) in a plan."""
    return sum(len(chunk) for chunk in plan["chunks"])


def estimate_seconds(
    store: Store, X: Any, y: Any, work: list[Any], options: dict[str, Any]
) -> float:
    """How long the job should take: one repeat timed here, scaled to the plan, over the workers.

    The timed repeat is a model-based one at the middle initial-sample count (random repeats fit
    no model and cost next to nothing); the workers are the live ones, one process each
    assumed. A rough figure for "about N min": clients refine it from the progress as chunks end.
    """
    fitted = sorted((n, strategy, seed) for strategy, n, seed in work if strategy != "random")
    if not fitted:
        return 0.0
    n, strategy, seed = fitted[len(fitted) // 2]
    started = time.perf_counter()
    run_repeat(X, y, strategy, n, seed, **options)
    per_repeat = time.perf_counter() - started
    return round(per_repeat * len(fitted) / max(1, len(store.workers.live())), 1)


def plan_job(store: Store, job_id: str, send: Send) -> dict[str, Any]:
    """Split a benchmarks job into chunks of repeats and enqueue one task per chunk."""
    job = store.jobs.get(job_id)
    if job["state"] in ("done", "failed"):
        return {"job_id": job_id, "state": job["state"]}
    store.jobs.running(job_id)
    cid = job["campaign_id"]
    campaign = store.campaigns.get(cid)
    params = job["params"]
    draft = {
        "data_version": store.results.data_version(cid),
        "n_results": store.results.count(cid),
        "parameters": campaign["parameters"],
        "space_version": campaign.get("space_version", 1),
        "objective": campaign["objective"],
        "options": {k: params[k] for k in ("noise_sd", "kappa", "xi")},
    }
    X, y = _pool(store, cid, draft)  # at least two measured results, or a KilnError
    sizes = [n for n in params["n_inits"] if 1 <= n < len(y)]
    if not sizes:
        raise KilnError(f"every n_init is >= the {len(y)} measured results; choose smaller ones")
    work = [
        (strategy, n, repeat_seed(n, r, params["seed"]))
        for n in sizes
        for r in range(params["repeats"])
        for strategy in params["strategies"]
    ]
    size = params["chunk_size"]
    draft["chunks"] = [work[i : i + size] for i in range(0, len(work), size)]
    draft["n_inits"] = sizes
    store.jobs.set_plan(job_id, draft)
    plan = store.jobs.plan(job_id) or draft  # a redelivered planner keeps the first plan
    if job["progress"] is None:
        work = [item for chunk in plan["chunks"] for item in chunk]
        seconds = estimate_seconds(store, X, y, work, plan["options"])
        store.jobs.set_progress(
            job_id, 0, total_items(plan), len(plan["chunks"]), estimated_seconds=seconds
        )
    for index in range(len(plan["chunks"])):
        send(task_names.BENCHMARK, [job_id, index], task_names.BENCHMARKS_QUEUE, None)
    return {"job_id": job_id, "chunks": len(plan["chunks"])}


def run_chunk(store: Store, job_id: str, index: int) -> dict[str, Any]:
    """Run one chunk of repeats; the chunk that completes the job writes the summary."""
    job = store.jobs.get(job_id)
    plan = store.jobs.plan(job_id)
    if job["state"] in ("done", "failed") or plan is None:
        return {"job_id": job_id, "state": job["state"]}
    X, y = _pool(store, job["campaign_id"], plan)
    outcome = [
        [strategy, n, run_repeat(X, y, strategy, n, seed, **plan["options"])]
        for strategy, n, seed in plan["chunks"][index]
    ]
    total = len(plan["chunks"])
    done = store.jobs.save_chunk(job_id, index, outcome, total)
    if done == total and store.jobs.claim_finish(job_id):
        runs: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
        for chunk in store.jobs.chunks(job_id).values():
            for strategy, n, result in chunk:
                runs[(strategy, int(n))].append(result)
        table = summarise(runs)
        items = total_items(plan)
        estimate = (job["progress"] or {}).get("estimated_seconds")
        store.jobs.set_progress(
            job_id, items, items, total, chunks_done=total, estimated_seconds=estimate
        )
        store.jobs.done(
            job_id,
            {
                "table": {s: {str(n): row for n, row in rows.items()} for s, rows in table.items()},
                "recommended": choose_strategy(table),
                "pool_size": len(y),
                "data_version": plan["data_version"],
                "space_version": plan["space_version"],
                "n_inits": plan["n_inits"],
                "repeats": job["params"]["repeats"],
            },
        )
    return {"job_id": job_id, "chunk": index, "chunks_done": done, "chunks_total": total}
