"""`kiln demo`: closed-loop iterations with the virtual LATP lab (the `demo` extra)."""

from __future__ import annotations

import click

from kiln_client.cli.root import client_of
from kiln_client.demo import DEMO_NAME, run_demo, virtual_lab


@click.command("demo")
@click.option(
    "--iterations", type=click.IntRange(1, 20), default=4, show_default=True, help="Loops."
)
@click.option("--name", default=DEMO_NAME, show_default=True, help="The demo campaign.")
@click.pass_context
def demo(ctx: click.Context, iterations: int, name: str) -> None:
    """Run closed-loop iterations with the virtual LATP lab.

    Creates (or continues) the demo campaign, posts the 80-sample seed grid once, then in each
    iteration waits for a batch, "synthesises" it in the virtual lab (standing in for the
    furnace) and posts the results.

    \b
    Example:
      kiln demo --iterations 2
    """
    lab = virtual_lab()
    client = client_of(ctx)
    click.echo(f"Virtual LATP instrument -> {client.base_url}")
    run_demo(client, lab, iterations=iterations, name=name, out=click.echo)
