"""The Celery tasks: ids in, load, call kiln, store. Named once in kiln_services.task_names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from celery import Celery, Task, shared_task

from kiln.errors import KilnError
from kiln_services import task_names
from kiln_services.store import Store
from kiln_services.worker import batches, benchmarks, metrics, refits, settings, tasklog

# Redis blips are retried; everything else is recorded on the job and not retried.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError)
# Enough lock retries to outlast the lock of a refit whose worker died holding it.
LOCK_RETRIES = 2 * refits.LOCK_TTL_MS // 1000 // refits.LOCK_RETRY_S
PROPOSE_RETRIES = 2 * batches.PROPOSE_LOCK_TTL_MS // 1000 // batches.PROPOSE_RETRY_S
_stores: dict[str, Store] = {}
#: Every task: bound, acknowledged after it ran (redelivered if its worker dies), Redis blips
#: retried with backoff.
TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "max_retries": 5,
}


def store_for(app: Celery) -> Store:
    """One store (connection pool) per broker URL and process."""
    url = str(app.conf.broker_url)
    if url not in _stores:
        _stores[url] = Store.from_url(url)
    return _stores[url]


def sender(app: Celery) -> refits.Send:
    """Enqueue follow-up tasks by name, like the intake does, with the same request id."""

    def send(name: str, args: list[Any], queue: str, task_id: str | None) -> Any:
        headers = tasklog.follow_up_headers()
        return app.send_task(name, args=args, queue=queue, task_id=task_id, headers=headers)

    return send


def on_job(store: Store, job_id: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a job's work; a failure is recorded on the job with its reason.

    Domain errors are final (the job failed, the task succeeded); Redis blips propagate so the
    task retries; anything else is recorded and re-raised for the worker's log.
    """
    try:
        return work()
    except KilnError as exc:
        store.jobs.failed(job_id, f"{type(exc).__name__}: {exc}")
        return {"job_id": job_id, "error": str(exc)}
    except TRANSIENT:
        raise
    except Exception as exc:
        store.jobs.failed(job_id, f"unexpected {type(exc).__name__}: {exc}")
        raise


@shared_task(
    name=task_names.REFIT,
    **TASK_OPTIONS,
)
def refit(self: Task, campaign_id: str) -> dict[str, Any]:
    """Refit a campaign's surrogate on all its results (coalesced, one at a time)."""
    store = store_for(self.app)
    outcome = metrics.timed_refit(
        store,
        lambda: refits.refit_campaign(
            store,
            campaign_id,
            sender(self.app),
            owner=self.request.hostname or "",
            training_limit=settings.of(self.app).max_training_points,
        ),
    )
    if outcome.get("skipped"):
        raise self.retry(countdown=refits.LOCK_RETRY_S, max_retries=LOCK_RETRIES)
    return outcome


@shared_task(
    name=task_names.PROPOSE,
    **TASK_OPTIONS,
)
def propose(self: Task, job_id: str) -> dict[str, Any]:
    """Compute the batch a proposals job asks for and store it on the campaign."""
    store = store_for(self.app)
    outcome = on_job(
        store,
        job_id,
        lambda: batches.propose_for_job(
            store,
            job_id,
            self.request.hostname or "",
            training_limit=settings.of(self.app).max_training_points,
        ),
    )
    if outcome.get("skipped"):
        raise self.retry(countdown=batches.PROPOSE_RETRY_S, max_retries=PROPOSE_RETRIES)
    return outcome


@shared_task(
    name=task_names.BENCHMARK,
    **TASK_OPTIONS,
)
def benchmark(self: Task, job_id: str, chunk: int | None = None) -> dict[str, Any]:
    """Plan a virtual-experiments job into chunks (chunk=None), or run one chunk of it."""
    store = store_for(self.app)
    if chunk is None:
        return on_job(store, job_id, lambda: benchmarks.plan_job(store, job_id, sender(self.app)))
    return on_job(store, job_id, lambda: benchmarks.run_chunk(store, job_id, chunk))
