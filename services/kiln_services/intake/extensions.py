"""The intake's extensions, each set up by `init_app` and kept in `app.extensions`."""

from __future__ import annotations

from typing import Any

from celery import Celery
from flask import Flask, current_app
from flask_smorest import Api
from werkzeug.routing import BaseConverter

from kiln_services import task_names
from kiln_services.intake.base_schemas import ProblemOut
from kiln_services.intake.observability import task_headers
from kiln_services.store import Store


class IdConverter(BaseConverter):
    """The default URL converter, except that no id is the word "latest" (a sibling route)."""

    regex = r"(?!latest$)[^/]+"


class StoreExtension:
    """The Redis store of record, one connection pool per app (per gunicorn process)."""

    key = "kiln_store"

    def init_app(self, app: Flask) -> None:
        app.extensions[self.key] = Store.from_url(app.config["REDIS_URL"])


class TaskQueue:
    """Enqueue worker tasks by name (`send_task`): the intake never imports worker code."""

    key = "kiln_tasks"

    def __init__(self, celery: Celery | None = None) -> None:
        self.celery = celery

    def init_app(self, app: Flask) -> None:
        celery = Celery("kiln-intake", broker=app.config["REDIS_URL"], set_as_current=False)
        celery.conf.update(
            task_serializer="json",
            accept_content=["json"],
            result_serializer="json",
            task_ignore_result=True,
            broker_connection_retry_on_startup=True,
            # Fail fast (then 503) rather than hold a request while Redis is away.
            task_publish_retry_policy={
                "max_retries": 2,
                "interval_start": 0.1,
                "interval_step": 0.2,
            },
        )
        app.extensions[self.key] = TaskQueue(celery)

    def send(self, name: str, args: list[Any], *, queue: str, task_id: str | None = None) -> str:
        """Send a task by name to a queue; return its task id."""
        assert self.celery is not None, "TaskQueue.send on the extension, not an app's instance"
        # The request id (and campaign) travel as message headers, for the worker's log lines.
        result = self.celery.send_task(
            name, args=args, queue=queue, task_id=task_id, headers=task_headers()
        )
        return str(result.id)

    def refit(self, campaign_id: str) -> str:
        """Enqueue a refit of one campaign."""
        return self.send(task_names.REFIT, [campaign_id], queue=task_names.PROPOSALS_QUEUE)

    def benchmark(self, job_id: str) -> str:
        """Enqueue the planner of a virtual-experiments job (the task id is the job id)."""
        return self.send(
            task_names.BENCHMARK, [job_id], queue=task_names.BENCHMARKS_QUEUE, task_id=job_id
        )

    def propose(self, job_id: str) -> str:
        """Enqueue the computation of a batch for a job (the task id is the job id)."""
        return self.send(
            task_names.PROPOSE, [job_id], queue=task_names.PROPOSALS_QUEUE, task_id=job_id
        )


class KilnApi(Api):
    """flask-smorest's Api with HTTP errors rendered by the intake's one error mapper.

    Its document lists each error status an operation answers with (see `openapi`), so no
    catch-all "default" response.
    """

    ERROR_SCHEMA = ProblemOut
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask) -> None:
        from kiln_services.intake import openapi  # it imports views' schemas, which import this

        super().__init__(app, spec_kwargs=openapi.spec_kwargs())
        app.extensions["kiln_api"] = self

    def handle_http_exception(self, error: Exception) -> Any:
        from kiln_services.intake.errors import to_problem

        return to_problem(error)


store_ext = StoreExtension()
tasks_ext = TaskQueue()


def get_store() -> Store:
    """The current app's store."""
    return current_app.extensions[StoreExtension.key]


def get_tasks() -> TaskQueue:
    """The current app's task queue."""
    return current_app.extensions[TaskQueue.key]
