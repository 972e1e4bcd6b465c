"""Celery task names, defined once: the intake enqueues by name and never imports worker code."""

from __future__ import annotations

REFIT = "kiln.refit"
PROPOSE = "kiln.propose"
BENCHMARK = "kiln.benchmark"

PROPOSALS_QUEUE = "proposals"
BENCHMARKS_QUEUE = "benchmarks"
