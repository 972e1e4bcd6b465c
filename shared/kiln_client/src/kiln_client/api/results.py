"""Result requests: post measured results (JSON or CSV), list and export them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from kiln_client.csvtext import read_text
from kiln_client.payloads import Result, ResultsPosted
from kiln_client.transport import Transport


def post_results(
    api: Transport,
    campaign_id: str,
    results: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    idempotency_key: str | None = None,
) -> ResultsPosted:
    """Store one result or many, all-or-nothing; a repeated sample_id is a duplicate, not an error.

    Args:
        campaign_id: The campaign.
        results: One result dict or a sequence of them (sample_id, parameters, objective, ...).
        idempotency_key: Sent as ``Idempotency-Key``.
    """
    body: Any = dict(results) if isinstance(results, Mapping) else {
        "results": [dict(r) for r in results]
    }  # fmt: skip
    # Safe to repeat after a lost connection: the server deduplicates by sample_id.
    response = api.request(
        "POST",
        f"/campaigns/{campaign_id}/results",
        json=body,
        idempotency_key=idempotency_key,
        retry_connection=True,
    )
    return cast(ResultsPosted, response.json())


def post_results_csv(
    api: Transport,
    campaign_id: str,
    source: str | bytes | Path | IO[str] | IO[bytes],
    *,
    idempotency_key: str | None = None,
) -> ResultsPosted:
    """Store results from CSV (a header with sample_id, the parameters and the objective).

    Args:
        campaign_id: The campaign.
        source: A path, an open file, or the CSV text itself (str or bytes).
        idempotency_key: Sent as ``Idempotency-Key``.
    """
    data = read_text(source)
    response = api.request(
        "POST",
        f"/campaigns/{campaign_id}/results",
        data=data.encode("utf-8"),
        headers={"Content-Type": "text/csv; charset=utf-8"},
        idempotency_key=idempotency_key,
        retry_connection=True,
    )
    return cast(ResultsPosted, response.json())


def iter_results(api: Transport, campaign_id: str, *, page_size: int = 1000) -> Iterator[Result]:
    """Yield a campaign's results, oldest first, page by page."""
    for item in api.paged(f"/campaigns/{campaign_id}/results", page_size=page_size):
        yield cast(Result, item)


def list_results(api: Transport, campaign_id: str) -> list[Result]:
    """Every result of a campaign, oldest first."""
    return list(iter_results(api, campaign_id))


def export_results_csv(api: Transport, campaign_id: str) -> str:
    """Every result of a campaign as CSV text (the server's export)."""
    response = api.request(
        "GET",
        f"/campaigns/{campaign_id}/results",
        params={"format": "csv"},
        headers={"Accept": "text/csv"},
    )
    return response.text
