"""Result requests: post measured results (JSON or CSV), list and export them, correct them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote

from kiln_client.csvtext import read_text
from kiln_client.payloads import Result, ResultsPosted, ResultView
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


#: What a correction may change (the contract's PATCH body, besides ``reason``).
CORRECTABLE = frozenset(
    {"parameters", "objective", "objectives", "objective_sd", "measurements", "status", "excluded"}
)


def result_path(campaign_id: str, sample_id: str) -> str:
    """The API path of one result (a sample id may hold any character, so it is quoted)."""
    return f"/campaigns/{campaign_id}/results/{quote(sample_id, safe='')}"


def result(api: Transport, campaign_id: str, sample_id: str) -> ResultView:
    """One result as it stands now, with ``revision``, ``excluded`` and its ``revisions``."""
    return cast(ResultView, api.get_json(result_path(campaign_id, sample_id)))


def result_etag(view: ResultView) -> str:
    """The ETag of a result view (``"S-1:2"``), for ``if_match`` (as the server's ``ETag``)."""
    return f'"{view["sample_id"]}:{view.get("revision", 0)}"'


def correct_result(
    api: Transport,
    campaign_id: str,
    sample_id: str,
    *,
    reason: str,
    if_match: str | None = None,
    idempotency_key: str | None = None,
    **changes: Any,
) -> ResultView:
    """Correct a stored result: one new revision saying what changed, who changed it and why.

    The original entry stays in the log; the result's current value is it with every revision
    applied. The campaign's model is refitted on the corrected data.

    Args:
        campaign_id: The campaign.
        sample_id: The result's sample id.
        reason: Why (required, 1-500 characters); kept in the result's history.
        if_match: The ETag read with the result (:func:`result_etag`); when the result has been
            corrected since, nothing is stored and :class:`StaleResult` is raised.
        idempotency_key: Sent as ``Idempotency-Key`` (a fresh uuid4 unless given), so a retry
            after a lost connection applies the correction once.
        **changes: Any of ``parameters`` (the named ones replaced), ``objective``,
            ``objectives`` (a multi-objective result's values: keys merged; None removes one),
            ``objective_sd`` (None removes it), ``measurements`` (keys merged; None removes
            one), ``status`` ("ok" or "failed") and ``excluded`` (bool).

    Raises:
        TypeError: A change the API does not know (nothing is sent).
        StaleResult: ``if_match`` is not the result's current ETag.
        KilnAPIError: 404 for an unknown sample id, 422 naming a field the result refuses.
    """
    unknown = sorted(set(changes) - CORRECTABLE)
    if unknown:
        raise TypeError(
            f"cannot correct {', '.join(unknown)}: a correction changes "
            f"{', '.join(sorted(CORRECTABLE))}"
        )
    headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    if if_match is not None:
        headers["If-Match"] = if_match if if_match.startswith('"') else f'"{if_match}"'
    response = api.request(
        "PATCH",
        result_path(campaign_id, sample_id),
        json={"reason": reason, **changes},
        headers=headers,
    )
    return cast(ResultView, response.json())


def exclude_result(api: Transport, campaign_id: str, sample_id: str, reason: str) -> ResultView:
    """Set a result aside (models stop training on it); it stays listed, marked ``excluded``."""
    return correct_result(api, campaign_id, sample_id, reason=reason, excluded=True)


def include_result(api: Transport, campaign_id: str, sample_id: str, reason: str) -> ResultView:
    """Take an excluded result back into training."""
    return correct_result(api, campaign_id, sample_id, reason=reason, excluded=False)
