"""Correcting, excluding and reading a result's history from the client and the `kiln` command
(issue 15 item 7), against tests/unit/fake_kiln.py playing the contract's PATCH/GET endpoints."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from fake_kiln import FakeServer, client_with

from kiln_client.cli import cli
from kiln_client.client import KilnAPIError, StaleResult, result_etag

CID = "0123456789abcdef0123456789abcdef"
TYPO = {"from": 1e300, "to": 1.2e-3}
REVISION_1 = {
    "revision": 1,
    "at": "2026-11-30T01:00:00Z",
    "by": "alice",
    "reason": "typo",
    "changes": {"objective": TYPO},
}
EXCLUSION = {
    "revision": 2,
    "at": "2026-11-30T01:05:00Z",
    "by": "bob",
    "reason": "pellet cracked",
    "changes": {"excluded": {"from": False, "to": True}},
}


def view(*revisions: dict[str, Any], excluded: bool = False) -> dict[str, Any]:
    """A result view as the contract's GET/PATCH answer it."""
    return {
        "sample_id": "S 1/a",
        "parameters": {"temperature_c": 950},
        "objective": 1.2e-3 if revisions else 1e300,
        "measurements": {},
        "status": "ok",
        "received_at": "2026-11-30T00:00:00Z",
        "revision": len(revisions),
        "excluded": excluded,
        "revisions": list(revisions),
    }


def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    return (200, body, {"ETag": f'"{body["sample_id"]}:{body["revision"]}"'})


def sent(request: requests.PreparedRequest) -> dict[str, Any]:
    return dict(json.loads(request.body or b"{}"))


def test_a_correction_is_a_patch_with_its_reason_changes_and_a_kept_idempotency_key() -> None:
    lost = requests.ConnectionError("connection reset")
    server = FakeServer(lost, answer(view(REVISION_1)))
    client, _ = client_with(server)
    corrected = client.correct_result(CID, "S 1/a", reason="typo", objective=1.2e-3)
    assert corrected["revision"] == 1 and corrected["revisions"][0]["changes"]["objective"] == TYPO
    first, retry = server.seen
    assert first.method == "PATCH"
    # The sample id is one path segment, whatever it holds.
    assert urlsplit(first.url or "").path == f"/api/v1/campaigns/{CID}/results/S%201%2Fa"
    assert sent(first) == {"reason": "typo", "objective": 1.2e-3}
    assert "If-Match" not in first.headers
    key = first.headers["Idempotency-Key"]
    assert key and retry.headers["Idempotency-Key"] == key, "a retry applies the correction once"


def test_exclude_and_include_send_the_excluded_flag_with_the_reason() -> None:
    server = FakeServer(answer(view(EXCLUSION, excluded=True)))
    client, _ = client_with(server)
    client.exclude_result(CID, "S-1", "pellet cracked")
    client.include_result(CID, "S-1", "re-measured")
    assert [sent(r) for r in server.seen] == [
        {"reason": "pellet cracked", "excluded": True},
        {"reason": "re-measured", "excluded": False},
    ]


def test_if_match_is_sent_quoted_and_a_412_names_the_current_revision() -> None:
    stale = (
        412,
        {"title": "Precondition Failed", "status": 412, "detail": "S-1 is at revision 3"},
        {"ETag": '"S-1:3"', "Content-Type": "application/problem+json"},
    )
    server = FakeServer(stale)
    client, _ = client_with(server)
    with pytest.raises(StaleResult) as info:
        client.correct_result(CID, "S-1", reason="typo", if_match="S-1:2", objective=1.0)
    assert server.seen[0].headers["If-Match"] == '"S-1:2"'
    assert info.value.current_revision == 3 and info.value.current_etag == '"S-1:3"'
    assert "revision 3" in str(info.value) and "kiln results history" in str(info.value)
    assert isinstance(info.value, KilnAPIError) and info.value.status == 412


def test_a_412_without_an_etag_still_reads_the_revision_from_its_body() -> None:
    stale = (412, {"title": "Precondition Failed", "current_revision": 5}, {})
    client, _ = client_with(FakeServer(stale))
    with pytest.raises(StaleResult) as info:
        client.exclude_result(CID, "S-1", "why")
    assert info.value.current_revision == 5


def test_an_unknown_change_is_refused_before_anything_is_sent() -> None:
    server = FakeServer(answer(view()))
    client, _ = client_with(server)
    with pytest.raises(TypeError, match="sample_id"):
        client.correct_result(CID, "S-1", reason="rename", sample_id="S-2")
    assert server.seen == []


def test_result_reads_the_view_and_its_etag_is_the_servers() -> None:
    server = FakeServer(answer(view(REVISION_1)))
    client, _ = client_with(server)
    read = client.result(CID, "S 1/a")
    assert server.seen[0].method == "GET" and read["revisions"] == [REVISION_1]
    assert result_etag(read) == '"S 1/a:1"'


