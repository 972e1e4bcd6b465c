"""Jobs: the state of work the workers do (queued, running, done with a result, failed with why)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.auth import check_campaign
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.extensions import get_store
from kiln_services.intake.jobs.schemas import JobOut

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Background jobs")


def accepted(job: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The 202 answer for work handed to the workers: the job, its URL in Location."""
    return job, 202, {"Location": url_for("jobs.Job", job_id=job["id"])}


@blp.route("/<job_id>")
class Job(MethodView):
    @blp.response(200, JobOut, example=ex.DONE_JOB)
    @blp.doc(operationId="getJob")
    def get(self, job_id: str) -> dict[str, Any]:
        """Read a job (proposals or benchmarks): queued, running, done or failed."""
        job = get_store().jobs.get(job_id)
        check_campaign(job.get("campaign_id"))
        return job
