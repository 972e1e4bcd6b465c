"""`kiln proposals`: watch, list, request, export and withdraw proposed experiments."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from kiln_client.cli.options import campaign_argument, json_option
from kiln_client.cli.output import CONTEXT, counted, echo_json, fail, number, sci, table
from kiln_client.cli.root import client_of
from kiln_client.client import Batch
from kiln_client.csvtext import proposals_csv
from kiln_client.furnace_words import batch_groups, group_words
from kiln_client.predictions import format_acquisitions, prediction_columns
from kiln_client.vocabulary import (
    ACQUISITIONS,
    BATCH_METHODS,
    MAX_BATCH_SIZE,
    PARETO_ACQUISITIONS,
)


@click.group(context_settings=CONTEXT)
def proposals() -> None:
    """Watch, request, export and withdraw proposed experiments."""


@proposals.command("watch")
@campaign_argument
@click.option("--json", "as_json", is_flag=True, help="One JSON document per batch (for scripts).")
@click.option(
    "--wait",
    type=click.FloatRange(1, 60),
    default=30,
    show_default=True,
    help="Seconds each long-poll may wait on the server.",
)
@click.option("--count", type=click.IntRange(1), help="Stop after this many batches.")
@click.pass_context
def proposals_watch(
    ctx: click.Context, campaign_id: str, as_json: bool, wait: float, count: int | None
) -> None:
    """Print the latest batch, then each new batch as it appears (Ctrl-C to stop).

    Long-polls the server with the batch's ETag, so a new batch shows up within moments of the
    workers computing it, without hammering the server.

    \b
    Examples:
      kiln proposals watch latp-2026
      kiln proposals watch latp-2026 --json --count 1 | jq '.proposals[].parameters'
    """
    client = client_of(ctx)
    campaign = client.get_campaign(campaign_id)
    if not as_json:
        click.echo(f"Watching {campaign.get('name')} ({campaign_id}); Ctrl-C to stop.", err=True)
    for seen, batch in enumerate(client.watch_proposals(campaign_id, wait=wait), start=1):
        if as_json:
            click.echo(json.dumps(batch))
        else:
            click.echo(format_batch(batch, campaign))
        sys.stdout.flush()
        if count is not None and seen >= count:
            return


def format_batch(batch: Batch, campaign: Mapping[str, Any] | None = None) -> str:
    """A batch as a heading and a table: whole ids, parameters, the prediction's one-std
    interval, acquisition (3 digits, "≈0" when negligible) and status.

    A batch in furnace groups (``strategy.batch_shared``) is one table per furnace run, under a
    line with the values its pellets share (``Furnace run 1: 1050 °C, 120 min · 3 pellets``).
    """
    items = batch.get("proposals", [])
    heading = (
        f"\nBatch {batch.get('batch_id')} ({batch.get('created_at', '')[:19]}): "
        f"{len(items)} proposals, {batch.get('acquisition')}/{batch.get('batch_method')}, "
        f"model v{number(batch.get('model_version'))}, data v{batch.get('data_version')}, "
        f"space v{batch.get('space_version')}"
    )
    if batch.get("fallback"):
        heading += f"\n  note: {batch['fallback']}"
    shared = ((campaign or {}).get("strategy") or {}).get("batch_shared") or {}
    groups = batch_groups(items, shared.get("parameters") or [])
    if not groups:
        return f"{heading}\n{_batch_table(items, campaign)}"
    parameters = (campaign or {}).get("parameters") or []
    sections = [
        f"{group_words(g, values, parameters)} · {counted(len(members), 'pellet')}\n"
        f"{_batch_table(members, campaign, hide=list(values))}"
        for g, values, members in groups
    ]
    return heading + "".join(f"\n{section}" for section in sections)


def _batch_table(
    items: Sequence[Mapping[str, Any]],
    campaign: Mapping[str, Any] | None,
    hide: Sequence[str] = (),
) -> str:
    """The proposals' table; ``hide`` names parameters shown once above it (a group's shared).
    A multi-objective campaign's has a prediction column per objective."""
    names = [n for n in (items[0]["parameters"] if items else []) if n not in hide]
    predictions = prediction_columns(campaign)
    acquisitions = format_acquisitions([p.get("acquisition_value") for p in items])
    rows = [
        [
            str(p.get("id")),  # whole: reporting a result needs it
            *[number(p["parameters"].get(n)) for n in names],
            *[read(p) for _, read in predictions],
            acquisition,
            p.get("status", ""),
        ]
        for p, acquisition in zip(items, acquisitions, strict=True)
    ]
    headers = ["proposal", *names, *[h for h, _ in predictions], "acquisition", "status"]
    return table(headers, rows)


