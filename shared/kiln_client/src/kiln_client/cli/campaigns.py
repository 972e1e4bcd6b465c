"""`kiln campaigns`: create, list and show campaigns."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from kiln_client.cli.options import campaign_argument, json_option
from kiln_client.cli.output import CONTEXT, counted, echo_json, fail, number, sci, table
from kiln_client.cli.pareto import objective_lines
from kiln_client.cli.root import client_of
from kiln_client.client import KilnAPIError
from kiln_client.furnace_words import constraint_words, sharing_words
from kiln_client.vocabulary import PRESETS


@click.group(context_settings=CONTEXT)
def campaigns() -> None:
    """Create, list and show optimisation campaigns."""


@campaigns.command("create")
@click.option(
    "--preset",
    type=click.Choice(PRESETS),
    help=(
        "Start from a preset (latp: the LATP sol-gel space of the study; latp-moo: the same "
        "space, conductivity and relative density optimised together)."
    ),
)
@click.option(
    "--file",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON campaign definition: name, parameters, objective, strategy, constraints.",
)
@click.option("--name", help="The campaign's name (overrides the preset's or file's).")
@json_option("the created campaign")
@click.pass_context
def campaigns_create(
    ctx: click.Context, preset: str | None, spec_file: Path | None, name: str | None, as_json: bool
) -> None:
    """Create a campaign from a preset or a JSON definition (admin token).

    \b
    Examples:
      kiln campaigns create --preset latp --name latp-2026
      kiln campaigns create --preset latp-furnace --name furnace-2026
      kiln campaigns create --file spec.json   (may hold "constraints" and strategy.batch_shared)
    """
    if bool(preset) == bool(spec_file):
        raise click.UsageError("give exactly one of --preset or --file")
    spec: dict[str, Any] = {}
    if spec_file is not None:
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{spec_file} is not valid JSON: {exc}")
        if not isinstance(spec, dict):
            fail(f"{spec_file} must hold one JSON object (the campaign definition)")
    campaign = client_of(ctx).create_campaign(spec, preset=preset, name=name)
    if as_json:
        echo_json(campaign)
        return
    click.echo(f"Created campaign {campaign.get('name')!r}: {campaign['id']}")
    click.echo(describe_campaign(campaign))


@campaigns.command("list")
@json_option("the campaigns")
@click.pass_context
def campaigns_list(ctx: click.Context, as_json: bool) -> None:
    """List the campaigns the token may read, oldest first."""
    items = client_of(ctx).list_campaigns()
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("No campaigns yet. Create one: kiln campaigns create --preset latp")
        return
    rows = [
        [
            c["id"],
            c.get("name", ""),
            c.get("counts", {}).get("results", 0),
            c.get("counts", {}).get("proposals_pending", 0),
            number(c.get("counts", {}).get("model_version")),
            c.get("created_at", "")[:19],
        ]
        for c in items
    ]
    click.echo(table(["id", "name", "results", "pending", "model", "created"], rows))


@campaigns.command("show")
@campaign_argument
@json_option("the campaign")
@click.pass_context
def campaigns_show(ctx: click.Context, campaign_id: str, as_json: bool) -> None:
    """Show a campaign: its space, objective, strategy, counts and best result so far.

    \b
    Example:
      kiln campaigns show latp-2026
    """
    client = client_of(ctx)
    campaign = client.get_campaign(campaign_id)
    if as_json:
        echo_json(campaign)
        return
    click.echo(f"{campaign.get('name')} ({campaign['id']})")
    click.echo(describe_campaign(campaign))
    if campaign.get("objectives"):
        click.echo(f"Its Pareto front and hypervolume: kiln pareto {campaign_id}")
        return
    try:
        summary = client.model(campaign_id).get("summary", {})
    except KilnAPIError as exc:
        if exc.status != 404:
            raise
        return
    best = summary.get("best_observed") or {}
    if best:
        where = ", ".join(f"{k}={number(v)}" for k, v in (best.get("parameters") or {}).items())
        click.echo(f"Best observed: {sci(best.get('objective'))} at {where}")


def describe_campaign(campaign: Mapping[str, Any]) -> str:
    """Parameters, objective, strategy and counts of a campaign as a few lines."""
    lines = []
    for p in campaign.get("parameters", []):
        unit = f" {p['unit']}" if p.get("unit") else ""
        if p.get("kind") == "continuous":
            step = f" step {number(p['step'])}" if p.get("step") else ""
            span = f"{number(p.get('low'))} .. {number(p.get('high'))}{step}"
        else:
            span = ", ".join(number(v) for v in p.get("values", []))
        log = ", log scale" if p.get("scale") == "log" else ""
        lines.append(f"  {p['name']:<16} {p.get('kind', ''):<11} {span}{unit}{log}")
    lines.extend(objective_lines(campaign))
    strategy = campaign.get("strategy", {})
    if strategy:
        lines.append(
            f"  strategy: {strategy.get('acquisition')} kappa={number(strategy.get('kappa'))}, "
            f"batches of {strategy.get('batch_size')} by {strategy.get('batch_method')}"
        )
    lines += constraint_lines(campaign)
    counts = campaign.get("counts", {})
    lines.append(
        f"  space v{campaign.get('space_version', 1)}; {counted(counts.get('results', 0), 'result')}, "
        f"{counted(counts.get('proposals_pending', 0), 'proposal')} pending, "
        f"model v{number(counts.get('model_version'))}"
    )
    return "\n".join(lines)


def constraint_lines(campaign: Mapping[str, Any]) -> list[str]:
    """The campaign's constraints and furnace sharing, a line each (none without them)."""
    lines = [f"  constraint: {constraint_words(c)}" for c in campaign.get("constraints") or []]
    sharing = sharing_words((campaign.get("strategy") or {}).get("batch_shared"))
    return [*lines, f"  {sharing}"] if sharing else lines
