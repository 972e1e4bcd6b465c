"""The Pareto front of a multi-objective campaign: front, reference point, hypervolume, history.

Computed here from the stored results (kiln.multiobjective.report, numpy and moocore, imported on
first use): no job, and never scikit-learn in the web process.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from kiln_services.intake import domain
from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import get_store
from kiln_services.intake.pareto.schemas import ParetoOut

blp = Blueprint(
    "pareto",
    __name__,
    url_prefix="/api/v1/campaigns",
    description="The Pareto front of a multi-objective campaign",
)


def pareto_of(campaign: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """kiln's Pareto report of the campaign's current results (imported on first use)."""
    from kiln.multiobjective.report import pareto_report

    return pareto_report(campaign, results)


@blp.route("/<campaign_id>/pareto")
class Pareto(MethodView):
    @blp.response(200, ParetoOut, example=ex.PARETO_REPORT)
    @blp.alt_response(409, description="A single-objective campaign (no Pareto front)")
    @blp.doc(operationId="getPareto")
    def get(self, campaign_id: str) -> dict[str, Any]:
        """The Pareto front of the current results (corrections applied, excluded ones left
        out), its hypervolume and how the hypervolume grew with the results."""
        store = get_store()
        campaign = store.campaigns.get(campaign_id)
        if not domain.is_multiobjective(campaign):
            raise ApiProblem(
                409,
                "Conflict",
                "campaign has one objective; /pareto needs 2-4 (define the campaign with "
                '"objectives")',
                kind="one-objective",
            )
        results, data_version, _ = store.results.training_view(campaign_id)
        report = pareto_of(campaign, results)
        return {**report, "campaign_id": campaign_id, "data_version": data_version}
