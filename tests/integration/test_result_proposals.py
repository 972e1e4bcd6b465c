"""Results that report a proposal (issue 15 item 5): measured otherwise than proposed, or a second
time, they are stored and flagged; a proposal of another campaign or none: 422, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN
from support.proposals import saved_batch
from support.store_snapshot import snapshot

from kiln_services.store import Store

PROPOSED = [{"temperature_c": 950, "time_min": 60}, {"temperature_c": 1000, "time_min": 480}]


def _campaign(client: FlaskClient, name: str) -> str:
    body = {"name": name, "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY}
    response = client.post("/api/v1/campaigns", json=body, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


@pytest.fixture
def cid(client: FlaskClient, store: Store) -> str:
    cid = _campaign(client, "furnace")
    saved_batch(store, cid, "b1", PROPOSED)
    return cid


def _post(client: FlaskClient, cid: str, rows: list[dict[str, Any]]) -> Any:
    return client.post(f"/api/v1/campaigns/{cid}/results", json=rows, headers=ADMIN)


def _result(sid: str, pid: str, **parameters: float) -> dict[str, Any]:
    point = {**PROPOSED[int(pid[-1])], **parameters}
    return {"sample_id": sid, "parameters": point, "objective": 1e-4, "proposal_id": pid}


def _stored(client: FlaskClient, cid: str) -> dict[str, dict[str, Any]]:
    items = client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()["items"]
    return {r["sample_id"]: r for r in items}


def _status(store: Store, cid: str) -> dict[str, str]:
    return {p["id"]: p["status"] for p in store.proposals.page(cid)[0]}


def test_a_result_measured_as_proposed_carries_no_flag(
    client: FlaskClient, cid: str, store: Store
) -> None:
    answer = _post(client, cid, [_result("s1", "b1-0", time_min=60.0)])
    assert answer.status_code == 201 and answer.get_json()["flags"] == []
    assert answer.get_json()["measured_proposals"] == ["b1-0"]
    assert _stored(client, cid)["s1"]["flags"] == []


def test_parameters_that_differ_are_flagged_with_both_values(
    client: FlaskClient, cid: str, store: Store
) -> None:
    answer = _post(client, cid, [_result("s1", "b1-0", temperature_c=975, time_min=480)])
    assert answer.status_code == 201
    expected = [
        "temperature_c differs from proposal b1-0: proposed 950, measured 975",
        "time_min differs from proposal b1-0: proposed 60, measured 480",
    ]
    assert answer.get_json()["flags"] == [{"index": 0, "sample_id": "s1", "flags": expected}]
    assert _stored(client, cid)["s1"]["flags"] == expected
    # a furnace overshoot is still that proposal measured
    assert answer.get_json()["measured_proposals"] == ["b1-0"]
    assert _status(store, cid) == {"b1-0": "measured", "b1-1": "pending"}


def test_a_space_flag_and_a_proposal_flag_are_both_kept(
    client: FlaskClient, cid: str, store: Store
) -> None:
    answer = _post(client, cid, [_result("s1", "b1-1", temperature_c=1010)])
    assert answer.get_json()["flags"][0]["flags"] == [
        "temperature_c not on the step grid",
        "temperature_c differs from proposal b1-1: proposed 1000, measured 1010",
    ]


def test_a_second_result_for_a_proposal_is_a_replicate_of_the_first(
    client: FlaskClient, cid: str, store: Store
) -> None:
    assert _post(client, cid, [_result("s1", "b1-0")]).get_json()["flags"] == []
    again = _post(client, cid, [_result("s2", "b1-0"), _result("s3", "b1-0", temperature_c=925)])
    assert again.status_code == 201 and again.get_json()["measured_proposals"] == []
    replicate = "replicate of proposal b1-0, first measured as sample s1"
    assert again.get_json()["flags"] == [
        {"index": 0, "sample_id": "s2", "flags": [replicate]},
        {
            "index": 1,
            "sample_id": "s3",
            "flags": [
                "temperature_c differs from proposal b1-0: proposed 950, measured 925",
                replicate,
            ],
        },
    ]
    stored = _stored(client, cid)
    assert stored["s2"]["flags"] == [replicate] and stored["s1"]["flags"] == []


def test_replicates_within_one_post_name_the_post_s_first_sample(
    client: FlaskClient, cid: str
) -> None:
    answer = _post(client, cid, [_result("s1", "b1-1"), _result("s2", "b1-1")])
    assert answer.get_json()["flags"] == [
        {
            "index": 1,
            "sample_id": "s2",
            "flags": ["replicate of proposal b1-1, first measured as sample s1"],
        }
    ]
    assert answer.get_json()["measured_proposals"] == ["b1-1"]


def test_a_proposal_matched_by_its_parameters_is_replicated_by_name(
    client: FlaskClient, cid: str
) -> None:
    matched = _result("s1", "b1-0")
    del matched["proposal_id"]
    assert _post(client, cid, [matched]).get_json()["measured_proposals"] == ["b1-0"]
    named = _post(client, cid, [_result("s2", "b1-0")]).get_json()
    assert named["flags"][0]["flags"] == ["replicate of proposal b1-0, first measured as sample s1"]


@pytest.mark.parametrize("which", ["unknown", "another campaign's"])
def test_a_proposal_unknown_to_the_campaign_is_refused_storing_nothing(
    client: FlaskClient, cid: str, store: Store, redis_client: redis.Redis, which: str
) -> None:
    pid = "b9-0"
    if which != "unknown":
        other = _campaign(client, "other")
        pid = saved_batch(store, other, "b9", PROPOSED)["proposals"][0]["id"]
    before = snapshot(redis_client)
    refused = _post(
        client, cid, [_result("s1", "b1-0"), _result("s2", "b1-1") | {"proposal_id": pid}]
    )
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["results.1.proposal_id"]
    assert pid in refused.get_json()["errors"]["results.1.proposal_id"][0]
    assert snapshot(redis_client) == before
