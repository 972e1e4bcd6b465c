"""`kiln kadi import|export|sync` against a real Kadi4Mat: the campaign by name, a progress line
per sync round, a failed record reported on stderr with a non-zero exit."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.kadi import KadiServer
from support.kadi_records import MAPPING, KadiAPI, lab_extras

from kiln_client.cli import cli
from kiln_client.client import Client
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.kadi, pytest.mark.timeout(2400)]


def test_the_commands_import_export_and_sync_by_campaign_name(
    kadi: KadiServer, kadi_api: KadiAPI, kiln_stack: Stack, tmp_path: Path
) -> None:
    collection = kadi_api.collection("latp-cli")
    for i in range(3):
        kadi_api.record(collection["id"], f"cli-{i}-{secrets.token_hex(2)}", lab_extras(i))
    kadi_api.record(
        collection["id"],
        f"cli-bad-{secrets.token_hex(2)}",
        [e for e in lab_extras(5) if e["key"] != "conductivity"]
        + [{"key": "x", "type": "int", "value": 1}],
    )
    name = f"kadi-cli-{secrets.token_hex(3)}"
    with Client(kiln_stack.base_url, kiln_stack.admin_token) as kiln:
        kiln.create_campaign(preset="latp", name=name)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING))
    env = {
        "KILN_URL": kiln_stack.base_url,
        "KILN_TOKEN": kiln_stack.admin_token,
        "KADI_URL": kadi.url,
        "KADI_TOKEN": kadi.token,
    }
    common = [
        "--campaign",
        name,
        "--collection",
        collection["identifier"],
        "--mapping",
        str(mapping),
    ]
    runner = CliRunner()

    imported = runner.invoke(cli, ["kadi", "import", *common], env=env)
    assert imported.exit_code == 1, imported.output
    assert (
        "import: 3 stored, 0 corrected, 0 unchanged, 0 pending proposals, 1 failed"
        in imported.output
    )
    assert "extra 'conductivity' (objective): missing" in imported.output

    synced = runner.invoke(cli, ["kadi", "sync", *common, "--rounds", "1", "--every", "1"], env=env)
    assert synced.exit_code == 0, synced.output
    assert "round 1: import: 0 stored, 0 corrected, 3 unchanged" in synced.output
    assert "export: " in synced.output

    exported = runner.invoke(cli, ["kadi", "export", *common], env=env)
    assert exported.exit_code == 0, exported.output
    assert "export: 0 records created" in exported.output

    wrong = runner.invoke(cli, ["kadi", "import", *common], env={**env, "KADI_TOKEN": "pat_wrong"})
    assert wrong.exit_code == 1 and "refused the token" in wrong.output
