"""The options several `kiln` commands share: the campaign (by id or name) and `--json`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kiln_client.cli.root import client_of

F = TypeVar("F", bound=Callable[..., Any])

CAMPAIGN_HELP = "The campaign's id or name."


def resolve_campaign(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A campaign argument's id: an id as is, a name looked up (one lookup, however given)."""
    return None if value is None else client_of(ctx).campaign_id(value)


def campaign_argument(function: F) -> F:
    """The campaign as the first argument (``kiln proposals watch latp-2026``), by id or name."""
    decorate = click.argument("campaign_id", metavar="CAMPAIGN", callback=resolve_campaign)
    return decorate(function)


def campaign_option(function: F) -> F:
    """The campaign as ``--campaign ID|NAME`` (``kiln results post x.csv --campaign latp-2026``)."""
    decorate = click.option(
        "--campaign",
        "campaign_id",
        required=True,
        metavar="ID|NAME",
        callback=resolve_campaign,
        help=CAMPAIGN_HELP,
    )
    return decorate(function)


def json_option(what: str) -> Callable[[F], F]:
    """``--json``: print ``what`` (e.g. "the campaigns") as JSON instead of a table."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")
