"""The `kiln` command line: campaigns, results, candidates, proposals, Pareto
fronts, benchmarks, the demo and the Kadi4Mat bridge.

Every command talks to a Kiln server through :mod:`kiln_client.client`; the server's URL and a
token come from ``--url``/``--token`` or the environment (:mod:`kiln_client.settings`). One module
per command group; this one puts them together under the root group.
"""

from __future__ import annotations

from kiln_client.cli import campaign_update  # noqa: F401  (registers `kiln campaigns update`)
from kiln_client.cli.analysis import benchmark, model
from kiln_client.cli.campaigns import campaigns
from kiln_client.cli.candidates import candidates, candidates_list
from kiln_client.cli.demo import demo
from kiln_client.cli.kadi import kadi
from kiln_client.cli.pareto import pareto
from kiln_client.cli.proposals import proposals
from kiln_client.cli.results import results
from kiln_client.cli.root import cli

for _command in (campaigns, results, candidates, proposals, pareto, model, benchmark, demo, kadi):
    cli.add_command(_command)

__all__ = ["candidates_list", "cli", "main"]


def main() -> None:
    """Entry point of the `kiln` console script."""
    cli(prog_name="kiln")
