"""Proposal requests: ask for a batch, long-poll for the latest, list and withdraw proposals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import cast

from kiln_client.errors import KilnAPIError, WaitTimeout
from kiln_client.payloads import Batch, Job, Latest, Proposal
from kiln_client.transport import Transport, json_or_none


def request_proposals(
    api: Transport,
    campaign_id: str,
    *,
    batch_size: int | None = None,
    acquisition: str | None = None,
    batch_method: str | None = None,
    idempotency_key: str | None = None,
) -> Job:
    """Ask the workers for a batch now; the job to follow (see :meth:`wait_for_job`)."""
    body = {
        k: v
        for k, v in (
            ("batch_size", batch_size),
            ("acquisition", acquisition),
            ("batch_method", batch_method),
        )
        if v is not None
    }
    return cast(
        Job,
        api.post_json(f"/campaigns/{campaign_id}/proposals", body, idempotency_key=idempotency_key),
    )


def poll_proposals(
    api: Transport, campaign_id: str, *, etag: str | None = None, wait: float = 0.0
) -> Latest:
    """Look at the latest batch once; with ``etag`` and ``wait``, long-poll for a newer one.

    Returns:
        ``Latest(batch, etag, changed)``: ``batch`` is None when it is unchanged (304), there
        is none yet (404), or the server still had too many waiting clients (429) after the
        retries: the caller simply polls again.
    """
    headers = {"If-None-Match": etag} if etag else {}
    params = {"wait": f"{wait:g}"} if wait else {}
    response = api.request(
        "GET",
        f"/campaigns/{campaign_id}/proposals/latest",
        ok=(200, 304, 404, 429),
        wait=wait,
        headers=headers,
        params=params,
    )
    if response.status_code == 404:
        problem = json_or_none(response)
        if not (isinstance(problem, dict) and problem.get("type", "").endswith("no-batch")):
            raise KilnAPIError.from_response(
                response, "GET", f"/campaigns/{campaign_id}/proposals/latest"
            )
        return Latest(None, etag, False)
    if response.status_code == 429:
        return Latest(None, etag, False)
    new_etag = response.headers.get("ETag") or etag
    if response.status_code == 304:
        return Latest(None, new_etag, False)
    return Latest(cast(Batch, response.json()), new_etag, True)


def latest_proposals(api: Transport, campaign_id: str) -> Batch | None:
    """The latest batch, or None when there is none yet."""
    return poll_proposals(api, campaign_id).batch


def wait_for_proposals(
    api: Transport,
    campaign_id: str,
    *,
    etag: str | None = None,
    timeout: float = 300.0,
    wait: float = 30.0,
) -> Batch:
    """Long-poll until a batch other than ``etag`` exists (any batch when ``etag`` is None).

    Raises:
        WaitTimeout: Nothing new within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeout(
                f"no new batch for campaign {campaign_id} within {timeout:.0f} s; is a worker "
                "running? (GET /api/v1/readyz)"
            )
        started = time.monotonic()
        latest = poll_proposals(api, campaign_id, etag=etag, wait=min(wait, remaining))
        if latest.batch is not None:
            return latest.batch
        etag = latest.etag
        if time.monotonic() - started < 0.5:
            api.sleep(min(1.0, max(0.0, deadline - time.monotonic())))  # no batch yet: 404


def watch_proposals(
    api: Transport, campaign_id: str, *, wait: float = 30.0, etag: str | None = None
) -> Iterator[Batch]:
    """Yield the latest batch, then each new batch as it appears (long-polling; endless)."""
    while True:
        started = time.monotonic()
        latest = poll_proposals(api, campaign_id, etag=etag, wait=wait if etag else 0.0)
        etag = latest.etag
        if latest.batch is not None:
            yield latest.batch
        elif time.monotonic() - started < 0.5:
            api.sleep(1.0)  # no batch yet (404 answers at once): do not spin


def list_proposals(
    api: Transport, campaign_id: str, *, status: str | None = None
) -> list[Proposal]:
    """The campaign's proposal ledger, oldest first; ``status="pending"`` for those in flight."""
    query = {"status": status} if status else None
    items = api.paged(f"/campaigns/{campaign_id}/proposals", page_size=500, query=query)
    return [cast(Proposal, p) for p in items]


def withdraw_proposal(api: Transport, campaign_id: str, proposal_id: str) -> Proposal:
    """Withdraw a pending proposal (it stops counting as in flight)."""
    return cast(
        Proposal,
        api.request("DELETE", f"/campaigns/{campaign_id}/proposals/{proposal_id}").json(),
    )
