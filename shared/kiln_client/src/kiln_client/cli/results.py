"""`kiln results`: post measured results (CSV or JSON, in chunks) and export them."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from kiln_client.cli.options import campaign_argument, campaign_option, json_option
from kiln_client.cli.output import CONTEXT, counted, echo_json, fail, plural
from kiln_client.cli.root import client_of
from kiln_client.client import KilnAPIError, csv_chunks, read_text


@click.group(context_settings=CONTEXT)
def results() -> None:
    """Post measured results and export them."""


@results.command("post")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@campaign_option
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Results per request (each request is all-or-nothing).",
)
@json_option("the server's answers")
@click.pass_context
def results_post(
    ctx: click.Context, file: str, campaign_id: str, chunk_size: int, as_json: bool
) -> None:
    """Post results from a CSV or JSON file (write token).

    A CSV file has a header: sample_id, the parameter names, the objective's name (or
    "objective"); other columns are stored as measurements. A file from `kiln proposals
    export`, filled in, posts as it is: rows left unfilled are skipped. A JSON file holds one
    result, a list of them, or {"results": [...]}. Large files go in chunks with a progress bar.

    Posting is idempotent by sample_id: posting the same file again stores nothing twice, so
    after an interruption simply run the command again.

    \b
    Examples:
      kiln results post seed.csv --campaign latp-2026
      kiln results post batch-7.json --campaign latp-2026
    """
    client = client_of(ctx)
    text = sys.stdin.read() if file == "-" else read_text(Path(file))
    is_json = file.lower().endswith(".json") or text.lstrip()[:1] in ("[", "{")
    chunks: list[tuple[Any, int]] = list(
        _json_chunks(text, file, chunk_size) if is_json else csv_chunks(text, chunk_size)
    )
    total = sum(n for _, n in chunks)
    if total == 0:
        fail(f"{file} holds no results")
    stored = duplicates = skipped = 0
    answers = []
    done = 0
    with click.progressbar(
        length=total, label=f"Posting {counted(total, 'result')}", file=sys.stderr, show_pos=True
    ) as bar:
        for payload, n in chunks:
            try:
                if is_json:
                    answer = client.post_results(campaign_id, payload)
                else:
                    answer = client.post_results_csv(campaign_id, payload)
            except KilnAPIError as exc:
                if done:
                    click.echo(
                        f"\nStored {counted(done, 'result')} before this chunk; rows {done + 1}-"
                        f"{done + n} were refused. Fix them and post the file again (results "
                        "already stored count as duplicates).",
                        err=True,
                    )
                raise exc
            answers.append(answer)
            stored += answer.get("stored", 0)
            duplicates += answer.get("duplicates", 0)
            skipped += answer.get("skipped", 0)
            done += n
            bar.update(n)
    if as_json:
        echo_json(answers)
        return
    unfilled = f", {counted(skipped, 'row')} not filled in skipped" if skipped else ""
    click.echo(
        f"Stored {stored} new {plural(stored, 'result')}, {duplicates} already stored{unfilled} "
        f"(campaign {campaign_id})."
    )
    flagged = [f for a in answers for f in a.get("flags", [])]
    for flag in flagged[:20]:
        click.echo(f"  note: {flag.get('sample_id')}: {'; '.join(flag.get('flags', []))}")
    if len(flagged) > 20:
        click.echo(
            f"  ... and {len(flagged) - 20} more flagged {plural(len(flagged) - 20, 'result')}"
        )


def _json_chunks(text: str, name: str, size: int) -> Iterator[tuple[list[dict[str, Any]], int]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")
    if isinstance(data, dict):
        data = data["results"] if isinstance(data.get("results"), list) else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        fail(f"{name}: expected a result object, a list of them, or {{'results': [...]}}")
    for start in range(0, len(data), size):
        part = data[start : start + size]
        yield part, len(part)


@results.command("export")
@campaign_argument
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write."
)
@click.pass_context
def results_export(ctx: click.Context, campaign_id: str, fmt: str, output: io.TextIOBase) -> None:
    """Export every result of a campaign as CSV (default) or JSON.

    \b
    Example:
      kiln results export latp-2026 -o results.csv
    """
    client = client_of(ctx)
    if fmt == "csv":
        output.write(client.export_results_csv(campaign_id))
    else:
        output.write(json.dumps(client.list_results(campaign_id), indent=2) + "\n")
