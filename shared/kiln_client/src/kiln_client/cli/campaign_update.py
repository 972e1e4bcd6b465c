"""`kiln campaigns update`: change a campaign's constraints, furnace sharing or anything else a
PATCH takes (a new space version for constraints and ranges; all data kept)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from kiln_client.cli.campaigns import campaigns, describe_campaign
from kiln_client.cli.options import campaign_argument, json_option
from kiln_client.cli.output import counted, echo_json, fail
from kiln_client.cli.root import client_of

_JSON_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _json_of(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"{path} is not valid JSON: {exc}")


def _constraints_of(path: Path) -> list[Any]:
    """A constraints file: the JSON list, or an object with it as ``"constraints"``."""
    raw = _json_of(path)
    if isinstance(raw, dict) and "constraints" in raw:
        raw = raw["constraints"]
    if not isinstance(raw, list):
        fail(f'{path} must hold a JSON list of constraints (or {{"constraints": [...]}})')
    return raw


def changes_of(
    spec_file: Path | None,
    constraints_file: Path | None,
    no_constraints: bool,
    shared: str | None,
    groups: int | None,
    no_sharing: bool,
) -> dict[str, Any]:
    """The PATCH body the options ask for (a file's changes first, the options over them)."""
    changes: dict[str, Any] = {}
    if spec_file is not None:
        changes = _json_of(spec_file)
        if not isinstance(changes, dict):
            fail(f"{spec_file} must hold one JSON object (the changes)")
    if constraints_file is not None and no_constraints:
        raise click.UsageError("give --constraints or --no-constraints, not both")
    if constraints_file is not None:
        changes["constraints"] = _constraints_of(constraints_file)
    elif no_constraints:
        changes["constraints"] = []
    if no_sharing and (shared or groups):
        raise click.UsageError("give --shared/--groups or --no-sharing, not both")
    if groups is not None and not shared:
        raise click.UsageError("--groups needs --shared (the parameters a furnace run shares)")
    strategy = dict(changes.get("strategy") or {})
    if shared:
        names = [n.strip() for n in shared.split(",") if n.strip()]
        strategy["batch_shared"] = {"parameters": names, "groups": groups or 1}
    elif no_sharing:
        strategy["batch_shared"] = None
    if strategy:
        changes["strategy"] = strategy
    if not changes:
        raise click.UsageError("nothing to change: give --constraints, --shared, --file, ...")
    return changes


@campaigns.command("update")
@campaign_argument
@click.option(
    "--constraints",
    "constraints_file",
    type=_JSON_FILE,
    help='A JSON file: the campaign\'s constraints, all of them (a list or {"constraints": [...]}).',
)
@click.option("--no-constraints", is_flag=True, help="Drop every constraint.")
@click.option(
    "--shared",
    metavar="NAMES",
    help="Parameters a furnace run shares, comma-separated (strategy.batch_shared).",
)
@click.option("--groups", type=click.IntRange(1), help="Furnace runs per batch (with --shared).")
@click.option("--no-sharing", is_flag=True, help="End the furnace sharing.")
@click.option(
    "--file", "spec_file", type=_JSON_FILE, help="A JSON object of any changes a PATCH takes."
)
@json_option("the updated campaign")
@click.pass_context
def campaigns_update(
    ctx: click.Context,
    campaign_id: str,
    constraints_file: Path | None,
    no_constraints: bool,
    shared: str | None,
    groups: int | None,
    no_sharing: bool,
    spec_file: Path | None,
    as_json: bool,
) -> None:
    """Change constraints, furnace sharing or other settings (admin token).

    New constraints make a new space version: pending proposals that break them are withdrawn
    with the reason (`kiln proposals list` shows them); constraints that leave no candidate are
    refused, naming them.

    \b
    Examples:
      kiln campaigns update furnace-2026 --constraints constraints.json
      kiln campaigns update furnace-2026 --shared temperature_c,time_min --groups 2
      kiln campaigns update furnace-2026 --no-constraints --no-sharing
    """
    changes = changes_of(spec_file, constraints_file, no_constraints, shared, groups, no_sharing)
    client = client_of(ctx)
    before = client.get_campaign(campaign_id).get("counts", {}).get("proposals_pending", 0)
    campaign = client.update_campaign(campaign_id, changes)
    if as_json:
        echo_json(campaign)
        return
    click.echo(f"Updated campaign {campaign.get('name')!r}: {campaign['id']}")
    click.echo(describe_campaign(campaign))
    gone = before - campaign.get("counts", {}).get("proposals_pending", 0)
    if gone > 0:
        click.echo(
            f"{counted(gone, 'pending proposal')} withdrawn: they break the new constraints or "
            f"ranges (kiln proposals list {campaign['id']} shows why)."
        )
