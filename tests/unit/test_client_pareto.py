"""The client and `kiln pareto` for a multi-objective campaign (issue 16): the report read by
name or id, printed with derived reference coordinates marked; proposals with a prediction per
objective; a proposals CSV with a column per objective. The server is tests/unit/fake_kiln.py."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any
from urllib.parse import urlsplit

from click.testing import CliRunner
from fake_kiln import FakeServer, client_with

from kiln_client.cli import cli
from kiln_client.cli.pareto import HISTORY_ROWS, format_pareto
from kiln_client.cli.proposals import format_batch
from kiln_client.csvtext import proposals_csv

MOO = "0123456789abcdef0123456789abcdef"
OBJECTIVES = [
    {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10",
     "threshold": 1e-4},
    {"name": "relative_density", "unit": "1", "goal": "maximize", "transform": "none",
     "threshold": None},
]  # fmt: skip
CAMPAIGN = {"id": MOO, "name": "latp-moo-2026", "objectives": OBJECTIVES}


def report(history: int = 3) -> dict[str, Any]:
    """A /pareto answer as the contract shapes it: the density coordinate derived."""
    return {
        "objectives": OBJECTIVES,
        "reference_point": {"conductivity": 1e-4, "relative_density": 0.8125},
        "reference_point_derived": {"conductivity": False, "relative_density": True},
        "front": [
            {
                "sample_id": "S-7",
                "parameters": {"temperature_c": 950, "time_min": 60},
                "objectives": {"conductivity": 2.5e-4, "relative_density": 0.97},
            },
            {
                "sample_id": "S-3",
                "parameters": {"temperature_c": 1050, "time_min": 120},
                "objectives": {"conductivity": 1.2e-3, "relative_density": 0.91},
            },
        ],
        "hypervolume": 0.1234567,
        "n_results": 12,
        "history": [
            {"data_version": v, "n_results": v, "hypervolume": 0.01 * v}
            for v in range(1, history + 1)
        ],
        "outcome_constraints": [{"name": "relative_density", "op": ">=", "value": 0.9}],
    }


def listing() -> tuple[int, dict[str, Any], dict[str, str]]:
    return (200, {"items": [{"id": MOO, "name": "latp-moo-2026"}], "next": None}, {})


def test_the_client_reads_the_pareto_report() -> None:
    server = FakeServer((200, report(), {}))
    client, _ = client_with(server)
    assert client.pareto(MOO)["hypervolume"] == report()["hypervolume"]
    assert urlsplit(server.seen[0].url or "").path == f"/api/v1/campaigns/{MOO}/pareto"


def test_kiln_pareto_by_name_prints_reference_front_and_history() -> None:
    server = FakeServer(listing(), (200, report(), {}))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["pareto", "latp-moo-2026"], obj={"client": client})
    assert result.exit_code == 0, result.output
    assert urlsplit(server.seen[-1].url or "").path == f"/api/v1/campaigns/{MOO}/pareto"
    out = result.stdout
    assert "maximize conductivity (S/cm): transform log10, threshold 1.000e-04" in out
    # The derived coordinate is marked, the threshold's is not.
    assert "Reference point: conductivity 1.000e-04, relative_density 0.8125*" in out
    assert "derived from the data" in out
    assert "Hypervolume: 0.1235 (log10 S/cm × 1, on the model scale)" in out
    assert "Outcome constraints: relative_density >= 0.9" in out
    front = out.split("Front (2 results):\n")[1].split("\n\n")[0].splitlines()
    assert front[0].split() == [
        "sample", "conductivity", "(S/cm)", "relative_density", "(1)", "temperature_c", "time_min"
    ]  # fmt: skip
    # Best conductivity first; a log10 objective in scientific notation.
    assert front[2].split() == ["S-3", "1.200e-03", "0.91", "1050", "120"]
    assert front[3].split() == ["S-7", "2.500e-04", "0.97", "950", "60"]
    history = out.split("Hypervolume history:\n")[1].splitlines()
    assert [line.split() for line in history[2:]] == [
        ["1", "1", "0.01"], ["2", "2", "0.02"], ["3", "3", "0.03"]
    ]  # fmt: skip


def test_kiln_pareto_json_is_the_report_and_a_long_history_is_cut() -> None:
    server = FakeServer((200, report(history=HISTORY_ROWS + 5), {}))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["pareto", MOO, "--json"], obj={"client": client})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == report(history=HISTORY_ROWS + 5)
    text = format_pareto(report(history=HISTORY_ROWS + 5), MOO)
    assert f"the newest {HISTORY_ROWS} of {HISTORY_ROWS + 5} rows" in text
    assert "\n1  1  0.01" not in text.replace("   ", "  ")


def test_kiln_pareto_of_a_single_objective_campaign_says_why_in_one_line() -> None:
    problem = {
        "type": "about:blank", "title": "Conflict", "status": 409,
        "detail": "campaign has one objective; /pareto needs 2-4", "errors": {},
    }  # fmt: skip
    server = FakeServer((409, problem, {"Content-Type": "application/problem+json"}))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["pareto", MOO], obj={"client": client})
    assert result.exit_code == 1
    assert "campaign has one objective" in result.output and "Traceback" not in result.output


def test_the_history_keeps_the_rows_where_the_hypervolume_changed() -> None:
    volumes = [0.0, 0.0, 0.0, 0.5, 0.5, 0.7, 0.7]
    history = [
        {"data_version": v, "n_results": v, "hypervolume": h}
        for v, h in enumerate(volumes, start=1)
    ]
    text = format_pareto({**report(), "history": history}, MOO)
    rows = text.split("Hypervolume history (where it changed):\n")[1].splitlines()[2:]
    assert [row.split()[:2] for row in rows] == [["1", "1"], ["4", "4"], ["6", "6"], ["7", "7"]]


def test_an_empty_front_and_no_history_read_as_such() -> None:
    text = format_pareto({**report(), "front": [], "history": [], "hypervolume": 0.0}, MOO)
    assert "Front: empty" in text and "Hypervolume history: none yet." in text


def moo_batch() -> dict[str, Any]:
    s = 0.5  # model-scale std of log10(conductivity): the stored std is ln(10) * mean * s
    return {
        "batch_id": "b" * 32,
        "acquisition": "ehvi",
        "batch_method": "kriging_believer",
        "proposals": [
            {
                "id": "p-0",
                "parameters": {"temperature_c": 1000.0},
                "predicted_mean": None,
                "predicted_std": None,
                "predicted": {
                    "conductivity": {"mean": 1e-3, "std": math.log(10) * 1e-3 * s},
                    "relative_density": {"mean": 0.95, "std": 0.02},
                },
                "acquisition_value": 0.25,
                "status": "pending",
            }
        ],
    }


def test_a_batch_shows_a_prediction_per_objective() -> None:
    text = format_batch(moo_batch(), CAMPAIGN)  # type: ignore[arg-type]
    lines = text.strip().splitlines()
    assert "conductivity S/cm (±1 std)" in lines[1] and "relative_density 1 (±1 std)" in lines[1]
    assert "3.2e-04 – 3.2e-03" in lines[3]  # 10**(-3 ± 0.5)
    assert "0.95 ± 0.02" in lines[3]


def test_proposals_list_shows_each_objectives_predicted_mean() -> None:
    page = (200, {"items": moo_batch()["proposals"], "next": None}, {})
    server = FakeServer(page)
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["proposals", "list", MOO], obj={"client": client})
    assert result.exit_code == 0, result.output
    assert "conductivity 1.000e-03, relative_density 9.500e-01" in result.stdout


def test_a_proposals_csv_has_a_column_per_objective_to_fill_in() -> None:
    rows = list(csv.DictReader(io.StringIO(proposals_csv(CAMPAIGN, moo_batch()["proposals"]))))
    assert rows[0]["conductivity"] == "" and rows[0]["relative_density"] == ""
    assert "conductivity_sd" not in rows[0] and "objective" not in rows[0]
    assert rows[0]["proposal_id"] == "p-0" and rows[0]["temperature_c"] == "1000.0"


def test_campaigns_show_names_each_objective_and_points_to_kiln_pareto() -> None:
    shown = {
        **CAMPAIGN,
        "parameters": [],
        "measurements": [{"name": "phase_purity", "unit": "1"}],
        "outcome_constraints": [{"name": "relative_density", "op": ">=", "value": 0.95}],
        "counts": {"results": 3},
    }
    server = FakeServer((200, shown, {}))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["campaigns", "show", MOO], obj={"client": client})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "maximize conductivity (S/cm): transform log10, threshold 1.000e-04" in out
    assert "maximize relative_density (1): transform none" in out
    assert "measurements: phase_purity (1)" in out
    assert "outcome constraints: relative_density >= 0.95" in out
    assert f"kiln pareto {MOO}" in out and "None" not in out
    assert len(server.seen) == 1  # no model summary asked: its best is one objective's


def test_kiln_model_prints_one_block_per_objective() -> None:
    fit = {
        "kernel": "Matern",
        "n_observations": 12,
        "hyperparameters": {"length_scales": {"t": 0.5}},
    }
    info = {
        "model_version": 3,
        "data_version": 12,
        "space_version": 1,
        "fitted_at": "2026-11-30T01:00:00Z",
        "summary": {
            "objectives": [
                {"name": "conductivity", **fit, "best_observed": {"objective": 1.2e-3}},
                {"name": "relative_density", **fit, "best_observed": {"objective": 0.97}},
            ]
        },
    }
    server = FakeServer((200, info, {}))
    client, _ = client_with(server)
    result = CliRunner().invoke(cli, ["model", MOO], obj={"client": client})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "  conductivity:" and "    kernel: Matern" in lines
    assert "    best observed: 1.200e-03 at " in lines
    assert "  relative_density:" in lines and "    best observed: 9.700e-01 at " in lines


def test_outcome_constraints_add_the_probability_of_meeting_them() -> None:
    batch = moo_batch()
    batch["proposals"][0]["probability_feasible"] = 0.8734
    constrained = {**CAMPAIGN, "outcome_constraints": [{"name": "relative_density", "op": ">=",
                                                        "value": 0.95}]}  # fmt: skip
    lines = format_batch(batch, constrained).strip().splitlines()  # type: ignore[arg-type]
    assert "P(meets constraints)" in lines[1] and "0.87" in lines[3]
    assert "P(meets constraints)" not in format_batch(batch, CAMPAIGN)  # type: ignore[arg-type]


def test_a_batch_in_furnace_runs_has_a_prediction_column_per_objective_in_each_run() -> None:
    proposals = []
    for group, temperature in enumerate((950.0, 1050.0)):
        for k in range(2):
            p = {**moo_batch()["proposals"][0], "id": f"p-{group}-{k}", "group": group}
            p["parameters"] = {"temperature_c": temperature, "acid_wt_pct": float(k)}
            proposals.append(p)
    campaign = {
        **CAMPAIGN,
        "parameters": [{"name": "temperature_c", "unit": "degC"}, {"name": "acid_wt_pct"}],
        "strategy": {"batch_shared": {"parameters": ["temperature_c"], "groups": 2}},
    }
    text = format_batch({**moo_batch(), "proposals": proposals}, campaign)  # type: ignore[arg-type]
    headings = [line for line in text.splitlines() if "(±1 std)" in line]
    assert len(headings) == 2, text
    for heading in headings:
        assert "conductivity S/cm (±1 std)" in heading and "relative_density 1 (±1 std)" in heading
        assert "temperature_c" not in heading
    assert "950" in text and "1050" in text  # once each, in the runs' lines