def run(server: FakeServer, *args: str) -> Any:
    client, _ = client_with(server)
    return CliRunner().invoke(cli, ["results", *args], obj={"client": client})


def test_kiln_results_correct_builds_the_patch_from_its_options() -> None:
    server = FakeServer(answer(view(REVISION_1)))
    out = run(
        server, "correct", CID, "S-1", "--reason", "furnace log", "--objective", "1.2e-3",
        "--param", "temperature_c=975", "--param", "atmosphere=air",
        "--measurement", "density=null", "--measurement", "mass_g=1.5",
        "--status", "ok", "--if-match", '"S-1:0"',
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert sent(server.seen[0]) == {
        "reason": "furnace log",
        "objective": 1.2e-3,
        "parameters": {"temperature_c": 975, "atmosphere": "air"},
        "measurements": {"density": None, "mass_g": 1.5},
        "status": "ok",
    }
    assert server.seen[0].headers["If-Match"] == '"S-1:0"'
    assert "revision 1 stored" in out.output and "objective: 1e+300 → 0.0012" in out.output


def test_kiln_results_correct_sends_objectives_by_name() -> None:
    server = FakeServer(answer(view(REVISION_1)))
    out = run(
        server, "correct", CID, "S-1", "--reason", "re-weighed",
        "--objectives", "relative_density=0.93", "--objectives", "conductivity=null",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert sent(server.seen[0]) == {
        "reason": "re-weighed",
        "objectives": {"relative_density": 0.93, "conductivity": None},
    }


def test_kiln_results_correct_sends_a_null_objective_and_refuses_an_empty_correction() -> None:
    server = FakeServer(answer(view(REVISION_1)))
    out = run(server, "correct", CID, "S-1", "--reason", "r", "--objective", "null",
              "--status", "failed")  # fmt: skip
    assert out.exit_code == 0, out.output
    assert sent(server.seen[0]) == {"reason": "r", "objective": None, "status": "failed"}
    nothing = run(FakeServer(answer(view())), "correct", CID, "S-1", "--reason", "r")
    assert nothing.exit_code == 1 and "name something to correct" in nothing.output
    bad = run(FakeServer(answer(view())), "correct", CID, "S-1", "--reason", "r", "--param", "x")
    assert bad.exit_code == 1 and "--param takes name=value" in bad.output


def test_kiln_results_exclude_by_campaign_name_and_json() -> None:
    listing = (200, {"items": [{"id": CID, "name": "latp-2026"}], "next": None}, {})
    server = FakeServer(listing, answer(view(EXCLUSION, excluded=True)))
    out = run(server, "exclude", "latp-2026", "S-1", "--reason", "pellet cracked", "--json")
    assert out.exit_code == 0, out.output
    assert urlsplit(server.seen[-1].url or "").path == f"/api/v1/campaigns/{CID}/results/S-1"
    assert sent(server.seen[-1]) == {"reason": "pellet cracked", "excluded": True}
    assert json.loads(out.output)["excluded"] is True


def test_kiln_results_include_says_the_result_trains_again() -> None:
    server = FakeServer(answer(view(EXCLUSION)))
    out = run(server, "include", CID, "S-1", "--reason", "fine after all")
    assert out.exit_code == 0, out.output
    assert sent(server.seen[0]) == {"reason": "fine after all", "excluded": False}
    assert "used for training" in out.output


def test_kiln_results_history_is_a_table_of_revisions() -> None:
    out = run(FakeServer(answer(view(REVISION_1, EXCLUSION, excluded=True))), "history", CID, "S-1")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("S 1/a: revision 2, excluded") and '"S 1/a:2"' in lines[0]
    assert lines[1].split() == ["revision", "at", "by", "reason", "changes"]
    assert "alice" in lines[3] and "objective: 1e+300 → 0.0012" in lines[3]
    assert "bob" in lines[4] and "pellet cracked" in lines[4] and "False → True" in lines[4]
    never = run(FakeServer(answer(view())), "history", CID, "S-1")
    assert "Never corrected" in never.output


def test_a_stale_correction_on_the_command_line_is_one_clear_line() -> None:
    stale = (412, {"title": "Precondition Failed", "detail": "S-1 is at revision 3"}, {})
    out = run(FakeServer(stale), "correct", CID, "S-1", "--reason", "r", "--objective", "1",
              "--if-match", '"S-1:1"')  # fmt: skip
    assert out.exit_code == 1 and "revision 3" in out.output and "Traceback" not in out.output


@pytest.mark.parametrize("command", ["correct", "exclude", "include", "history"])
def test_each_correction_command_has_an_example(command: str) -> None:
    out = CliRunner().invoke(cli, ["results", command, "--help"])
    assert out.exit_code == 0 and f"kiln results {command} latp-2026 LATP-042" in out.output
