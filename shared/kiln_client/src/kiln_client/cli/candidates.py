"""`kiln candidates`: add, list and remove the rows of a campaign's candidate pool."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from kiln_client.cli.options import campaign_option, json_option
from kiln_client.cli.output import CONTEXT, counted, echo_json, fail, number, table
from kiln_client.cli.root import client_of
from kiln_client.client import read_text
from kiln_client.vocabulary import POOL_STATUSES


@click.group(context_settings=CONTEXT)
def candidates() -> None:
    """Add, list and remove the rows of a campaign's candidate pool."""


@candidates.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@campaign_option
@json_option("the server's answer")
@click.pass_context
def candidates_add(ctx: click.Context, file: Path, campaign_id: str, as_json: bool) -> None:
    """Add candidates from a CSV or JSON file (admin token).

    A CSV file has a header of the parameter names and one row per candidate. A JSON file
    holds a list of {parameter: value} objects or {"candidates": [...]}. All-or-nothing: a
    bad row or a duplicate (of another row or of an open row of the pool) refuses the file,
    naming the row; nothing is added. Each addition is a new space version.

    \b
    Examples:
      kiln candidates add lots.csv --campaign latp-2026
      kiln candidates add library.json --campaign latp-2026
    """
    client = client_of(ctx)
    text = read_text(file)
    if file.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        answer = client.add_candidates(campaign_id, _candidate_rows(text, str(file)))
    else:
        answer = client.add_candidates(campaign_id, file)
    if as_json:
        echo_json(answer)
        return
    ids = answer.get("ids") or []
    span = f" (ids {ids[0]}-{ids[-1]})" if len(ids) > 1 else f" (id {ids[0]})" if ids else ""
    click.echo(
        f"Added {counted(answer.get('added', 0), 'candidate')}{span}; the pool holds "
        f"{answer.get('total')} rows, space v{answer.get('space_version')} (campaign "
        f"{campaign_id})."
    )


def _candidate_rows(text: str, name: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")
    if isinstance(data, dict) and isinstance(data.get("candidates"), list):
        data = data["candidates"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        fail(f"{name}: expected a list of {{parameter: value}} objects or {{'candidates': [...]}}")
    if not data:
        fail(f"{name} holds no candidates")
    return data


@candidates.command("list")
@campaign_option
@click.option(
    "--status",
    type=click.Choice(POOL_STATUSES),
    help="Only the rows of this status.",
)
@json_option("the candidates")
@click.pass_context
def candidates_list(
    ctx: click.Context, campaign_id: str, status: str | None, as_json: bool
) -> None:
    """List a campaign's candidates with their status, in id order.

    open: may be proposed; pending: proposed, waiting for its result; measured; removed: taken
    out for good; outside: a value the campaign's current ranges exclude (not proposed until
    they are widened).

    \b
    Examples:
      kiln candidates list --campaign latp-2026
      kiln candidates list --campaign latp-2026 --status open --json
    """
    items = client_of(ctx).list_candidates(campaign_id, status=status)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo(f"No {status} candidates." if status else "This campaign has no candidates.")
        return
    names = list(items[0].get("parameters", {}))
    rows = [
        [
            c.get("id"),
            c.get("status", ""),
            *[number(c.get("parameters", {}).get(n)) for n in names],
            c.get("reason", ""),
        ]
        for c in items
    ]
    click.echo(table(["id", "status", *names, "note"], rows))
    by_status: dict[str, int] = {}
    for c in items:
        by_status[c.get("status", "")] = by_status.get(c.get("status", ""), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in by_status.items())
    click.echo(f"{counted(len(items), 'candidate')}: {summary}")


@candidates.command("remove")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(0))
@campaign_option
@click.option("--reason", required=True, help="Why (kept with each row and its proposals).")
@json_option("the server's answer")
@click.pass_context
def candidates_remove(
    ctx: click.Context, ids: tuple[int, ...], campaign_id: str, reason: str, as_json: bool
) -> None:
    """Remove candidates for good by id (admin token); their pending proposals are withdrawn.

    Ids stay (a removed row is listed as removed, with the reason); the same values may be
    added again later as a new row. Removing a row twice is harmless.

    \b
    Example:
      kiln candidates remove 4 17 --campaign latp-2026 --reason "lot used up"
    """
    answer = client_of(ctx).remove_candidates(campaign_id, list(ids), reason)
    if as_json:
        echo_json(answer)
        return
    removed, already = answer.get("removed") or [], answer.get("already_removed") or []
    withdrawn = answer.get("withdrawn_proposals") or []
    head = f"Removed {counted(len(removed), 'candidate')}"
    parts = [f"{head} ({_ids(removed)})" if removed else head]
    if already:
        parts.append(f"{len(already)} removed already ({_ids(already)})")
    if withdrawn:
        parts.append(f"withdrew {counted(len(withdrawn), 'pending proposal')}")
    click.echo("; ".join(parts) + f"; space v{answer.get('space_version')}.")


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:20]) + (", ..." if len(ids) > 20 else "")
