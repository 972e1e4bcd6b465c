"""`kiln kadi`: the Kadi4Mat bridge (import records as results, export proposals as records)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kiln_client.cli.options import campaign_option
from kiln_client.cli.output import CONTEXT
from kiln_client.cli.root import client_of
from kiln_client.kadi import (
    ExportReport,
    ImportReport,
    Kadi,
    export_proposals,
    import_collection,
    load_mapping,
    sync,
)

F = TypeVar("F", bound=Callable[..., Any])


def kadi_options(function: F) -> F:
    """--kadi-url/--kadi-token (env KADI_URL, KADI_TOKEN), --collection and --mapping."""
    for decorate in reversed(
        [
            click.option("--collection", required=True, help="The collection's id or identifier."),
            click.option(
                "--mapping",
                "mapping_path",
                required=True,
                type=click.Path(exists=True, dir_okay=False),
                help="The mapping JSON: which extras hold each parameter, objective, measurement.",
            ),
            click.option(
                "--kadi-url", envvar="KADI_URL", required=True, help="Kadi4Mat (env KADI_URL)."
            ),
            click.option(
                "--kadi-token",
                envvar="KADI_TOKEN",
                required=True,
                help="A Kadi4Mat personal access token (env KADI_TOKEN).",
            ),
        ]
    ):
        function = decorate(function)
    return function


def report(outcome: ImportReport | ExportReport) -> None:
    """The summary line, then each failure on its own line (stderr)."""
    click.echo(outcome.line())
    for what, why in outcome.failed.items():
        click.echo(f"  failed {what}: {why}", err=True)


@click.group(context_settings=CONTEXT)
def kadi() -> None:
    """Read results from a Kadi4Mat collection, write proposals back as records."""


def run_once(ctx: click.Context, step: Callable[..., Any], *where: str, **options: Any) -> None:
    """Run ``step`` (import or export) with the options' Kadi4Mat and mapping, print its report;
    exit 1 if a record failed."""
    mapping = load_mapping(options["mapping_path"])
    with Kadi(options["kadi_url"], options["kadi_token"]) as kadi:
        outcome = step(client_of(ctx), kadi, *where, mapping)
    report(outcome)
    if outcome.failed:
        ctx.exit(1)


@kadi.command("import")
@campaign_option
@kadi_options
@click.pass_context
def kadi_import(ctx: click.Context, campaign_id: str, collection: str, **options: Any) -> None:
    """Every record of the collection as a result (once); a changed record as a correction.

    \b
    Example:
      kiln kadi import --collection latp-samples --campaign latp-2026 --mapping mapping.json
    """
    run_once(ctx, import_collection, collection, campaign_id, **options)


@kadi.command("export")
@campaign_option
@kadi_options
@click.pass_context
def kadi_export(ctx: click.Context, campaign_id: str, collection: str, **options: Any) -> None:
    """Each pending proposal as a record of the collection (once), with a link back.

    \b
    Example:
      kiln kadi export --campaign latp-2026 --collection latp-samples --mapping mapping.json
    """
    run_once(ctx, export_proposals, campaign_id, collection, **options)


@kadi.command("sync")
@campaign_option
@kadi_options
@click.option(
    "--every",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="Seconds between rounds.",
)
@click.option("--rounds", type=click.IntRange(1), default=None, help="Stop after this many rounds.")
@click.pass_context
def kadi_sync(
    ctx: click.Context,
    campaign_id: str,
    collection: str,
    every: float,
    rounds: int | None,
    **options: Any,
) -> None:
    """Import then export, every --every seconds, a progress line each round, until interrupted.

    \b
    Example:
      kiln kadi sync --campaign latp-2026 --collection latp-samples --mapping mapping.json --every 60
    """
    mapping = load_mapping(options["mapping_path"])
    with Kadi(options["kadi_url"], options["kadi_token"]) as kadi:
        sync(
            client_of(ctx),
            kadi,
            campaign_id,
            collection,
            mapping,
            every=every,
            rounds=rounds,
            progress=click.echo,
        )
