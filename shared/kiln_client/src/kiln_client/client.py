"""A Python client of Kiln's v1 HTTP API, for LIMS and instrument integrations (requests only).

    from kiln_client.client import Client

    kiln = Client("http://kiln.lab:8000", token="...")
    campaign = kiln.create_campaign(preset="latp", name="latp-2026")
    kiln.post_results(campaign["id"], [{"sample_id": "S-1", "parameters": {...}, "objective": 1e-4}])
    batch = kiln.wait_for_proposals(campaign["id"])
    for proposal in batch["proposals"]:
        print(proposal["id"], proposal["parameters"])

Every POST carries an ``Idempotency-Key`` (a fresh uuid4 unless given). A 503 (the store is
restarting) or a 429 (too many clients long-poll at once) is retried after the server's
``Retry-After`` (bounded). A lost connection is retried
too, with backoff: reads and deletes are safe to repeat, result posts are deduplicated by
``sample_id``, and the server replays any other POST it already did under the same key (a retry
that arrives while the first attempt still runs waits for it). Errors are ``application/problem+json`` on the server and
:class:`KilnAPIError` here, with the status, title, detail and the field-level errors.

A stored result is corrected (or excluded) with ``kiln.correct_result(cid, "S-1", reason="typo",
objective=1.2e-3)``: the server keeps the original and appends a revision; pass
``if_match=result_etag(kiln.result(cid, "S-1"))`` to refuse (:class:`StaleResult`) a correction
of a result someone else changed meanwhile.

A multi-objective campaign posts ``objectives={"conductivity": 1.1e-3, "relative_density": 0.96}``
instead of ``objective`` in each result; ``kiln.pareto(cid)`` reads its front and hypervolume.

Calls take a campaign's id; ``kiln.campaign_id("latp-2026")`` finds it by the campaign's name.

Return values are plain JSON dicts typed with ``TypedDict`` (so they print and serialise as is).
"""

from __future__ import annotations

from typing import Any, cast

from kiln_client.api import campaigns, candidates, jobs, proposals, results
from kiln_client.api import pareto as pareto_api
from kiln_client.api.results import result_etag
from kiln_client.csvtext import csv_chunks, read_text
from kiln_client.errors import (
    AmbiguousCampaign,
    AuthError,
    ClientError,
    ConnectionFailed,
    JobFailed,
    KilnAPIError,
    StaleResult,
    UnknownCampaign,
    WaitTimeout,
)
from kiln_client.payloads import (
    Batch,
    Campaign,
    Candidate,
    CandidatesAdded,
    CandidatesRemoved,
    Counts,
    Job,
    Latest,
    ModelInfo,
    ParetoReport,
    Proposal,
    Result,
    ResultsPosted,
    ResultView,
    Revision,
)
from kiln_client.transport import API_PREFIX, Transport

__all__ = [
    "API_PREFIX",
    "AmbiguousCampaign",
    "AuthError",
    "Batch",
    "Campaign",
    "Candidate",
    "CandidatesAdded",
    "CandidatesRemoved",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "Counts",
    "Job",
    "JobFailed",
    "KilnAPIError",
    "Latest",
    "ModelInfo",
    "ParetoReport",
    "Proposal",
    "Result",
    "ResultView",
    "ResultsPosted",
    "Revision",
    "StaleResult",
    "UnknownCampaign",
    "WaitTimeout",
    "csv_chunks",
    "read_text",
    "result_etag",
]


class Client(Transport):
    """Speak to one Kiln server with one bearer token: every call of the v1 API.

    The constructor's arguments are :class:`kiln_client.transport.Transport`'s (url, token,
    timeout, retries, backoff, max_retry_after, session); ``Client.from_env()`` reads them from
    :mod:`kiln_client.settings`. The calls are written per resource in :mod:`kiln_client.api`
    (functions of a Transport) and bound here as methods, so each reads as ``client.call(...)``.
    """

    def ready(self) -> dict[str, Any]:
        """Readiness: Redis answers and a worker is alive (raises KilnAPIError 503 if not)."""
        return cast(dict[str, Any], self.get_json("/readyz"))

    list_campaigns = campaigns.list_campaigns
    get_campaign = campaigns.get_campaign
    create_campaign = campaigns.create_campaign
    update_campaign = campaigns.update_campaign
    campaign_id = campaigns.campaign_id

    post_results = results.post_results
    post_results_csv = results.post_results_csv
    iter_results = results.iter_results
    list_results = results.list_results
    export_results_csv = results.export_results_csv
    result = results.result
    correct_result = results.correct_result
    exclude_result = results.exclude_result
    include_result = results.include_result

    add_candidates = candidates.add_candidates
    iter_candidates = candidates.iter_candidates
    list_candidates = candidates.list_candidates
    remove_candidates = candidates.remove_candidates

    request_proposals = proposals.request_proposals
    poll_proposals = proposals.poll_proposals
    latest_proposals = proposals.latest_proposals
    wait_for_proposals = proposals.wait_for_proposals
    watch_proposals = proposals.watch_proposals
    list_proposals = proposals.list_proposals
    withdraw_proposal = proposals.withdraw_proposal

    get_job = jobs.get_job
    wait_for_job = jobs.wait_for_job
    model = jobs.model
    predict = jobs.predict
    model_slice = jobs.model_slice
    pareto = pareto_api.pareto
    start_benchmark = jobs.start_benchmark
