"""A multi-objective campaign closed over HTTP (issue 16): the latp-moo preset, virtual-lab
results posted with "objectives", a batch predicting every objective, and GET /pareto."""

from __future__ import annotations

import pytest

from kiln.lab import VirtualLatpLab
from kiln_client.client import Client
from kiln_client.demo import measure, objective_names, run_demo, seed_grid, wait_for_batch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_latp_moo_campaign_proposes_for_both_objectives(client: Client, unique_name: str) -> None:
    lab = VirtualLatpLab(seed=7)
    campaign = client.create_campaign({"preset": "latp-moo", "name": unique_name})
    cid = campaign["id"]
    names = objective_names(campaign)
    assert names == ["conductivity", "relative_density"]
    assert campaign["strategy"]["acquisition"] == "ehvi"

    seeds = seed_grid(lab, names)[::4]  # 20 of the 80 seed points, across the grid
    assert all(set(r["objectives"]) == set(names) for r in seeds)
    client.post_results(cid, seeds)

    first, _ = wait_for_batch(client, cid, min_data_version=len(seeds), wait=30, timeout=240)
    assert first["acquisition"] == "ehvi" and first["fallback"] is None
    assert len(first["proposals"]) == campaign["strategy"]["batch_size"]
    for proposal in first["proposals"]:
        assert set(proposal["predicted"]) == set(names)
        assert proposal["predicted"]["conductivity"]["mean"] > 0
        assert proposal["predicted"]["relative_density"]["std"] >= 0
        assert proposal["predicted_mean"] is None

    measured = measure(lab, first, iteration=1, seed=7, objectives=names)
    answer = client.post_results(cid, measured)
    second, _ = wait_for_batch(
        client, cid, min_data_version=answer["data_version"], wait=30, timeout=240
    )
    assert second["batch_id"] != first["batch_id"]

    model = client.get_json(f"/campaigns/{cid}/model")
    assert [o["name"] for o in model["summary"]["objectives"]] == names

    report = client.get_json(f"/campaigns/{cid}/pareto")
    assert report["n_results"] == len(seeds) + len(measured)
    assert report["hypervolume"] > 0 and report["front"]
    assert report["reference_point"] == {"conductivity": 1e-4, "relative_density": 0.9}
    assert report["history"][-1]["hypervolume"] == pytest.approx(report["hypervolume"])


def test_the_moo_demo_drives_the_lab_and_prints_the_front(client: Client, unique_name: str) -> None:
    lines: list[str] = []
    report = run_demo(
        client, VirtualLatpLab(seed=3), iterations=1, name=unique_name, preset="latp-moo",
        out=lines.append,
    )  # fmt: skip
    assert len(report) == 1 and len(report[0].results) == 6
    assert all(
        set(r["objectives"]) == {"conductivity", "relative_density"} for r in report[0].results
    )
    assert "Pareto front:" in lines[-1] and "hypervolume none yet" not in lines[-1]
    assert "relative_density pred/meas" in "\n".join(lines)
