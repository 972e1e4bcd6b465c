"""CSV and file text for the client and the command line: read any source, split into chunks,
write proposals for a lab to fill in."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from kiln_client.vocabulary import PREDICTION_FIELDS, PROPOSAL_COLUMNS


def read_text(source: str | bytes | Path | IO[str] | IO[bytes]) -> str:
    """The text of a path, an open file, bytes, or a string that already is the content."""
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8-sig")
    if isinstance(source, bytes):
        return source.decode("utf-8-sig")
    if isinstance(source, str):
        return source
    data = source.read()
    return data.decode("utf-8-sig") if isinstance(data, bytes) else data


def csv_chunks(text: str, size: int) -> Iterator[tuple[str, int]]:
    """Split CSV text into CSV texts of at most ``size`` rows, each with the header.

    Yields:
        ``(csv_text, rows)`` per chunk.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    rows: list[list[str]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        rows.append(row)
        if len(rows) >= size:
            yield _csv_text(header, rows), len(rows)
            rows = []
    if rows:
        yield _csv_text(header, rows), len(rows)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def proposals_csv(campaign: Mapping[str, Any], proposals: Sequence[Mapping[str, Any]]) -> str:
    """Proposals as a CSV a lab fills in and posts back as results (`kiln results post`).

    Columns: proposal_id, sample_id (empty: the proposal's id serves when left so), the furnace
    ``group`` when the batch has groups (``strategy.batch_shared``; as the API numbers them, from
    0), the parameters, what to fill in (:func:`measured_columns`), the predictions and the
    proposal's status. The server ignores the prediction and group columns, reads a
    pending status as not the result's, and skips rows left unfilled (counted in its answer).
    """
    measured = measured_columns(campaign)
    names = list(proposals[0]["parameters"]) if proposals else []
    extra = _proposal_columns(proposals, [*names, *measured])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["proposal_id", "sample_id", *extra, *names, *measured, *PREDICTION_FIELDS, "status"]
    )
    for p in proposals:
        writer.writerow(
            [
                p.get("id"),
                "",
                *[p.get(column) for column in extra],
                *[p["parameters"].get(n) for n in names],
                *[""] * len(measured),
                *[p.get(field) for field in PREDICTION_FIELDS],
                p.get("status"),
            ]
        )
    return out.getvalue()


def measured_columns(campaign: Mapping[str, Any]) -> list[str]:
    """The columns a lab fills in: the objective and its standard deviation (``<name>_sd``), or,
    for a multi-objective campaign, one column per objective (an empty cell: not measured)."""
    if campaign.get("objectives"):
        return [str(spec["name"]) for spec in campaign["objectives"]]
    objective = campaign.get("objective", {}).get("name", "objective")
    return [objective, f"{objective}_sd"]


def _proposal_columns(proposals: Sequence[Mapping[str, Any]], taken: Sequence[str]) -> list[str]:
    """The proposal's own columns (``group``) some proposal has and no other column is named."""
    return [
        column
        for column in PROPOSAL_COLUMNS
        if column not in taken and any(p.get(column) is not None for p in proposals)
    ]
