"""The root `kiln` group: the server, the token, and client errors as one friendly line."""

from __future__ import annotations

from typing import Any

import click

from kiln_client import settings
from kiln_client.cli.output import CONTEXT
from kiln_client.client import AuthError, Client, ClientError, KilnAPIError


class KilnGroup(click.Group):
    """A group that turns client errors into one friendly line (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClientError as exc:
            raise click.ClickException(describe(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def describe(exc: ClientError) -> str:
    """The error as the user should read it: what happened, then each offending field."""
    lines = [str(exc)]
    if isinstance(exc, KilnAPIError) and not isinstance(exc, AuthError):
        for field, messages in exc.errors.items():
            lines.append(f"  {field}: {'; '.join(messages)}")
    return "\n".join(lines)


def client_of(ctx: click.Context) -> Client:
    """The context's client, built on first use (so `--help` never needs a token)."""
    obj = ctx.find_root().ensure_object(dict)
    if "client" not in obj:
        token = settings.resolve_token(obj.get("token"))
        if not token:
            raise click.UsageError(settings.missing_token_hint())
        obj["client"] = Client(obj["url"], token, timeout=obj.get("timeout", 30.0))
        ctx.find_root().call_on_close(obj["client"].close)
    client: Client = obj["client"]
    return client


# -- root -----------------------------------------------------------------------------------------


@click.group(cls=KilnGroup, context_settings=CONTEXT)
@click.option(
    "--url",
    envvar="KILN_URL",
    default=settings.default_url,
    show_default="http://127.0.0.1:$PORT, PORT default 8000",
    help="The Kiln server (env KILN_URL).",
)
@click.option(
    "--token",
    envvar="KILN_TOKEN",
    help=(
        "A bearer token (env KILN_TOKEN; default KILN_ADMIN_TOKEN, then the file KILN_TOKEN_FILE, "
        "./var/admin_token unless set)."
    ),
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
@click.version_option(package_name="kiln-client", prog_name="kiln")
@click.pass_context
def cli(ctx: click.Context, url: str, token: str | None, timeout: float) -> None:
    """Kiln: closed-loop Bayesian experiment design for materials labs.

    Create campaigns, post measured results, watch for the next proposed experiments and
    compare strategies, all over Kiln's HTTP API.

    \b
    Examples:
      export KILN_URL=http://kiln.lab:8000 KILN_TOKEN=...
      kiln campaigns create --preset latp --name latp-2026
      kiln results post seed.csv --campaign latp-2026
      kiln candidates add lots.csv --campaign latp-2026
      kiln proposals watch latp-2026
      kiln benchmark latp-2026 --repeats 50
      kiln pareto latp-moo-2026
    """
    ctx.ensure_object(dict).update(url=url, token=token, timeout=timeout)