@proposals.command("list")
@campaign_argument
@click.option("--pending", is_flag=True, help="Only the proposals still waiting for a result.")
@json_option("the proposals")
@click.pass_context
def proposals_list(ctx: click.Context, campaign_id: str, pending: bool, as_json: bool) -> None:
    """List a campaign's proposals (every batch), oldest first.

    \b
    Example:
      kiln proposals list latp-2026 --pending
    """
    items = client_of(ctx).list_proposals(campaign_id, status="pending" if pending else None)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("No proposals." if not pending else "No proposal is waiting for a result.")
        return
    names = list(items[0].get("parameters", {}))
    runs = any(p.get("group") is not None for p in items)  # furnace groups: run 1, 2, ...
    why = any(p.get("status") == "withdrawn" and p.get("reason") for p in items)
    rows = [
        [
            p.get("id") or "",
            p.get("status", ""),
            *([number(p["group"] + 1) if p.get("group") is not None else "-"] if runs else []),
            *[number(p.get("parameters", {}).get(n)) for n in names],
            predicted_means(p),
            p.get("sample_id") or "",
            *([p.get("reason") or "" if p.get("status") == "withdrawn" else ""] if why else []),
        ]
        for p in items
    ]
    headers = ["proposal", "status", *(["run"] if runs else []), *names, "predicted", "measured by"]
    headers += ["why withdrawn"] if why else []
    click.echo(table(headers, rows))


def predicted_means(proposal: Mapping[str, Any]) -> str:
    """A proposal's predicted mean, or each objective's (``conductivity 1.2e-03, ...``)."""
    predicted = proposal.get("predicted") or {}
    if not predicted:
        return sci(proposal.get("predicted_mean"))
    return ", ".join(f"{name} {sci((p or {}).get('mean'))}" for name, p in predicted.items())


@proposals.command("request")
@campaign_argument
@click.option(
    "--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), help="Proposals in the batch."
)
@click.option(
    "--acquisition",
    type=click.Choice(ACQUISITIONS + PARETO_ACQUISITIONS),
    help="Override (ehvi or parego for a multi-objective campaign).",
)
@click.option(
    "--batch-method",
    type=click.Choice(BATCH_METHODS),
    help="Override the campaign's batch method.",
)
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@click.pass_context
def proposals_request(
    ctx: click.Context,
    campaign_id: str,
    batch_size: int | None,
    acquisition: str | None,
    batch_method: str | None,
    no_wait: bool,
) -> None:
    """Ask the workers for a batch now and print it when it is ready.

    \b
    Example:
      kiln proposals request latp-2026 --batch-size 4 --acquisition ei
    """
    client = client_of(ctx)
    job = client.request_proposals(
        campaign_id, batch_size=batch_size, acquisition=acquisition, batch_method=batch_method
    )
    click.echo(f"Job {job['id']} {job.get('state')}", err=True)
    if no_wait:
        return
    client.wait_for_job(job["id"], timeout=ctx.find_root().obj.get("timeout", 30.0) * 10)
    batch = client.latest_proposals(campaign_id)
    if batch is not None:
        click.echo(format_batch(batch, client.get_campaign(campaign_id)))


@proposals.command("export")
@campaign_argument
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--pending", is_flag=True, help="Only the proposals still waiting for a result.")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write."
)
@click.pass_context
def proposals_export(
    ctx: click.Context, campaign_id: str, fmt: str, pending: bool, output: io.TextIOBase
) -> None:
    """Export the latest batch as CSV (one row per proposal, a column per parameter) or JSON.

    The CSV has the objective's column (and its standard deviation's) for the lab to fill in,
    and a sample_id column (left empty, the proposal's id serves), so the same file goes back
    with `kiln results post`: the predictions are ignored, rows left unfilled are skipped.

    \b
    Examples:
      kiln proposals export latp-2026 -o next.csv
      kiln proposals export latp-2026 --format json --pending
    """
    client = client_of(ctx)
    batch = client.latest_proposals(campaign_id)
    if batch is None:
        fail(f"campaign {campaign_id} has no batch yet: post results first")
    items = [p for p in batch.get("proposals", []) if not pending or p.get("status") == "pending"]
    if fmt == "json":
        output.write(json.dumps({**batch, "proposals": items}, indent=2) + "\n")
        return
    output.write(proposals_csv(client.get_campaign(campaign_id), items))


@proposals.command("withdraw")
@campaign_argument
@click.argument("proposal_id")
@click.pass_context
def proposals_withdraw(ctx: click.Context, campaign_id: str, proposal_id: str) -> None:
    """Withdraw a pending proposal (it will not be synthesised)."""
    proposal = client_of(ctx).withdraw_proposal(campaign_id, proposal_id)
    click.echo(f"Proposal {proposal.get('id')} is now {proposal.get('status')}.")
