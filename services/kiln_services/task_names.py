"""Celery task names, defined once: the intake enqueues by name and never imports worker code."""

from __future__ import annotations

REFIT = "kiln.refit"
PROPOSE = "kiln.propose"
BENCHMARK = "kiln.benchmark"

PROPOSALS_QUEUE = "proposals"
BENCHMARKS_QUEUE = "benchmarks"

# Message headers the intake sets on every task it sends (and the worker on follow-up tasks), so
# the worker's log lines carry the id of the HTTP request that caused them.
REQUEST_ID_HEADER = "kiln_request_id"
CAMPAIGN_ID_HEADER = "kiln_campaign_id"
