"""Fault 5: poison input does not wedge a campaign.

First poison: every target identical (a stuck detector). The refit fails with the reason
recorded, the automatic batch is a space-filling design whose job says why, and the next
different results recover a normal model and a model-based batch.

Second poison: 1e300 S/cm, a typo by some 300 decades. The GP itself fits it on the log10 scale,
but its predictions overflow S/cm, which nothing can store (JSON has no infinity); before this
was handled, the refit task crashed and the batch job failed, and since the automatic batch's id
is derived from the state it answers, no batch ever came again. Now the failed refit is recorded,
batches space-fill saying why, and measuring them keeps the loop going. (The value stays in the
append-only log; test_fault_corrections corrects it through the API.)
"""

from __future__ import annotations

from typing import Any

import pytest
from faultkit import Live, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LAB = VirtualLatpLab(seed=21)


def next_batch(store: Store, cid: str, data_version: int) -> dict[str, Any]:
    """The automatic batch made on at least `data_version` results (waited for)."""
    return wait_until(
        lambda: (
            (b := store.proposals.latest_batch(cid)) and b["data_version"] >= data_version and b
        ),
        120,
        f"a batch on {data_version} results",
    )


def measured(batch: dict[str, Any], tag: str, **override: Any) -> list[dict[str, Any]]:
    """Results for every proposal of a batch, measured by the virtual lab."""
    return [
        {
            "sample_id": f"{tag}-{k}",
            "proposal_id": p["id"],
            "parameters": p["parameters"],
            **LAB.measure(p["parameters"], k),
            **(override if k == 0 else {}),
        }
        for k, p in enumerate(batch["proposals"])
    ]


def test_poison_results_fall_back_to_space_filling_and_never_wedge_the_loop(live: Live) -> None:
    store, api = live.store, live.api
    cid = api.campaign(latp_campaign("poison"))
    post = f"/campaigns/{cid}/results"

    # Poison 1: five results, all the same value.
    stuck = [{**row, "objective": 1e-4} for row in LAB.seed_grid()[:5]]
    api.ok(api.post(post, json=stuck), 201)
    first = next_batch(store, cid, 5)
    job = api.job(first["job_id"])
    assert job["state"] == "done" and job["error"] is None
    assert job["result"]["fallback"].startswith("space_filling: model fit failed")
    assert "targets are equal" in job["result"]["fallback"]
    assert all(p["predicted_mean"] is None for p in first["proposals"])
    assert "targets are equal" in store.models.failure(cid)["reason"]
    assert api.model(cid) is None

    # The next, different results recover a normal model and a model-based batch.
    api.ok(api.post(post, json=measured(first, "good")), 201)
    second = next_batch(store, cid, 5 + len(first["proposals"]))
    assert second["fallback"] is None
    assert all(p["predicted_mean"] is not None for p in second["proposals"])
    model = api.model(cid)
    assert model is not None and model["data_version"] == second["data_version"]
    assert store.models.failure(cid) is None

    # Poison 2: one value off by 300 decades among good ones.
    api.ok(api.post(post, json=measured(second, "typo", objective=1e300)), 201)
    third = next_batch(store, cid, second["data_version"] + len(second["proposals"]))
    job = api.job(third["job_id"])
    assert job["state"] == "done", job["error"]
    assert job["result"]["fallback"].startswith("space_filling: model fit failed")
    assert "not a finite number in S/cm" in job["result"]["fallback"]
    failure = store.models.failure(cid)
    assert failure is not None and failure["data_version"] == third["data_version"]
    assert api.model(cid)["data_version"] == second["data_version"]  # the last good model

    # Not wedged: measuring the space-filling batch brings the next one.
    api.ok(api.post(post, json=measured(third, "after")), 201)
    fourth = next_batch(store, cid, third["data_version"] + len(third["proposals"]))
    assert api.job(fourth["job_id"])["state"] == "done"
    assert fourth["fallback"].startswith("space_filling")
    assert len(api.results(cid)) == fourth["data_version"]
