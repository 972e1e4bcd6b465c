"""The `kiln` command line against a live intake (click's runner; the stack of the e2e fixtures)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from kiln.lab import VirtualLatpLab
from kiln_client.cli import cli
from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def kiln(stack: Stack) -> Any:
    """Run `kiln ARGS...` against the live stack with its admin token; return click's Result."""

    def run(
        *args: str, ok: bool = True, url: str | None = None, token: str | None = None
    ) -> Result:
        env = {"KILN_URL": url or stack.base_url, "KILN_TOKEN": token or stack.admin_token}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return run


def seed_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    names = list(rows[0]["parameters"])
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sample_id", *names, "conductivity", "relative_density"])
        for r in rows:
            writer.writerow(
                [
                    r["sample_id"],
                    *[r["parameters"][n] for n in names],
                    r["objective"],
                    r["measurements"]["relative_density"],
                ]
            )
    return path


def exported_proposals(kiln: Any, campaign: str, path: Path) -> list[dict[str, str]]:
    """`kiln proposals export` of the campaign's latest batch to `path`, read back as rows."""
    kiln("proposals", "export", campaign, "-o", str(path))
    return list(csv.DictReader(io.StringIO(path.read_text())))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """The rows (an export, filled in) written back to `path` as CSV."""
    with path.open("w", newline="") as filled:
        writer = csv.DictWriter(filled, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def create(kiln: Any, name: str) -> str:
    out = kiln("campaigns", "create", "--preset", "latp", "--name", name, "--json")
    return str(json.loads(out.stdout)["id"])


def test_campaigns_create_list_show(kiln: Any, unique_name: str, tmp_path: Path) -> None:
    created = kiln("campaigns", "create", "--preset", "latp", "--name", unique_name)
    assert f"Created campaign {unique_name!r}" in created.stdout
    assert "acid_wt_pct" in created.stdout and "maximize conductivity" in created.stdout
    cid = created.stdout.split(": ", 1)[1].split()[0]

    listing = kiln("campaigns", "list")
    assert cid in listing.stdout and unique_name in listing.stdout
    assert any(c["id"] == cid for c in json.loads(kiln("campaigns", "list", "--json").stdout))
    shown = kiln("campaigns", "show", cid)
    assert unique_name in shown.stdout and "0 results" in shown.stdout
    assert kiln("campaigns", "show", unique_name).stdout == shown.stdout

    spec = {
        "name": f"{unique_name}-file",
        "parameters": [{"name": "x", "kind": "continuous", "low": 0, "high": 1, "step": 0.1}],
        "objective": {"name": "yield", "transform": "none"},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    from_file = kiln("campaigns", "create", "--file", str(tmp_path / "spec.json"), "--json")
    assert json.loads(from_file.stdout)["parameters"][0]["name"] == "x"


def test_results_post_csv_in_chunks_is_idempotent_and_exports(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    cid = create(kiln, unique_name)
    seed = seed_csv(tmp_path / "seed.csv", VirtualLatpLab().seed_grid())
    first = kiln("results", "post", str(seed), "--campaign", cid, "--chunk-size", "25")
    assert "Stored 80 new results, 0 already stored" in first.stdout
    assert "Posting 80 results" in first.stderr  # the progress bar's label
    # By its name this time (issue 14 item 5): the same campaign, so every row is a duplicate.
    again = kiln("results", "post", str(seed), "--campaign", unique_name, "--chunk-size", "25")
    assert f"Stored 0 new results, 80 already stored (campaign {cid})" in again.stdout

    exported = kiln("results", "export", cid)
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 80 and rows[0]["sample_id"] == "SEED-001"
    as_json = json.loads(kiln("results", "export", cid, "--format", "json").stdout)
    assert len(as_json) == 80


def test_results_post_json_and_field_errors_read_well(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    cid = create(kiln, unique_name)
    good = VirtualLatpLab().seed_grid()[:3]
    (tmp_path / "good.json").write_text(json.dumps({"results": good}))
    assert "Stored 3 new results" in kiln("results", "post", str(tmp_path / "good.json"),
                                          "--campaign", cid).stdout  # fmt: skip

    bad = [{**good[0], "sample_id": "BAD-1", "parameters": {**good[0]["parameters"],
                                                             "temperature_c": 5000}}]  # fmt: skip
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = kiln("results", "post", str(tmp_path / "bad.json"), "--campaign", cid, ok=False)
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert "HTTP 422" in refused.stderr
    assert "parameters.temperature_c" in refused.stderr or "temperature_c" in refused.stderr


def test_results_correct_exclude_include_and_history(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    """The typo scenario of issue 15 from a shell: correct, exclude, include, read the history;
    a correction over a stale ETag is refused naming the current revision."""
    cid = create(kiln, unique_name)
    seed = VirtualLatpLab().seed_grid()[:6]
    seed[2]["objective"] = 1e300
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    kiln("results", "post", str(tmp_path / "seed.json"), "--campaign", cid)
    sid = seed[2]["sample_id"]

    fixed = kiln("results", "correct", unique_name, sid, "--objective", "1.2e-3",
                 "--reason", "typo: 1e300", "--if-match", f'"{sid}:0"')  # fmt: skip
    assert f"{sid}: revision 1 stored" in fixed.stdout and "1e+300 → 0.0012" in fixed.stdout
    excluded = kiln("results", "exclude", cid, sid, "--reason", "cracked")
    assert "revision 2 stored (excluded from training)" in excluded.stdout
    again = kiln("results", "correct", cid, sid, "--objective", "1e-3", "--reason", "late",
                 "--if-match", f'"{sid}:1"', ok=False)  # fmt: skip
    assert again.exit_code == 1 and "HTTP 412" in again.stderr and "revision 2" in again.stderr
    back = json.loads(kiln("results", "include", cid, sid, "--reason", "fine", "--json").stdout)
    assert back["excluded"] is False and back["revision"] == 3

    history = kiln("results", "history", cid, sid).stdout.splitlines()
    assert history[0].startswith(f"{sid}: revision 3, included; objective 0.0012")
    assert [line.split()[0] for line in history[3:]] == ["1", "2", "3"]
    assert "typo: 1e300" in history[3] and "cracked" in history[4] and "fine" in history[5]
    as_json = json.loads(kiln("results", "history", cid, sid, "--json").stdout)
    assert [r["revision"] for r in as_json["revisions"]] == [1, 2, 3]


def test_proposals_watch_prints_a_batch_and_export_writes_csv(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    cid = create(kiln, unique_name)
    seed = seed_csv(tmp_path / "seed.csv", VirtualLatpLab().seed_grid())
    kiln("results", "post", str(seed), "--campaign", cid)

    watched = kiln("proposals", "watch", cid, "--count", "1", "--wait", "30")
    assert "proposals, ucb/kriging_believer" in watched.stdout
    assert "acid_wt_pct" in watched.stdout and "pending" in watched.stdout

    batch = json.loads(kiln("proposals", "watch", cid, "--json", "--count", "1").stdout)
    assert len(batch["proposals"]) == 6
    for proposal in batch["proposals"]:  # whole ids: reporting a result needs them
        assert proposal["id"] in watched.stdout
    model = kiln("model", cid).stdout
    assert "length scales: acid_wt_pct" in model and "best observed:" in model

    out = tmp_path / "next.csv"
    rows = exported_proposals(kiln, cid, out)
    assert [r["proposal_id"] for r in rows] == [p["id"] for p in batch["proposals"]]
    assert {"acid_wt_pct", "temperature_c", "time_min", "conductivity"} <= set(rows[0])
    exported = json.loads(kiln("proposals", "export", cid, "--format", "json").stdout)
    assert exported["batch_id"] == batch["batch_id"]

    withdrawn = kiln("proposals", "withdraw", cid, batch["proposals"][0]["id"])
    assert "withdrawn" in withdrawn.stdout
    pending = json.loads(kiln("proposals", "export", cid, "--format", "json", "--pending").stdout)
    assert len(pending["proposals"]) == 5
    ledger = kiln("proposals", "list", cid)
    assert "withdrawn" in ledger.stdout and ledger.stdout.count("pending") >= 5
    # whole ids, as a result must name them (issue 14 item 4)
    assert all(p["id"] in ledger.stdout for p in batch["proposals"])
    in_flight = json.loads(kiln("proposals", "list", cid, "--pending", "--json").stdout)
    assert {p["status"] for p in in_flight} == {"pending"}


def test_a_filled_in_proposals_export_posts_back(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    cid = create(kiln, unique_name)
    kiln("results", "post", str(seed_csv(tmp_path / "seed.csv", VirtualLatpLab().seed_grid())),
         "--campaign", cid)  # fmt: skip
    batch = json.loads(kiln("proposals", "watch", cid, "--json", "--count", "1").stdout)
    out = tmp_path / "next.csv"
    rows = exported_proposals(kiln, cid, out)
    assert rows[0]["status"] == "pending" and rows[0]["predicted_mean"]
    rows[0]["conductivity"], rows[1]["conductivity"] = "5e-4", "7e-4"  # the lab's measurements
    rows[1]["sample_id"], rows[1]["conductivity_sd"] = "LATP-B1", "5e-5"
    write_rows(out, rows)

    posted = kiln("results", "post", str(out), "--campaign", cid)
    assert "Stored 2 new results, 0 already stored, 4 rows not filled in skipped" in posted.stdout
    stored = json.loads(kiln("results", "export", cid, "--format", "json").stdout)[-2:]
    ids = [p["id"] for p in batch["proposals"]]
    assert [(r["sample_id"], r["proposal_id"]) for r in stored] == [
        (ids[0], ids[0]),  # no sample_id written: the proposal's id serves
        ("LATP-B1", ids[1]),
    ]
    assert stored[1]["objective_sd"] == 5e-5
    assert all("predicted_mean" not in r.get("measurements", {}) for r in stored)
    ledger = {
        p["id"]: p["status"] for p in json.loads(kiln("proposals", "list", cid, "--json").stdout)
    }
    assert [ledger[pid] for pid in ids] == ["measured", "measured"] + ["pending"] * 4


def test_candidates_add_list_remove(kiln: Any, unique_name: str, tmp_path: Path) -> None:
    spec = {
        "name": unique_name,
        "parameters": [
            {"name": "x", "kind": "continuous", "low": 0, "high": 10},
            {"name": "lot", "kind": "categorical", "values": ["A", "B"]},
        ],
        "objective": {"name": "yield", "transform": "none"},
        "strategy": {"batch_size": 2, "auto_batch": False},
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    cid = json.loads(kiln("campaigns", "create", "--file", str(tmp_path / "spec.json"),
                          "--json").stdout)["id"]  # fmt: skip

    (tmp_path / "lots.csv").write_text("x,lot\n1.5,A\n2.5,B\n7.25,A\n")
    added = kiln("candidates", "add", str(tmp_path / "lots.csv"), "--campaign", cid)
    assert "Added 3 candidates (ids 0-2); the pool holds 3 rows, space v2" in added.stdout
    (tmp_path / "more.json").write_text(json.dumps({"candidates": [{"x": 9.0, "lot": "B"}]}))
    more = kiln("candidates", "add", str(tmp_path / "more.json"), "--campaign", cid)
    assert "Added 1 candidate (id 3); the pool holds 4 rows, space v3" in more.stdout

    # A bad row refuses the whole file and the error names its line and column.
    (tmp_path / "bad.csv").write_text("x,lot\n4.0,A\n12.0,B\n")
    refused = kiln("candidates", "add", str(tmp_path / "bad.csv"), "--campaign", cid, ok=False)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "HTTP 422" in refused.stderr and "row.3.x" in refused.stderr
    dup = kiln("candidates", "add", str(tmp_path / "lots.csv"), "--campaign", cid, ok=False)
    assert dup.exit_code == 1 and "duplicates" in dup.stderr

    listing = kiln("candidates", "list", "--campaign", cid)
    assert "4 candidates: 4 open" in listing.stdout and "7.25" in listing.stdout

    # Proposals come from the pool; a removed row's pending proposal is withdrawn.
    kiln("proposals", "request", cid, "--batch-size", "2")
    pending = json.loads(kiln("candidates", "list", "--campaign", cid, "--status", "pending",
                              "--json").stdout)  # fmt: skip
    assert len(pending) == 2
    target = pending[0]["id"]
    removed = kiln(
        "candidates", "remove", str(target), "--campaign", cid, "--reason", "lot used up"
    )
    assert f"Removed 1 candidate ({target}); withdrew 1 pending proposal;" in removed.stdout
    again = kiln("candidates", "remove", str(target), "--campaign", cid, "--reason", "again")
    assert f"Removed 0 candidates; 1 removed already ({target})" in again.stdout
    gone = json.loads(kiln("candidates", "list", "--campaign", cid, "--status", "removed",
                           "--json").stdout)  # fmt: skip
    assert [(c["id"], c["reason"]) for c in gone] == [(target, "lot used up")]
    unknown = kiln("candidates", "remove", "99", "--campaign", cid, "--reason", "x", ok=False)
    assert unknown.exit_code == 1 and "no candidate 99" in unknown.stderr


def test_benchmark_shows_the_table(kiln: Any, unique_name: str, tmp_path: Path) -> None:
    cid = create(kiln, unique_name)
    seed = seed_csv(tmp_path / "seed.csv", VirtualLatpLab().seed_grid()[:30])
    kiln("results", "post", str(seed), "--campaign", cid)
    result = kiln(
        "benchmark", cid, "--strategy", "ucb", "--strategy", "random",
        "--n-init", "5", "--repeats", "2", "--max-wait", "300",
    )  # fmt: skip
    assert "Virtual experiments on 30 results" in result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("ucb") for line in lines)
    assert any(line.startswith("random") for line in lines)
    assert "n=5" in result.stdout


def test_unreachable_server_and_bad_token_are_one_friendly_line(kiln: Any) -> None:
    dead = kiln("campaigns", "list", ok=False, url=f"http://127.0.0.1:{free_port()}")
    assert dead.exit_code == 1
    assert "cannot reach Kiln" in dead.stderr and "Traceback" not in dead.output

    refused = kiln("campaigns", "list", ok=False, token="not-a-token")
    assert refused.exit_code == 1
    assert "HTTP 401" in refused.stderr and "KILN_TOKEN" in refused.stderr

    missing = kiln("campaigns", "show", "0" * 32, ok=False)  # an id no campaign has
    assert missing.exit_code == 1 and "HTTP 404" in missing.stderr
    unnamed = kiln("campaigns", "show", "no-such-campaign", ok=False)  # a name no campaign has
    assert unnamed.exit_code == 1 and "no campaign is named 'no-such-campaign'" in unnamed.stderr
    assert "Traceback" not in unnamed.output


def test_every_command_has_readable_help() -> None:
    runner = CliRunner()
    commands = [
        [], ["campaigns"], ["campaigns", "create"], ["campaigns", "list"], ["campaigns", "show"],
        ["results"], ["results", "post"], ["results", "export"], ["proposals"],
        ["candidates"], ["candidates", "add"], ["candidates", "list"], ["candidates", "remove"],
        ["proposals", "watch"], ["proposals", "export"], ["proposals", "request"],
        ["proposals", "list"],
        ["proposals", "withdraw"], ["model"], ["benchmark"], ["demo"],
    ]  # fmt: skip
    for words in commands:
        result = runner.invoke(cli, [*words, "--help"], env={"KILN_TOKEN": ""})
        assert result.exit_code == 0, (words, result.output)
        assert result.output.startswith("Usage: "), words
        summary = result.output.split("\n\n")[1].strip()
        assert summary and summary[0].isupper(), (words, summary)
    top = runner.invoke(cli, ["--help"]).output
    assert "KILN_URL" in top and "KILN_TOKEN" in top and "Examples:" in top


def test_demo_runs_the_virtual_lab_loop(kiln: Any, unique_name: str) -> None:
    out = kiln("demo", "--iterations", "1", "--name", unique_name).stdout
    assert f"Created campaign {unique_name!r}" in out
    assert "Seed grid: 80 new results posted" in out and "Iteration 1: 6 proposals" in out
    again = kiln("demo", "--iterations", "1", "--name", unique_name).stdout
    assert "Continuing campaign" in again and "Iteration 2" in again


def test_a_multi_objective_campaign_from_the_command_line(
    kiln: Any, unique_name: str, tmp_path: Path
) -> None:
    """latp-moo (issue 16): results with a column per objective (an empty cell: not measured),
    a batch predicting each objective, its export filled in and posted back, `kiln pareto`."""
    out = kiln("campaigns", "create", "--preset", "latp-moo", "--name", unique_name, "--json")
    created = json.loads(out.stdout)
    assert [o["name"] for o in created["objectives"]] == ["conductivity", "relative_density"]
    seed = VirtualLatpLab().seed_grid()[::5]  # 16 of the 80 points
    path = seed_csv(tmp_path / "seed.csv", seed)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ","  # the first sample's density was not measured
    path.write_text("\n".join(lines) + "\n")
    posted = kiln("results", "post", str(path), "--campaign", unique_name)
    assert f"Stored {len(seed)} new results" in posted.stdout
    stored = json.loads(kiln("results", "export", unique_name, "--format", "json").stdout)
    assert stored[0]["objectives"] == {"conductivity": pytest.approx(seed[0]["objective"])}
    assert set(stored[1]["objectives"]) == {"conductivity", "relative_density"}
    history = kiln("results", "history", unique_name, stored[1]["sample_id"]).stdout
    assert "conductivity " in history and "relative_density " in history

    watched = kiln("proposals", "watch", unique_name, "--count", "1", "--wait", "30").stdout
    assert "conductivity S/cm (±1 std)" in watched and "relative_density 1 (±1 std)" in watched
    batch = json.loads(kiln("proposals", "watch", unique_name, "--json", "--count", "1").stdout)
    for proposal in batch["proposals"]:
        assert set(proposal["predicted"]) == {"conductivity", "relative_density"}
    shown = kiln("campaigns", "show", unique_name).stdout
    assert "maximize relative_density (1): transform none, threshold 0.9" in shown

    next_csv = tmp_path / "next.csv"
    rows = exported_proposals(kiln, unique_name, next_csv)
    assert rows[0]["conductivity"] == "" and rows[0]["relative_density"] == ""
    rows[0]["conductivity"], rows[0]["relative_density"] = "2e-3", "0.99"  # a new best of both
    write_rows(next_csv, rows)
    posted = kiln("results", "post", str(next_csv), "--campaign", unique_name)
    assert "Stored 1 new result, 0 already stored, 5 rows not filled in skipped" in posted.stdout

    report = json.loads(kiln("pareto", unique_name, "--json").stdout)
    assert report["n_results"] == len(seed) + 1
    assert [p["sample_id"] for p in report["front"]] == [batch["proposals"][0]["id"]]
    text = kiln("pareto", unique_name).stdout
    assert "Front (1 result):" in text and batch["proposals"][0]["id"] in text
    assert f"Hypervolume: {report['hypervolume']:.4g}" in text
