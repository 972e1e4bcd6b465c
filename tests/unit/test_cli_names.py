"""A campaign by its name, wherever the client or the `kiln` command takes one (issue 14 item 5).

The server is played by tests/unit/fake_kiln.py; the CLI runs with click's CliRunner on a client
given through the context object, so each request the command sent can be read back.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click
import pytest
from click.testing import CliRunner
from fake_kiln import FakeServer, client_with

from kiln_client.cli import cli
from kiln_client.cli.options import resolve_campaign
from kiln_client.client import AmbiguousCampaign, UnknownCampaign

LATP = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
OLD = "00000000000000000000000000000001"


def listing(*campaigns: tuple[str, str]) -> tuple[int, dict[str, object], dict[str, str]]:
    """A campaigns page as the server answers it (it may or may not have applied ?name=)."""
    items = [{"id": cid, "name": name} for cid, name in campaigns]
    return (200, {"items": items, "next": None}, {})


def test_an_id_is_used_as_is_without_a_request() -> None:
    server = FakeServer(listing())
    client, _ = client_with(server)
    assert client.campaign_id(LATP) == LATP
    assert server.seen == []


def test_a_name_asks_for_the_name_filter_and_still_filters_the_answer() -> None:
    server = FakeServer(listing((OTHER, "latp-2025"), (LATP, "latp-2026")))  # filter ignored
    client, _ = client_with(server)
    assert client.campaign_id("latp-2026") == LATP
    query = parse_qs(urlsplit(server.seen[0].url or "").query)
    assert query["name"] == ["latp-2026"]


def test_an_unknown_name_is_named_with_the_close_ones() -> None:
    server = FakeServer(listing(), listing((OTHER, "latp-2025"), (LATP, "nasicon")))
    client, _ = client_with(server)
    with pytest.raises(UnknownCampaign) as info:
        client.campaign_id("latp-2026")
    assert "'latp-2026'" in str(info.value) and "latp-2025" in str(info.value)
    assert "nasicon" not in str(info.value)


def test_a_name_two_campaigns_have_lists_their_ids() -> None:
    server = FakeServer(listing((OLD, "latp-bench-3"), (LATP, "latp-bench-3")))
    client, _ = client_with(server)
    with pytest.raises(AmbiguousCampaign) as info:
        client.campaign_id("latp-bench-3")
    assert OLD in str(info.value) and LATP in str(info.value)


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            out.extend(commands(command, f"{prefix}{name} "))
        else:
            out.append((f"{prefix}{name}", command))
    return out


def test_every_command_that_takes_a_campaign_resolves_names_the_same_way() -> None:
    taking = {
        path: param
        for path, command in commands(cli)
        for param in command.params
        if param.name == "campaign_id"
    }
    assert len(taking) >= 13, sorted(taking)
    for path, param in taking.items():
        assert param.callback is resolve_campaign, path


def test_results_post_takes_the_campaigns_name(tmp_path: Path) -> None:
    csv = tmp_path / "results.csv"
    csv.write_text("sample_id,temperature_c,conductivity\nS-1,900,1e-4\n", encoding="utf-8")
    posted = (201, {"stored": 1, "duplicates": 0, "flags": []}, {})
    server = FakeServer(listing((LATP, "latp-2026")), posted)
    client, _ = client_with(server)
    result = CliRunner().invoke(
        cli,
        ["results", "post", str(csv), "--campaign", "latp-2026"],
        obj={"client": client},
    )
    assert result.exit_code == 0, result.output
    assert server.seen[-1].method == "POST"
    assert urlsplit(server.seen[-1].url or "").path == f"/api/v1/campaigns/{LATP}/results"
    assert "Posting 1 result" in result.stderr and "Posting 1 results" not in result.stderr
    assert f"Stored 1 new result, 0 already stored (campaign {LATP})." in result.stdout


def test_an_unknown_name_is_one_line_that_names_it() -> None:
    server = FakeServer(listing(), listing((OTHER, "latp-2025")))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["proposals", "list", "latp-2026"], obj={"client": client})
    assert result.exit_code == 1
    assert "no campaign is named 'latp-2026'" in result.output
    assert "latp-2025" in result.output and "Traceback" not in result.output
