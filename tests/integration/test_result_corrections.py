"""Corrections of stored results (issue 15): PATCH and GET one result, its revisions, the views.

Every refused PATCH is checked to leave the whole store as it was (support.store_snapshot).
"""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from support.intake import ADMIN
from support.store_snapshot import snapshot

from kiln import corrections
from kiln_services import task_names
from kiln_services.store import Keys, Store

SPACE = [
    {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100, "step": 25,
     "hard_low": 700, "hard_high": 1200, "unit": "degC"},
    {"name": "time_min", "kind": "discrete", "values": [10, 30, 60, 480], "unit": "min"},
]  # fmt: skip
CAMPAIGN = {
    "name": "furnace",
    "parameters": SPACE,
    "objective": {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"},
    "strategy": {"batch_size": 3, "auto_batch": False},
}


def result(sid: str, t: float = 900, y: float | None = 1e-4, **extra: object) -> dict:
    return {"sample_id": sid, "parameters": {"temperature_c": t, "time_min": 30}, "objective": y,
            "measurements": {"density": 0.9}, **extra}  # fmt: skip


@pytest.fixture
def cid(client: FlaskClient) -> str:
    response = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    cid = str(response.get_json()["id"])
    posted = client.post(
        f"/api/v1/campaigns/{cid}/results",
        json=[result("a", 900, 1e300), result("b", 950, 2e-4), result("c", 1000, 3e-4)],
        headers=ADMIN,
    )
    assert posted.status_code == 201, posted.get_json()
    return cid


def url(cid: str, sid: str = "a") -> str:
    return f"/api/v1/campaigns/{cid}/results/{sid}"


def patch(client: FlaskClient, cid: str, body: dict[str, Any], sid: str = "a", **headers: str):
    return client.patch(url(cid, sid), json=body, headers={**ADMIN, **headers})


def refused(
    client: FlaskClient,
    redis_client: redis.Redis,
    cid: str,
    body: dict[str, Any],
    status: int,
    sid: str = "a",
    **headers: str,
) -> dict[str, Any]:
    """PATCH that must be refused with `status`, leaving the whole store as it was."""
    before = snapshot(redis_client)
    response = patch(client, cid, body, sid, **headers)
    assert response.status_code == status, response.get_json()
    assert snapshot(redis_client) == before
    return dict(response.get_json())


def test_get_a_result_never_corrected(client: FlaskClient, cid: str) -> None:
    response = client.get(url(cid, "b"), headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    assert body["objective"] == 2e-4 and body["revision"] == 0 and body["excluded"] is False
    assert body["revisions"] == [] and body["received_at"]
    assert response.headers["ETag"] == '"b:0"'
    assert client.get(url(cid, "nope"), headers=ADMIN).status_code == 404
    assert client.get(url("nope", "b"), headers=ADMIN).status_code == 404


def test_a_correction_is_a_revision_and_the_log_is_never_rewritten(
    client: FlaskClient, cid: str, store: Store, redis_client: redis.Redis
) -> None:
    log = redis_client.lrange(Keys.results(cid), 0, -1)
    body = {
        "objective": 1.2e-3,
        "reason": "typo: 1e300 for 1.2e-3",
        "parameters": {"temperature_c": 925},
    }
    response = patch(client, cid, body)
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    assert response.headers["ETag"] == '"a:1"'
    assert view["objective"] == 1.2e-3 and view["parameters"] == {
        "temperature_c": 925,
        "time_min": 30,
    }
    assert view["revision"] == 1 and view["excluded"] is False
    (revision,) = view["revisions"]
    assert revision["revision"] == 1 and revision["by"] == "KILN_ADMIN_TOKEN" and revision["at"]
    assert revision["reason"] == "typo: 1e300 for 1.2e-3"
    assert revision["changes"] == {
        "objective": {"from": 1e300, "to": 1.2e-3},
        "parameters.temperature_c": {"from": 900, "to": 925},
    }
    assert redis_client.lrange(Keys.results(cid), 0, -1) == log  # the original stays
    assert client.get(url(cid), headers=ADMIN).get_json() == view

    second = patch(client, cid, {"excluded": True, "measurements": {"density": None, "phase": "NASICON"},
                                 "reason": "pellet cracked"})  # fmt: skip
    assert second.status_code == 200 and second.headers["ETag"] == '"a:2"'
    view = second.get_json()
    assert view["excluded"] is True and view["measurements"] == {"phase": "NASICON"}
    assert [r["revision"] for r in view["revisions"]] == [1, 2]
    assert view["revisions"][1]["changes"] == {
        "excluded": {"from": False, "to": True},
        "measurements.density": {"from": 0.9, "to": None},
        "measurements.phase": {"from": None, "to": "NASICON"},
    }
    assert store.results.data_version(cid) == 3 + 2


def test_lists_and_csv_show_current_values_revision_and_excluded(
    client: FlaskClient, cid: str
) -> None:
    assert patch(client, cid, {"objective": 1.2e-3, "reason": "typo"}).status_code == 200
    assert (
        patch(client, cid, {"excluded": True, "reason": "broken furnace"}, "b").status_code == 200
    )
    page = client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()
    assert [(r["sample_id"], r["objective"], r["revision"], r["excluded"]) for r in page["items"]] == [
        ("a", 1.2e-3, 1, False), ("b", 2e-4, 1, True), ("c", 3e-4, 0, False)
    ]  # fmt: skip
    assert page["total"] == 3 and page["data_version"] == 5
    kept = client.get(f"/api/v1/campaigns/{cid}/results?excluded=false", headers=ADMIN).get_json()
    assert [r["sample_id"] for r in kept["items"]] == ["a", "c"]
    text = client.get(f"/api/v1/campaigns/{cid}/results?format=csv", headers=ADMIN).get_data(
        as_text=True
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-2:] == ["revision", "excluded"]
    assert [(r[0], r[3], r[-2], r[-1]) for r in rows[1:]] == [
        ("a", "0.0012", "1", "false"), ("b", "0.0002", "1", "true"), ("c", "0.0003", "0", "false")
    ]  # fmt: skip


def test_a_correction_bumps_the_data_version_and_enqueues_a_refit(
    client: FlaskClient, cid: str, store: Store, redis_client: redis.Redis
) -> None:
    redis_client.delete(task_names.PROPOSALS_QUEUE, Keys.refit_queued(cid))
    before = store.results.data_version(cid)
    assert patch(client, cid, {"objective": 1.2e-3, "reason": "typo"}).status_code == 200
    assert store.results.data_version(cid) == before + 1
    messages = redis_client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)
    assert len(messages) == 1 and task_names.REFIT in messages[0]
    assert redis_client.exists(Keys.refit_queued(cid))


def test_an_unknown_result_or_campaign_is_404(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    body = {"objective": 1e-3, "reason": "typo"}
    assert "nope" in refused(client, redis_client, cid, body, 404, sid="nope")["detail"]
    refused(client, redis_client, "nope", body, 404)
    assert patch(client, cid, body).status_code == 200


def test_a_stale_if_match_is_412_naming_the_current_revision(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    first = patch(client, cid, {"objective": 1e-3, "reason": "typo"}, **{"If-Match": '"a:0"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"a:1"'
    stale = refused(client, redis_client, cid, {"objective": 2e-3, "reason": "mine"}, 412,
                    **{"If-Match": '"a:0"'})  # fmt: skip
    assert '"a:1"' in stale["errors"]["If-Match"][0] and "revision 1" in stale["detail"]
    fresh = patch(client, cid, {"objective": 2e-3, "reason": "mine"}, **{"If-Match": '"a:1"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"a:2"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"objective": 1e-3}, "reason"),
        ({"objective": 1e-3, "reason": "   "}, "reason"),
        ({"objective": 1e-3, "reason": "x" * 501}, "reason"),
        ({"reason": "nothing"}, "_schema"),
        ({"objective": 1e300, "reason": "same value"}, "_schema"),
        ({"objective": -1.0, "reason": "bad value"}, "objective"),
        ({"objective": None, "reason": "ok without a value"}, "objective"),
        (
            {"parameters": {"temperature_c": 5000}, "reason": "out of range"},
            "parameters.temperature_c",
        ),
        ({"parameters": {"pressure": 1}, "reason": "unknown parameter"}, "parameters.pressure"),
        ({"objective_sd": 0, "reason": "zero sd"}, "objective_sd"),
        ({"excluded": "yes", "reason": "not a bool"}, "excluded"),
        ({"sample_id": "z", "reason": "rename"}, "sample_id"),
        ({"proposal_id": "p", "reason": "relink"}, "proposal_id"),
        ({"received_at": "2026-01-01T00:00:00Z", "reason": "backdate"}, "received_at"),
    ],
)
def test_a_bad_correction_is_422_naming_the_field_and_stores_nothing(
    client: FlaskClient, cid: str, redis_client: redis.Redis, body: dict[str, Any], field: str
) -> None:
    problem = refused(client, redis_client, cid, body, 422)
    assert any(key == field or key.endswith(f".{field}") for key in problem["errors"]), problem
    if field == "_schema":
        assert any("nothing to change" in m for m in problem["errors"]["_schema"])


def test_passing_corrections_of_each_rule(client: FlaskClient, cid: str) -> None:
    assert patch(client, cid, {"objective": 1e-3, "reason": "x" * 500}).status_code == 200
    failed = patch(client, cid, {"objective": None, "status": "failed", "reason": "no pellet"})
    assert failed.status_code == 200 and "objective" not in failed.get_json()
    sd = patch(
        client, cid, {"status": "ok", "objective": 1e-3, "objective_sd": 1e-4, "reason": "r"}
    )
    assert sd.status_code == 200 and sd.get_json()["objective_sd"] == 1e-4
    moved = patch(client, cid, {"parameters": {"temperature_c": 1150}, "reason": "furnace log"})
    assert moved.status_code == 200 and moved.get_json()["flags"]  # within hard limits: flagged


def test_a_read_only_token_may_read_but_not_correct(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    made = client.post("/api/v1/tokens", json={"scope": "read", "name": "viewer"}, headers=ADMIN)
    reader = {"Authorization": f"Bearer {made.get_json()['token']}"}
    before = snapshot(redis_client)
    response = client.patch(url(cid), json={"objective": 1e-3, "reason": "r"}, headers=reader)
    assert response.status_code == 403
    assert snapshot(redis_client) == before
    assert client.get(url(cid), headers=reader).status_code == 200
    made = client.post(
        "/api/v1/tokens", json={"scope": "write", "name": "lab-bench"}, headers=ADMIN
    )
    writer = {"Authorization": f"Bearer {made.get_json()['token']}"}
    response = client.patch(url(cid), json={"objective": 1e-3, "reason": "r"}, headers=writer)
    assert response.status_code == 200 and response.get_json()["revisions"][0]["by"] == "lab-bench"


def test_a_retried_patch_with_its_idempotency_key_applies_nothing_twice(
    client: FlaskClient, cid: str, store: Store, redis_client: redis.Redis
) -> None:
    body = {"objective": 1e-3, "reason": "typo"}
    first = patch(client, cid, body, **{"Idempotency-Key": "k1"})
    assert first.status_code == 200
    again = patch(client, cid, body, **{"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    # The intake died after the store kept the correction, before it kept the response: the
    # retry finds the key with the revision and stores nothing.
    redis_client.delete(*redis_client.keys("kiln:idempotency:*"))
    before = store.results.data_version(cid)
    third = patch(client, cid, body, **{"Idempotency-Key": "k1"})
    assert third.status_code == 200 and third.get_json()["revision"] == 1
    assert store.results.data_version(cid) == before
    other = patch(client, cid, {"objective": 2e-3, "reason": "typo"}, **{"Idempotency-Key": "k1"})
    assert other.status_code == 409


def test_the_worker_trains_on_current_values_and_never_on_excluded_ones(
    client: FlaskClient, cid: str, store: Store
) -> None:
    patch(client, cid, {"objective": 1.2e-3, "reason": "typo"})
    patch(client, cid, {"excluded": True, "reason": "broken furnace"}, "c")
    results, data_version, corrections = store.results.training_view(cid)
    assert [(r["sample_id"], r["objective"]) for r in results] == [("a", 1.2e-3), ("b", 2e-4)]
    assert (data_version, corrections) == (5, 2)


def test_concurrent_corrections_of_one_result_all_land_in_order(cid: str, store: Store) -> None:
    campaign = store.campaigns.get(cid)

    def correct(k: int) -> None:
        def apply(current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            return corrections.correct_result(campaign, current, {"measurements": {f"m{k}": k}})

        store.revisions.correct(cid, "b", apply, by="t", reason=f"r{k}")

    threads = [threading.Thread(target=correct, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    view = store.revisions.view(cid, "b")
    assert view["revision"] == 8 and [r["revision"] for r in view["revisions"]] == list(range(1, 9))
    assert view["measurements"] == {"density": 0.9, **{f"m{k}": k for k in range(8)}}
    assert store.results.data_version(cid) == 3 + 8
