"""The worker entry point: `celery -A kiln_services.worker.app worker -Q proposals,benchmarks`.

The Celery app that the command line loads; `factory.make_celery` builds it.
"""

from __future__ import annotations

from kiln_services.worker import tasklog  # noqa: F401  (its signals set up the log lines before the worker logs)
from kiln_services.worker.factory import make_celery

app = make_celery()
