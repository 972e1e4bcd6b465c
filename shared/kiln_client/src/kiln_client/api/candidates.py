"""Candidate-pool requests: add rows (JSON or a CSV file), list them, remove them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from kiln_client.csvtext import read_text
from kiln_client.payloads import Candidate, CandidatesAdded, CandidatesRemoved
from kiln_client.transport import Transport


def add_candidates(
    api: Transport,
    campaign_id: str,
    rows_or_csv_path: Sequence[Mapping[str, Any]] | str | os.PathLike[str],
    *,
    idempotency_key: str | None = None,
) -> CandidatesAdded:
    """Add rows to a campaign's candidate pool, all-or-nothing (admin token).

    One request, whatever the size: the server checks every row against the parameters and
    refuses duplicates (within the rows or of an open row of the pool); each addition is a
    new space version.

    Args:
        campaign_id: The campaign.
        rows_or_csv_path: Rows (``{parameter: value}`` each), or the path of a CSV file
            whose header holds the parameter names.
        idempotency_key: Sent as ``Idempotency-Key`` (a retry is replayed, not added twice).
    """
    path = f"/campaigns/{campaign_id}/candidates"
    if isinstance(rows_or_csv_path, str | os.PathLike):
        data = read_text(Path(rows_or_csv_path)).encode("utf-8")
        response = api.request(
            "POST",
            path,
            data=data,
            headers={"Content-Type": "text/csv; charset=utf-8"},
            idempotency_key=idempotency_key,
        )
    else:
        rows = [dict(r) for r in rows_or_csv_path]
        response = api.request("POST", path, json=rows, idempotency_key=idempotency_key)
    return cast(CandidatesAdded, response.json())


def iter_candidates(
    api: Transport, campaign_id: str, *, status: str | None = None, page_size: int = 1000
) -> Iterator[Candidate]:
    """Yield a campaign's candidates in id order, page by page, optionally of one status."""
    query = {"status": status} if status else None
    path = f"/campaigns/{campaign_id}/candidates"
    for item in api.paged(path, page_size=page_size, query=query):
        yield cast(Candidate, item)


def list_candidates(api: Transport, campaign_id: str, status: str | None = None) -> list[Candidate]:
    """Every candidate of a campaign in id order, or only those of one ``status``.

    Args:
        campaign_id: The campaign.
        status: open, pending, measured, removed or outside; None for every row.
    """
    return list(iter_candidates(api, campaign_id, status=status))


def remove_candidates(
    api: Transport, campaign_id: str, ids: Sequence[int], reason: str
) -> CandidatesRemoved:
    """Take rows out of the pool for good (admin token); their pending proposals are withdrawn.

    Rows removed already are listed in ``already_removed``, so repeating the call is safe
    (it is retried after a lost connection).
    """
    response = api.request(
        "PATCH",
        f"/campaigns/{campaign_id}/candidates",
        json={"remove": [int(i) for i in ids], "reason": reason},
        retry_connection=True,
    )
    return cast(CandidatesRemoved, response.json())
