"""Faults around corrections (issue 15): the poison typo corrected through the API, and a worker
SIGKILLed right after a correction is acknowledged.

The 1e300 typo of test_fault_poison keeps a campaign's refits failing while it stands; corrected
through the API (PATCH, with a reason), the next refit succeeds and batches come from the model
again, and the result's history says what the typo was, who corrected it and why.
"""

from __future__ import annotations

from typing import Any

import pytest
from faultkit import Api, Live, child, restart, sigkill_group, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services.store import Keys, Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LAB = VirtualLatpLab(seed=21)
SEED = LAB.seed_grid()[:12]
TYPO = "SEED-003"


def writer(api: Api, name: str) -> dict[str, str]:
    """The headers of a new write token called `name`."""
    made = api.ok(api.post("/tokens", json={"scope": "write", "name": name}), 201)
    return {"Authorization": f"Bearer {made['token']}"}


def model_on(store: Store, cid: str, data_version: int) -> dict[str, Any]:
    return wait_until(
        lambda: (m := store.models.get(cid)) and m["data_version"] == data_version and m,
        120,
        f"a model on data_version {data_version}",
    )


def test_the_poison_typo_corrected_through_the_api_brings_the_model_back(live: Live) -> None:
    store, api = live.store, live.api
    cid = api.campaign(latp_campaign("poison-corrected"))
    true_value = next(r["objective"] for r in SEED if r["sample_id"] == TYPO)
    rows = [{**r, "objective": 1e300} if r["sample_id"] == TYPO else r for r in SEED]
    api.ok(api.post(f"/campaigns/{cid}/results", json=rows), 201)
    first = wait_until(lambda: store.proposals.latest_batch(cid), 120, "the first batch")
    assert first["fallback"].startswith("space_filling: model fit failed")
    assert "not a finite number in S/cm" in store.models.failure(cid)["reason"]

    body = {"objective": true_value, "reason": "typed 1e300: the notebook says otherwise"}
    response = api.request(
        "PATCH", f"/campaigns/{cid}/results/{TYPO}", json=body, headers=writer(api, "alice")
    )
    corrected = api.ok(response, 200)
    assert corrected["objective"] == true_value and response.headers["ETag"] == f'"{TYPO}:1"'

    model = model_on(store, cid, len(SEED) + 1)
    assert model["summary"]["n_observations"] == len(SEED)
    assert store.models.failure(cid) is None
    job = api.ok(api.post(f"/campaigns/{cid}/proposals", json={}), 202)
    done = wait_until(
        lambda: (j := api.job(job["id"]))["state"] in ("done", "failed") and j, 120, "a batch"
    )
    assert done["state"] == "done", done["error"]
    batch = api.ok(api.get(f"/campaigns/{cid}/proposals/latest"), 200)
    assert batch["batch_id"] == job["id"] and batch["fallback"] is None
    assert all(p["predicted_mean"] is not None for p in batch["proposals"])

    history = api.ok(api.get(f"/campaigns/{cid}/results/{TYPO}"), 200)["revisions"]
    assert [(r["by"], r["reason"]) for r in history] == [("alice", body["reason"])]
    assert history[0]["changes"] == {"objective": {"from": 1e300, "to": true_value}}


def test_a_worker_killed_after_a_correction_refits_once_restarted_nothing_twice(
    live: Live,
) -> None:
    stack, store, api = live
    body = latp_campaign("correction-killed")
    body["strategy"] = {**body["strategy"], "auto_batch": False}
    cid = api.campaign(body)
    api.ok(api.post(f"/campaigns/{cid}/results", json=SEED), 201)
    model_on(store, cid, len(SEED))

    worker = child(stack, "worker")
    correction = {"objective": 2.5e-4, "reason": "re-measured"}
    key = {"Idempotency-Key": "correction-1"}
    path = f"/campaigns/{cid}/results/{SEED[0]['sample_id']}"
    api.ok(api.request("PATCH", path, json=correction, headers=key), 200)
    sigkill_group(worker)  # right after the acknowledgement: the refit is queued or running
    restart(stack, worker)

    model = model_on(store, cid, len(SEED) + 1)
    assert model["summary"]["n_observations"] == len(SEED)
    # A client that never saw the answer retries: nothing is applied twice.
    again = api.ok(api.request("PATCH", path, json=correction, headers=key), 200)
    assert again["revision"] == 1 and len(again["revisions"]) == 1
    assert store.redis.llen(Keys.revisions(cid)) == 1
    assert store.results.data_version(cid) == len(SEED) + 1
    items = api.results(cid)
    assert sorted(r["sample_id"] for r in items) == sorted(r["sample_id"] for r in SEED)
    assert [r["objective"] for r in items if r["revision"]] == [2.5e-4]
