"""The worker entry point: `celery -A kiln_services.worker.app worker -Q proposals,benchmarks`."""

from __future__ import annotations

from kiln_services.worker import tasklog  # noqa: F401  (its signals set up the log lines before the worker logs)
from kiln_services.worker.celery_app import make_celery

app = make_celery()
