"""Pareto requests: the front, hypervolume and its history of a multi-objective campaign."""

from __future__ import annotations

from typing import cast

from kiln_client.payloads import ParetoReport
from kiln_client.transport import Transport


def pareto(api: Transport, campaign_id: str) -> ParetoReport:
    """The campaign's Pareto report: objectives, reference point, front, hypervolume, history.

    Raises:
        KilnAPIError: 409 for a single-objective campaign (the report needs 2-4 objectives).
    """
    return cast(ParetoReport, api.get_json(f"/campaigns/{campaign_id}/pareto"))
