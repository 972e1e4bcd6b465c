"""Benchmarks: virtual experiments on a campaign's data, fanned out over the workers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from kiln_services.intake import domain, enqueue
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.base_schemas import PageArgs
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.extensions import get_store, get_tasks
from kiln_services.intake.jobs.schemas import BenchmarkIn, JobOut, JobPageOut
from kiln_services.intake.jobs.views import accepted
from kiln_services.intake.paging import page
from kiln_services.store.jobs import BENCHMARKS_JOB

blp = Blueprint(
    "benchmarks",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="Virtual experiments (model selection) on a campaign's data",
)


@blp.route("/<campaign_id>/benchmarks")
class Benchmarks(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, JobPageOut)
    @blp.doc(operationId="listBenchmarks")
    def get(self, args: dict[str, Any], campaign_id: str) -> dict[str, Any]:
        """List the campaign's virtual-experiment jobs, newest first (paged)."""
        store = get_store()
        store.campaigns.get(campaign_id)  # 404 for an unknown campaign
        offset, limit = args["offset"], args["limit"]
        items, total = store.jobs.campaign_jobs(campaign_id, BENCHMARKS_JOB, offset, limit)
        # expired jobs are skipped: the next page starts after this page's slots, not its items
        return page(
            items, offset, limit, total, ".Benchmarks", end=offset + limit, campaign_id=campaign_id
        )

    @blp.arguments(BenchmarkIn, required=False)
    @blp.response(202, JobOut, example=ex.BENCHMARK_JOB)
    @blp.alt_response(409, description="A multi-objective campaign (single-objective strategies)")
    @blp.doc(operationId="startBenchmark", responses=ex.links(202, "job_id", "getJob"))
    def post(self, body: dict[str, Any], campaign_id: str) -> tuple[dict, int, dict[str, str]]:
        """Start virtual experiments comparing strategies on the campaign's results."""
        store = get_store()
        campaign = store.campaigns.get(campaign_id)
        domain.one_objective(campaign, "virtual experiments")
        return accepted(enqueue.request_benchmark(store, get_tasks(), campaign, body))
