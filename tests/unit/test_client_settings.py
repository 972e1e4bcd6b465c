"""kiln_client's settings and vocabulary: one token resolution, and the names the CLI offers.

The client distribution cannot import the domain, so it keeps its own copy of the names the API
accepts; these tests fail when that copy and the domain's single source drift apart.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kiln import ledger, pool, presets, strategy
from kiln_client import settings, vocabulary
from kiln_client.cli import cli
from kiln_services.intake import csv_columns


def test_the_vocabulary_is_the_domains() -> None:
    assert vocabulary.ACQUISITIONS == strategy.ACQUISITIONS
    assert vocabulary.PARETO_ACQUISITIONS == strategy.PARETO_ACQUISITIONS
    assert vocabulary.BATCH_METHODS == strategy.BATCH_METHODS
    assert vocabulary.MAX_BATCH_SIZE == strategy.MAX_BATCH_SIZE
    assert vocabulary.POOL_STATUSES == pool.STATUSES
    assert vocabulary.PRESETS == presets.PRESETS
    assert vocabulary.PREDICTION_FIELDS == ledger.PREDICTION_FIELDS
    assert vocabulary.PROPOSAL_COLUMNS == csv_columns.PROPOSAL_COLUMNS


def test_the_cli_offers_the_vocabulary() -> None:
    help_text = CliRunner().invoke(cli, ["proposals", "request", "--help"]).output
    assert all(name in help_text for name in vocabulary.ACQUISITIONS + vocabulary.BATCH_METHODS)
    refused = CliRunner().invoke(cli, ["proposals", "request", "c-1", "--acquisition", "xyz"])
    assert refused.exit_code == 2 and "xyz" in refused.output


def test_the_token_comes_from_the_flag_then_the_environment_then_the_file(tmp_path: Path) -> None:
    token_file = tmp_path / "admin_token"
    token_file.write_text("from-file\n")
    env = {"KILN_TOKEN_FILE": str(token_file)}
    assert settings.resolve_token(None, env) == "from-file"
    assert settings.resolve_token(None, {**env, "KILN_ADMIN_TOKEN": "admin"}) == "admin"
    assert settings.resolve_token(None, {**env, "KILN_TOKEN": "t", "KILN_ADMIN_TOKEN": "a"}) == "t"
    assert settings.resolve_token("flag", {**env, "KILN_TOKEN": "t"}) == "flag"
    assert settings.resolve_token(None, {"KILN_TOKEN_FILE": str(tmp_path / "absent")}) is None


def test_the_default_token_file_is_the_local_stacks(tmp_path: Path) -> None:
    assert settings.token_file({}) == Path("var") / "admin_token"
    assert str(settings.token_file({})) in settings.missing_token_hint({})


def test_the_default_url_is_the_local_stack_on_port() -> None:
    assert settings.default_url({}) == "http://127.0.0.1:8000"
    assert settings.default_url({"PORT": "8123"}) == "http://127.0.0.1:8123"
    assert settings.default_url({"KILN_URL": "http://kiln.lab", "PORT": "1"}) == "http://kiln.lab"


def test_the_cli_without_a_token_says_where_it_looked(tmp_path: Path) -> None:
    env = {
        "KILN_TOKEN": "",
        "KILN_ADMIN_TOKEN": "",
        "KILN_TOKEN_FILE": str(tmp_path / "absent"),
        "KILN_URL": "http://127.0.0.1:9",
    }
    result = CliRunner().invoke(cli, ["campaigns", "list"], env=env)
    assert result.exit_code == 2
    assert "no token" in result.output and "absent" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kiln(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `kiln` console script (the real entry point), in a clean environment."""
    script = Path(sys.executable).with_name("kiln")
    assert script.exists(), f"{script}: the kiln-client distribution is not installed"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KILN_") and k != "PORT"}
    return subprocess.run(
        [str(script), "--timeout", "5", *args],
        env={**clean, "KILN_TOKEN": "t", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_kiln_command_follows_port_and_kiln_url_wins(tmp_path: Path) -> None:
    port, other = _free_port(), _free_port()
    on_port = _kiln({"PORT": str(port)}, "campaigns", "list")
    assert on_port.returncode == 1
    assert f"cannot reach Kiln at http://127.0.0.1:{port} " in on_port.stderr, on_port.stderr
    both = _kiln({"PORT": str(port), "KILN_URL": f"http://127.0.0.1:{other}"}, "campaigns", "list")
    assert f"cannot reach Kiln at http://127.0.0.1:{other} " in both.stderr, both.stderr
