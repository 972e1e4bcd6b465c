"""Constraints and furnace groups in the client and the `kiln` command (issue 17): the words,
`kiln campaigns update`, and batches shown per furnace run.

The server is played by tests/unit/fake_kiln.py (every request kept and read back).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fake_kiln import FakeServer, client_with

from kiln_client.cli import cli
from kiln_client.cli.proposals import format_batch
from kiln_client.furnace_words import constraint_words, group_words, sharing_words

CID = "0123456789abcdef0123456789abcdef"
FORBIDDEN = {"kind": "forbidden", "when": {"temperature_c": {">=": 1050}, "time_min": {">": 120}}}
SHARED = {"parameters": ["temperature_c", "time_min"], "groups": 2}
PARAMETERS = [
    {"name": "acid_wt_pct", "kind": "discrete", "values": [-7.5, 0.0], "unit": "wt%"},
    {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100, "unit": "degC"},
    {"name": "time_min", "kind": "discrete", "values": [60, 120, 480], "unit": "min"},
]


def campaign(pending: int, **extra: Any) -> dict[str, Any]:
    """A campaign as the server answers it."""
    return {
        "id": CID, "name": "furnace-2026", "parameters": PARAMETERS, "space_version": 2,
        "objective": {"name": "conductivity", "unit": "S/cm", "transform": "log10"},
        "strategy": {"acquisition": "ucb", "kappa": 1.96, "batch_size": 6,
                     "batch_method": "kriging_believer"},
        "counts": {"results": 0, "proposals_pending": pending}, **extra,
    }  # fmt: skip


def test_constraints_and_sharing_in_plain_words() -> None:
    linear = {"kind": "linear", "terms": {"a": 1.0, "b": 2.0}, "op": "<=", "rhs": 10.0}
    assert constraint_words(linear) == "a + 2 b <= 10"
    mixed = {"kind": "linear", "terms": {"a": -1, "b": -0.5, "c": 1}, "op": "==", "rhs": 0.25}
    assert constraint_words(mixed) == "-a - 0.5 b + c == 0.25"
    assert constraint_words(FORBIDDEN) == "not (temperature_c >= 1050 and time_min > 120)"
    listed = {"kind": "forbidden", "when": {"atmosphere": {"in": ["air", "argon"]}}}
    assert constraint_words(listed) == "not (atmosphere in {air, argon})"
    assert sharing_words(SHARED) == (
        "Each batch is at most 2 furnace runs: the pellets of a run share temperature_c and "
        "time_min."
    )
    assert sharing_words(None) is None
    assert group_words(0, {"temperature_c": 1050.0, "time_min": 120.0}, PARAMETERS) == (
        "Furnace run 1: 1050 °C, 120 min"
    )


def test_update_patches_constraints_and_sharing_and_says_what_was_withdrawn(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "constraints.json"
    rules.write_text(json.dumps({"constraints": [FORBIDDEN]}), encoding="utf-8")
    after = campaign(3, constraints=[FORBIDDEN])
    after["strategy"]["batch_shared"] = SHARED
    server = FakeServer((200, campaign(6), {}), (200, after, {}))
    client, _ = client_with(server)
    args = ["campaigns", "update", CID, "--constraints", str(rules),
            "--shared", "temperature_c, time_min", "--groups", "2"]  # fmt: skip
    result = CliRunner().invoke(cli, args, obj={"client": client})
    assert result.exit_code == 0, result.output
    patch = server.seen[-1]
    assert patch.method == "PATCH" and (patch.url or "").endswith(f"/campaigns/{CID}")
    assert json.loads(patch.body or b"{}") == {
        "constraints": [FORBIDDEN],
        "strategy": {"batch_shared": SHARED},
    }
    assert "constraint: not (temperature_c >= 1050 and time_min > 120)" in result.output
    assert "at most 2 furnace runs" in result.output
    assert "3 pending proposals withdrawn" in result.output


def test_update_ends_constraints_and_sharing_and_refuses_half_options() -> None:
    server = FakeServer((200, campaign(0), {}))
    client, _ = client_with(server)
    args = ["campaigns", "update", CID, "--no-constraints", "--no-sharing"]
    assert CliRunner().invoke(cli, args, obj={"client": client}).exit_code == 0
    body = json.loads(server.seen[-1].body or b"{}")
    assert body == {"constraints": [], "strategy": {"batch_shared": None}}
    sent = len(server.seen)
    for bad in (["--groups", "2"], ["--shared", "time_min", "--no-sharing"], []):
        refused = CliRunner().invoke(cli, ["campaigns", "update", CID, *bad],
                                     obj={"client": client})  # fmt: skip
        assert refused.exit_code == 2, refused.output
    assert len(server.seen) == sent  # nothing sent


def test_create_from_the_furnace_preset_shows_its_constraints() -> None:
    created = campaign(0, constraints=[FORBIDDEN])
    created["strategy"]["batch_shared"] = {**SHARED, "groups": 1}
    server = FakeServer((201, created, {}))
    client, _ = client_with(server)
    args = ["campaigns", "create", "--preset", "latp-furnace", "--name", "furnace-2026"]
    result = CliRunner().invoke(cli, args, obj={"client": client})
    assert result.exit_code == 0, result.output
    assert json.loads(server.seen[0].body or b"{}") == {
        "preset": "latp-furnace",
        "name": "furnace-2026",
    }
    assert "constraint: not (temperature_c >= 1050 and time_min > 120)" in result.output
    assert "Each batch is one furnace run" in result.output


def grouped_batch() -> dict[str, Any]:
    """Two furnace runs of two pellets each, listed out of group order."""
    settings = {0: (1050.0, 120.0), 1: (975.0, 480.0)}
    proposals = [
        {"id": f"p{k}-b1", "group": g, "status": "pending", "predicted_mean": 1e-4,
         "predicted_std": 1e-5, "acquisition_value": 0.5,
         "parameters": {"acid_wt_pct": a, "temperature_c": settings[g][0],
                        "time_min": settings[g][1]}}
        for k, (g, a) in enumerate([(1, -7.5), (0, -7.5), (0, 0.0), (1, 0.0)])
    ]  # fmt: skip
    return {"batch_id": "b1", "created_at": "2026-11-30T04:00:00Z", "acquisition": "ucb",
            "batch_method": "kriging_believer", "model_version": 1, "data_version": 6,
            "space_version": 2, "proposals": proposals}  # fmt: skip


def test_a_grouped_batch_prints_one_table_per_furnace_run() -> None:
    c = campaign(4)
    c["strategy"]["batch_shared"] = SHARED
    text = format_batch(grouped_batch(), c)  # type: ignore[arg-type]
    first, second = (
        text.index("Furnace run 1: 1050 °C, 120 min · 2 pellets"),
        text.index("Furnace run 2: 975 °C, 480 min · 2 pellets"),
    )
    assert first < text.index("p1-b1") < text.index("p2-b1") < second < text.index("p0-b1")
    assert "temperature_c" not in text and "acid_wt_pct" in text  # shared: once, in the heading
    plain = format_batch({**grouped_batch(), "proposals": [
        {k: v for k, v in p.items() if k != "group"} for p in grouped_batch()["proposals"]
    ]}, campaign(4))  # type: ignore[arg-type]  # fmt: skip
    assert "Furnace run" not in plain and "temperature_c" in plain


def test_proposals_list_has_a_run_column_only_with_groups_and_says_why_withdrawn() -> None:
    items = grouped_batch()["proposals"]
    items[0] = {**items[0], "status": "withdrawn", "reason": "breaks constraints.0 (space v3)"}
    server = FakeServer((200, {"items": items, "next": None}, {}))
    client, _ = client_with(server)
    shown = CliRunner().invoke(cli, ["proposals", "list", CID], obj={"client": client}).output
    header, _rule, *rows = shown.splitlines()
    assert header.split()[:3] == ["proposal", "status", "run"]
    assert [row.split()[2] for row in rows] == ["2", "1", "1", "2"]
    assert header.endswith("why withdrawn") and rows[0].endswith("breaks constraints.0 (space v3)")
    plain = [{k: v for k, v in p.items() if k not in ("group", "reason")} for p in items]
    server = FakeServer((200, {"items": plain, "next": None}, {}))
    client, _ = client_with(server)
    shown = CliRunner().invoke(cli, ["proposals", "list", CID], obj={"client": client}).output
    assert "run" not in shown.splitlines()[0].split() and "withdrawn" not in shown.splitlines()[0]
