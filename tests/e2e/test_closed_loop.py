"""Two closed-loop iterations over HTTP: seed grid in, batch out, measure, next batch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kiln.lab import VirtualLatpLab
from kiln_client.client import Client
from kiln_client.demo import measure, wait_for_batch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def on_its_steps(parameter: dict[str, Any], value: Any) -> bool:
    """True if `value` is an allowed candidate of the parameter in the current space version."""
    kind = parameter["kind"]
    if kind in ("discrete", "categorical"):
        return value in parameter["values"]
    if not parameter["low"] - 1e-9 <= value <= parameter["high"] + 1e-9:
        return False
    step = parameter.get("step")
    if not step:
        return True
    k = (value - parameter["low"]) / step
    return math.isclose(k, round(k), abs_tol=1e-6)


def assert_valid_batch(campaign: dict[str, Any], batch: dict[str, Any], size: int) -> None:
    proposals = batch["proposals"]
    assert len(proposals) == size
    space = {p["name"]: p for p in campaign["parameters"]}
    for proposal in proposals:
        assert set(proposal["parameters"]) == set(space)
        for name, value in proposal["parameters"].items():
            assert on_its_steps(space[name], value), f"{name}={value} is off the space"
        assert proposal["predicted_std"] is None or proposal["predicted_std"] >= 0
        assert proposal["status"] == "pending"
    points = {tuple(sorted(p["parameters"].items())) for p in proposals}
    assert len(points) == len(proposals), "a batch proposed the same experiment twice"
    assert len({p["id"] for p in proposals}) == len(proposals)


def test_two_closed_loop_iterations(client: Client, unique_name: str) -> None:
    lab = VirtualLatpLab(seed=7)
    campaign = client.create_campaign({"preset": "latp", "name": unique_name})
    cid = campaign["id"]
    batch_size = campaign["strategy"]["batch_size"]
    assert batch_size == 6

    seed = lab.seed_grid()
    client.post_results(cid, seed)
    assert len(client.list_results(cid)) == 80

    first, _ = wait_for_batch(client, cid, min_data_version=80, wait=30, timeout=180)
    assert first["data_version"] == 80
    assert_valid_batch(campaign, first, batch_size)

    measured = measure(lab, first, iteration=1, seed=7)
    client.post_results(cid, measured)
    assert len(client.list_results(cid)) == 86

    second, _ = wait_for_batch(client, cid, min_data_version=86, wait=30, timeout=180)
    assert second["batch_id"] != first["batch_id"]
    assert second["data_version"] == 86
    assert second["model_version"] > first["model_version"]
    assert_valid_batch(campaign, second, batch_size)
    first_points = {tuple(sorted(p["parameters"].items())) for p in first["proposals"]}
    assert not first_points & {tuple(sorted(p["parameters"].items())) for p in second["proposals"]}

    # The first batch's proposals are no longer in flight: results named them.
    stored = {r["sample_id"]: r for r in client.list_results(cid)}
    for result in measured:
        assert stored[result["sample_id"]]["proposal_id"] == result["proposal_id"]


def test_a_pool_campaign_proposes_only_its_open_rows(client: Client, unique_name: str) -> None:
    lab = VirtualLatpLab(seed=3)
    rng = np.random.default_rng(3)
    rows = [
        {"acid_wt_pct": round(float(a), 2), "temperature_c": round(float(t), 1),
         "time_min": int(m)}
        for a, t, m in zip(rng.uniform(-22.5, 7.5, 60), rng.uniform(800, 1100, 60),
                           rng.choice([10, 30, 60, 120, 240, 480, 540], 60), strict=True)
    ]  # fmt: skip
    definition = {
        "name": unique_name,
        "parameters": [
            {"name": "acid_wt_pct", "kind": "continuous", "low": -22.5, "high": 7.5},
            {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100},
            {"name": "time_min", "kind": "discrete", "values": [10, 30, 60, 120, 240, 480, 540]},
        ],
        "objective": {"name": "conductivity", "unit": "S/cm"},
        "strategy": {"batch_size": 4},
        "candidates": rows,
    }
    cid = client.create_campaign(definition)["id"]
    seed_rows = rows[:8]
    client.post_results(
        cid,
        [
            {"sample_id": f"P-{i}", "parameters": r,
             "objective": float(lab.measure(r, rng)["objective"])}
            for i, r in enumerate(seed_rows)
        ],
    )  # fmt: skip
    used = set(range(8))
    for iteration in (1, 2):
        batch, _ = wait_for_batch(client, cid, min_data_version=8 + 4 * (iteration - 1),
                                  wait=30, timeout=180)  # fmt: skip
        ids = [p["candidate"] for p in batch["proposals"]]
        assert len(ids) == 4 and len(set(ids)) == 4 and not set(ids) & used
        assert all(p["parameters"] == rows[p["candidate"]] for p in batch["proposals"])
        used |= set(ids)
        client.post_results(cid, measure(lab, batch, iteration=iteration, seed=3))
    listed = client.request("GET", f"/campaigns/{cid}/candidates", params={"limit": 1000}).json()
    statuses = {c["id"]: c["status"] for c in listed["items"]}
    assert {i for i, s in statuses.items() if s == "measured"} == used
    assert listed["counts"]["open"] + listed["counts"]["pending"] == 60 - len(used)
