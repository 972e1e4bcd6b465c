"""The worker's log lines: configured from LOG_FORMAT/LOG_LEVEL, each task's ids bound to them.

While a task runs, every line (Kiln's, Celery's) carries the task's name and id, the campaign or
job it works on, and the id of the HTTP request that enqueued it (a message header set by the
intake, passed on to follow-up tasks). A line at the end gives the task's state and duration.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextvars import Token
from typing import Any

from celery import Task, signals

from kiln_services import logs, task_names

#: Named as before the services moved under kiln_services: log queries select on this name.
log = logging.getLogger("worker.tasklog")

#: task id -> (start, the log context token), from task_prerun to task_postrun.
_running: dict[str, tuple[float, Token[Any]]] = {}


@signals.setup_logging.connect
def configure_logging(loglevel: int | str | None = None, **kwargs: Any) -> None:
    """Replace Celery's log setup: JSON or text lines on stderr (LOG_LEVEL wins over --loglevel)."""
    default = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
    try:
        fmt, level = logs.log_format(), logs.log_level(default=str(default or "INFO"))
    except ValueError as exc:  # a worker without logs would fail silently: log JSON, say why
        logs.configure("json", "INFO")
        log.error("%s; logging JSON at INFO instead", exc)
        return
    logs.configure(fmt, level)


def header(task: Task, name: str) -> Any:
    """A custom message header of the running task (None when absent)."""
    request = task.request
    return (getattr(request, "headers", None) or {}).get(name) or getattr(request, name, None)


def task_fields(task: Task, task_id: str, args: Sequence[Any] | None) -> dict[str, Any]:
    """What every line of this task carries."""
    first = args[0] if args else None
    fields = {
        "task": task.name,
        "task_id": task_id,
        "request_id": header(task, task_names.REQUEST_ID_HEADER),
        "campaign_id": header(task, task_names.CAMPAIGN_ID_HEADER),
    }
    if task.name == task_names.REFIT:
        fields["campaign_id"] = first
    elif task.name in (task_names.PROPOSE, task_names.BENCHMARK):
        fields["job_id"] = first
    return fields


@signals.task_prerun.connect
def task_started(
    task_id: str = "", task: Task | None = None, args: Sequence[Any] | None = None, **kwargs: Any
) -> None:
    """Bind the task's ids to the log lines until it ends."""
    if task is None:
        return
    token = logs.bind(**task_fields(task, task_id, args))
    _running[task_id] = (time.monotonic(), token)


@signals.task_postrun.connect
def task_ended(task_id: str = "", state: str | None = None, **kwargs: Any) -> None:
    """Log the task's state and duration, then unbind its ids."""
    started = _running.pop(task_id, None)
    if started is None:
        return
    start, token = started
    name = logs.bound().get("task", "task")
    duration_ms = round((time.monotonic() - start) * 1000, 1)
    level = logging.WARNING if state == "FAILURE" else logging.INFO
    try:
        extra = {"state": state, "duration_ms": duration_ms}
        log.log(level, "%s %s in %.0f ms", name, state, duration_ms, extra=extra)
    finally:
        logs.unbind(token)


def follow_up_headers() -> dict[str, str]:
    """Headers for a task the running task enqueues: the same request id and campaign."""
    bound = logs.bound()
    pairs = (
        (task_names.REQUEST_ID_HEADER, bound.get("request_id")),
        (task_names.CAMPAIGN_ID_HEADER, bound.get("campaign_id")),
    )
    return {name: str(value) for name, value in pairs if value is not None}
