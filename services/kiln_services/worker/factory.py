"""Build the worker's Celery app (`app.py` holds the one the worker runs): JSON only, late
acknowledgement, one task prefetched at a time.
"""

from __future__ import annotations

from dataclasses import replace

from celery import Celery
from kombu import Queue

from kiln_services import task_names
from kiln_services.worker.recovery import Recovery
from kiln_services.worker.settings import CONF_KEY, WorkerSettings


def make_celery(redis_url: str | None = None, settings: WorkerSettings | None = None) -> Celery:
    """Create the Celery app on REDIS_URL (broker; the store of record lives in the same Redis).

    Args:
        redis_url: overrides the settings' REDIS_URL.
        settings: the worker's settings; read from the environment (once, here) when None.
    """
    settings = settings or WorkerSettings.from_env()
    if redis_url:
        settings = replace(settings, redis_url=redis_url)
    url = settings.redis_url
    app = Celery(
        "kiln", broker=url, include=["kiln_services.worker.tasks", "kiln_services.worker.heartbeat"]
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # Tasks are idempotent, so a task whose worker dies mid-way is redelivered, not lost.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        # Job state lives in the store (kiln:job:*), not in a Celery result backend.
        task_ignore_result=True,
        task_default_queue=task_names.PROPOSALS_QUEUE,
        # A worker started without -Q consumes both queues; Redis is polled round-robin over
        # them, so a flood of benchmark chunks delays a batch by one chunk at most.
        task_queues=(
            Queue(task_names.PROPOSALS_QUEUE, routing_key=task_names.PROPOSALS_QUEUE),
            Queue(task_names.BENCHMARKS_QUEUE, routing_key=task_names.BENCHMARKS_QUEUE),
        ),
        task_routes={
            task_names.REFIT: {"queue": task_names.PROPOSALS_QUEUE},
            task_names.PROPOSE: {"queue": task_names.PROPOSALS_QUEUE},
            task_names.BENCHMARK: {"queue": task_names.BENCHMARKS_QUEUE},
        },
        broker_connection_retry_on_startup=True,
        # The last resort for a message whose worker died unnoticed: put back once this old.
        # A dead worker's messages are put back much sooner by worker.recovery; a longer task
        # than this would run twice (harmless: tasks are idempotent).
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        worker_send_task_events=False,
    )
    app.conf[CONF_KEY] = settings
    # Before consuming, on every (re)connection: put back what this worker held before.
    app.steps["consumer"].add(Recovery)
    return app
