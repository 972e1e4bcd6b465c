"""The intake's side of the closed loop: coalesced refits and batch requests, enqueued by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

from kiln_services.intake.domain import strategy_with
from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import TaskQueue
from kiln_services.store import Store
from kiln_services.store.jobs import BENCHMARKS_JOB, PROPOSALS_JOB


def refit_flag_ttl() -> int:
    """Seconds the campaign's 'refit queued' flag lives (a lost task is retried after it)."""
    return int(current_app.config.get("KILN_REFIT_FLAG_TTL_S", 300))


def request_refit(store: Store, tasks: TaskQueue, campaign_id: str) -> bool:
    """Enqueue a refit unless one is already queued for the campaign (coalescing).

    The flag is cleared by the refit task as it starts, so data arriving while it runs queues
    exactly one more. Returns True when this call enqueued one.
    """
    if not store.locks.mark_refit_queued(campaign_id, refit_flag_ttl()):
        return False
    return send_refit(store, tasks, campaign_id)


def send_refit(store: Store, tasks: TaskQueue, campaign_id: str) -> bool:
    """Enqueue the refit whose flag this request has just set; free the flag if that fails."""
    try:
        tasks.refit(campaign_id)
    except Exception:
        # The results are safely stored; the next post (or a stale-model check) retries this.
        store.locks.clear_refit_queued(campaign_id)
        current_app.logger.exception("could not enqueue a refit of %s", campaign_id)
        return False
    return True


def refit_if_stale(store: Store, tasks: TaskQueue, campaign_id: str, data_version: int) -> bool:
    """Enqueue a refit when the stored model lags the data (e.g. an earlier enqueue failed)."""
    model = store.models.get(campaign_id)
    if data_version and (model is None or model["data_version"] < data_version):
        return request_refit(store, tasks, campaign_id)
    return False


def request_batch(
    store: Store, tasks: TaskQueue, campaign: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """Create a proposals job with the request's strategy overrides and enqueue it."""
    strategy_with(campaign, overrides)  # 422 now rather than a failed job later
    job, _ = store.jobs.create(PROPOSALS_JOB, campaign["id"], {"overrides": dict(overrides)})
    return _enqueue(store, job, tasks.propose)


def request_benchmark(
    store: Store, tasks: TaskQueue, campaign: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """Create a virtual-experiments job and enqueue its planner on the benchmarks queue."""
    job, _ = store.jobs.create(BENCHMARKS_JOB, campaign["id"], dict(params))
    return _enqueue(store, job, tasks.benchmark)


def _enqueue(store: Store, job: dict[str, Any], send: Callable[[str], str]) -> dict[str, Any]:
    try:
        send(job["id"])
    except Exception as exc:
        store.jobs.failed(job["id"], f"could not enqueue: {exc}")
        raise ApiProblem(
            503,
            "Service Unavailable",
            "the task queue does not answer; retry later",
            kind="queue-unavailable",
            headers={"Retry-After": str(current_app.config.get("KILN_RETRY_AFTER_S", 5))},
        ) from exc
    return job
