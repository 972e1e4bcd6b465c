"""The v1 API on a real Redis through Flask's test client (tasks land on the real broker queue)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from support.intake import ADMIN
from support.proposals import saved_batch

from kiln_services import task_names
from kiln_services.store import Store

SPACE = [
    {
        "name": "temperature_c",
        "kind": "continuous",
        "low": 800,
        "high": 1100,
        "step": 25,
        "hard_low": 700,
        "hard_high": 1200,
        "unit": "degC",
    },
    {"name": "time_min", "kind": "discrete", "values": [10, 30, 60, 480], "unit": "min"},
    {"name": "atmosphere", "kind": "categorical", "values": ["air", "argon"]},
]
CAMPAIGN = {
    "name": "furnace",
    "parameters": SPACE,
    "objective": {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"},
    "strategy": {"batch_size": 3},
}


def result(sid: str, t: float = 900, y: float | None = 1e-4, **extra: object) -> dict:
    body = {
        "sample_id": sid,
        "parameters": {"temperature_c": t, "time_min": 30, "atmosphere": "air"},
        **extra,
    }
    if y is not None:
        body["objective"] = y
    return body


def queued(client: redis.Redis, name: str) -> list[dict]:
    """The Celery messages waiting on the broker queue, newest first (kombu JSON envelopes)."""
    messages = [json.loads(raw) for raw in client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)]
    return [m for m in messages if m["headers"]["task"] == name]


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"KILN_LONG_POLL_INTERVAL_S": 0.05}


@pytest.fixture
def cid(client: FlaskClient) -> str:
    response = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def token(client: FlaskClient, scope: str) -> dict[str, str]:
    body = client.post("/api/v1/tokens", json={"scope": scope, "name": scope}, headers=ADMIN)
    return {"Authorization": f"Bearer {body.get_json()['token']}"}


def post(client: FlaskClient, cid: str, payload: object, **kwargs: object):
    return client.post(f"/api/v1/campaigns/{cid}/results", json=payload, headers=ADMIN, **kwargs)


# -- campaigns ------------------------------------------------------------------------------------


def test_create_read_and_list_campaigns(client: FlaskClient, cid: str) -> None:
    read = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN)
    assert read.status_code == 200
    body = read.get_json()
    assert body["id"] == cid and body["space_version"] == 1 and body["created_at"]
    assert body["counts"]["results"] == 0 and body["counts"]["proposals_pending"] == 0
    assert body["strategy"]["batch_size"] == 3 and body["strategy"]["acquisition"] == "ucb"
    assert [p["name"] for p in body["parameters"]] == ["temperature_c", "time_min", "atmosphere"]
    client.post("/api/v1/campaigns", json={**CAMPAIGN, "name": "second"}, headers=ADMIN)
    page = client.get("/api/v1/campaigns?limit=1", headers=ADMIN).get_json()
    assert page["total"] == 2 and [c["id"] for c in page["items"]] == [cid]
    rest = client.get(page["next"], headers=ADMIN).get_json()
    assert [c["name"] for c in rest["items"]] == ["second"] and rest["next"] is None


def test_create_from_preset(client: FlaskClient) -> None:
    response = client.post("/api/v1/campaigns", json={"preset": "latp"}, headers=ADMIN)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(body["id"])
    assert [p["name"] for p in body["parameters"]] == ["acid_wt_pct", "temperature_c", "time_min"]
    assert body["objective"]["name"] == "conductivity"


def test_invalid_space_is_a_field_error(client: FlaskClient) -> None:
    bad = {**CAMPAIGN, "parameters": [{"name": "t", "kind": "continuous", "low": 5, "high": 1}]}
    response = client.post("/api/v1/campaigns", json=bad, headers=ADMIN)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["parameters.0.high"]


def test_unknown_campaign_is_404_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/campaigns/nope", headers=ADMIN)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert post(client, "nope", result("a")).status_code == 404


# -- results --------------------------------------------------------------------------------------


def test_post_one_list_and_bare_array(client: FlaskClient, cid: str) -> None:
    one = post(client, cid, result("a"))
    assert one.status_code == 201
    assert one.get_json() | {"refit_enqueued": None} == {
        "stored": 1,
        "duplicates": 0,
        "data_version": 1,
        "flags": [],
        "measured_proposals": [],
        "refit_enqueued": None,
        "skipped": 0,
    }
    listed = post(client, cid, {"results": [result("b"), result("c")]})
    assert listed.status_code == 201 and listed.get_json()["data_version"] == 3
    bare = post(client, cid, [result("d"), result("e", y=None, status="failed")])
    assert bare.status_code == 201 and bare.get_json()["stored"] == 2
    counts = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["counts"]
    assert counts["results"] == 5


def test_post_csv(client: FlaskClient, cid: str) -> None:
    text = (
        "sample_id,temperature_c,time_min,atmosphere,conductivity,relative_density\n"
        "c1,900,30,argon,2.5e-4,0.93\n"
        "c2,1000,480,air,,\n"
    )
    response = client.post(
        f"/api/v1/campaigns/{cid}/results", data=text, content_type="text/csv", headers=ADMIN
    )
    assert response.status_code == 422  # c2 has no conductivity and is not marked failed
    # CSV errors name the row as a spreadsheet shows it (header = row 1) and the column.
    assert list(response.get_json()["errors"]) == ["row.3.conductivity"]
    text = text.replace("c2,1000,480,air,,", "c2,1000,480,air,1.1e-3,") + "c3,850,10,air,1e-5,x\n"
    response = client.post(
        f"/api/v1/campaigns/{cid}/results", data=text, content_type="text/csv", headers=ADMIN
    )
    assert response.status_code == 201, response.get_json()
    items = client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()["items"]
    assert items[0]["parameters"] == {
        "temperature_c": 900.0,
        "time_min": 30.0,
        "atmosphere": "argon",
    }
    assert items[0]["objective"] == 2.5e-4 and items[0]["measurements"] == {
        "relative_density": 0.93
    }
    assert "measurements" not in items[1] and items[2]["measurements"] == {"relative_density": "x"}


def test_same_payload_again_is_200_and_stores_nothing(client: FlaskClient, cid: str) -> None:
    assert post(client, cid, [result("a"), result("b")]).status_code == 201
    again = post(client, cid, [result("b"), result("a")])
    assert again.status_code == 200
    assert again.get_json()["stored"] == 0 and again.get_json()["duplicates"] == 2
    assert again.get_json()["data_version"] == 2


def test_different_payload_for_a_stored_sample_is_409(client: FlaskClient, cid: str) -> None:
    post(client, cid, result("LATP-042", y=1e-3))
    response = post(client, cid, [result("fresh"), result("LATP-042", y=2e-3)])
    assert response.status_code == 409
    body = response.get_json()
    assert "LATP-042" in body["detail"] and "LATP-042" in body["errors"]["sample_id"][0]
    assert (
        client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["counts"]["results"] == 1
    )


def test_one_bad_row_stores_nothing_and_names_row_and_field(client: FlaskClient, cid: str) -> None:
    rows = [result("a"), result("b"), result("c", t=1500), result("d", y=-1.0)]
    response = post(client, cid, rows)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"results.2.parameters.temperature_c", "results.3.objective"}
    shape = post(client, cid, [result("a"), {"sample_id": "b", "parameters": {}, "objective": "x"}])
    assert shape.status_code == 422
    assert "results.1.objective" in shape.get_json()["errors"]
    unknown = post(
        client,
        cid,
        [
            result("a"),
            {
                **result("b"),
                "parameters": {
                    "temperature_c": 900,
                    "time_min": 30,
                    "atmosphere": "air",
                    "pressure": 1,
                },
            },
        ],
    )
    assert "results.1.parameters.pressure" in unknown.get_json()["errors"]
    listing = client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()
    assert listing["total"] == 0 and listing["items"] == []


def test_failed_synthesis_and_objective_rules(client: FlaskClient, cid: str) -> None:
    assert post(client, cid, result("f", y=None, status="failed")).status_code == 201
    both = post(client, cid, result("g", y=1e-3, status="failed"))
    assert both.status_code == 422 and "results.0.objective" in both.get_json()["errors"]
    none = post(client, cid, result("h", y=None))
    assert none.status_code == 422 and "results.0.objective" in none.get_json()["errors"]
    nan = client.post(
        f"/api/v1/campaigns/{cid}/results",
        data='{"sample_id": "n", "parameters": {}, "objective": NaN}',
        content_type="application/json",
        headers=ADMIN,
    )
    assert nan.status_code == 422


def test_inside_hard_limits_but_outside_range_is_accepted_and_flagged(
    client: FlaskClient, cid: str
) -> None:
    response = post(client, cid, [result("a"), result("hot", t=1150)])
    assert response.status_code == 201
    assert response.get_json()["flags"][0]["index"] == 1
    assert "temperature_c" in response.get_json()["flags"][0]["flags"][0]


def test_pagination_and_csv_export_round_trip(client: FlaskClient, cid: str) -> None:
    post(client, cid, [result(f"s{i}", t=800 + 25 * i, y=1e-4 * (i + 1)) for i in range(5)])
    page = client.get(f"/api/v1/campaigns/{cid}/results?offset=1&limit=2", headers=ADMIN)
    body = page.get_json()
    assert [r["sample_id"] for r in body["items"]] == ["s1", "s2"]
    assert body["total"] == 5 and body["data_version"] == 5
    last = client.get(body["next"], headers=ADMIN).get_json()
    assert [r["sample_id"] for r in last["items"]] == ["s3", "s4"] and last["next"] is None
    exported = client.get(f"/api/v1/campaigns/{cid}/results?format=csv", headers=ADMIN)
    assert exported.mimetype == "text/csv"
    lines = exported.get_data(as_text=True).splitlines()
    assert lines[0].startswith("sample_id,temperature_c,time_min,atmosphere,conductivity")
    assert len(lines) == 6
    reimport = client.post(
        f"/api/v1/campaigns/{cid}/results",
        data=exported.get_data(),
        content_type="text/csv",
        headers=ADMIN,
    )
    assert reimport.status_code == 200 and reimport.get_json()["duplicates"] == 5
    bad = client.get(f"/api/v1/campaigns/{cid}/results?limit=0", headers=ADMIN)
    assert bad.status_code == 422 and "limit" in bad.get_json()["errors"]


def test_a_row_exports_the_same_whether_posted_as_json_or_csv(
    client: FlaskClient, cid: str
) -> None:
    assert post(client, cid, result("same", t=1000, y=2.5e-4)).status_code == 201
    text = "sample_id,temperature_c,time_min,atmosphere,conductivity\nsame-csv,1000,30,air,2.5e-4\n"
    posted = client.post(
        f"/api/v1/campaigns/{cid}/results", data=text, content_type="text/csv", headers=ADMIN
    )
    assert posted.status_code == 201, posted.get_json()
    exported = client.get(f"/api/v1/campaigns/{cid}/results?format=csv", headers=ADMIN)
    from_json, from_csv = exported.get_data(as_text=True).splitlines()[1:]
    assert from_json.startswith("same,1000,30,air,")
    assert from_csv == from_json.replace("same,", "same-csv,", 1)


# -- auth -----------------------------------------------------------------------------------------


def test_scopes_on_the_campaign_endpoints(client: FlaskClient, cid: str) -> None:
    read, write = token(client, "read"), token(client, "write")
    url = f"/api/v1/campaigns/{cid}/results"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=read).status_code == 200
    assert client.post(url, json=result("a"), headers=read).status_code == 403
    assert client.post(url, json=result("a"), headers=write).status_code == 201
    assert (
        client.post(f"/api/v1/campaigns/{cid}/proposals", json={}, headers=read).status_code == 403
    )
    assert (
        client.post(f"/api/v1/campaigns/{cid}/proposals", json={}, headers=write).status_code == 202
    )
    assert client.post("/api/v1/campaigns", json=CAMPAIGN, headers=write).status_code == 403


# -- the loop -------------------------------------------------------------------------------------


def test_a_burst_of_posts_enqueues_one_refit(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    for i in range(100):
        assert post(client, cid, result(f"s{i}", t=800 + 25 * (i % 13))).status_code == 201
    refits = queued(redis_client, task_names.REFIT)
    assert len(refits) == 1
    assert refits[0]["headers"]["argsrepr"] == repr([cid]) or cid in json.dumps(refits[0])
    assert refits[0]["content-type"] == "application/json"


def test_request_proposals_is_202_with_job_and_location(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    response = client.post(
        f"/api/v1/campaigns/{cid}/proposals",
        json={"batch_size": 2, "acquisition": "ei"},
        headers=ADMIN,
    )
    assert response.status_code == 202
    job = response.get_json()
    assert job["state"] == "queued" and job["kind"] == "proposals" and job["result"] is None
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert client.get(response.headers["Location"], headers=ADMIN).get_json()["id"] == job["id"]
    [message] = queued(redis_client, task_names.PROPOSE)
    assert message["headers"]["id"] == job["id"]
    bad = client.post(f"/api/v1/campaigns/{cid}/proposals", json={"batch_size": 0}, headers=ADMIN)
    assert bad.status_code == 422 and "batch_size" in bad.get_json()["errors"]
    assert client.get("/api/v1/jobs/nope", headers=ADMIN).status_code == 404


def _batch(store: Store, cid: str, job_id: str, xs: list[float]) -> dict:
    points = [{"temperature_c": x, "time_min": 30, "atmosphere": "air"} for x in xs]
    return saved_batch(store, cid, job_id, points)


def test_latest_batch_etag_304_and_ledger(client: FlaskClient, cid: str, store: Store) -> None:
    url = f"/api/v1/campaigns/{cid}/proposals/latest"
    assert client.get(url, headers=ADMIN).status_code == 404
    batch = _batch(store, cid, "job-1", [900, 1000])
    first = client.get(url, headers=ADMIN)
    assert first.status_code == 200 and first.headers["ETag"]
    body = first.get_json()
    assert (
        body["batch_id"] == "job-1" and [p["status"] for p in body["proposals"]] == ["pending"] * 2
    )
    assert {
        "id",
        "parameters",
        "predicted_mean",
        "predicted_std",
        "acquisition_value",
        "model_version",
        "data_version",
        "space_version",
    } <= set(body["proposals"][0])
    unchanged = client.get(url, headers={**ADMIN, "If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == first.headers["ETag"]
    # A result naming a proposal settles it, and the ETag moves on.
    pid = batch["proposals"][0]["id"]
    measured = post(client, cid, result("m1", t=950, proposal_id=pid))
    assert measured.get_json()["measured_proposals"] == [pid]
    matched = post(client, cid, result("m2", t=1000))
    assert matched.get_json()["measured_proposals"] == [batch["proposals"][1]["id"]]
    after = client.get(url, headers={**ADMIN, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert [p["status"] for p in after.get_json()["proposals"]] == ["measured", "measured"]
    counts = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["counts"]
    assert counts["proposals_pending"] == 0 and counts["batches"] == 1
    unknown = post(client, cid, result("m3", proposal_id="nope"))
    assert unknown.status_code == 422 and "results.0.proposal_id" in unknown.get_json()["errors"]


def test_long_poll_waits_then_304_or_wakes_on_a_new_batch(
    client: FlaskClient, cid: str, store: Store
) -> None:
    url = f"/api/v1/campaigns/{cid}/proposals/latest"
    _batch(store, cid, "job-1", [900])
    etag = client.get(url, headers=ADMIN).headers["ETag"]
    started = time.monotonic()
    waited = client.get(f"{url}?wait=0.4", headers={**ADMIN, "If-None-Match": etag})
    assert waited.status_code == 304 and time.monotonic() - started >= 0.35

    timer = threading.Timer(0.3, _batch, args=(store, cid, "job-2", [1000]))
    timer.start()
    started = time.monotonic()
    woke = client.get(f"{url}?wait=20", headers={**ADMIN, "If-None-Match": etag})
    elapsed = time.monotonic() - started
    timer.join()
    assert woke.status_code == 200 and woke.get_json()["batch_id"] == "job-2"
    assert 0.25 <= elapsed < 5


def test_model_summary_404_then_200(client: FlaskClient, cid: str, store: Store) -> None:
    url = f"/api/v1/campaigns/{cid}/model"
    missing = client.get(url, headers=ADMIN)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    store.models.save(cid, {"x": [1]}, {"kernel": "Matern"}, data_version=4, space_version=1)
    body = client.get(url, headers=ADMIN).get_json()
    assert body["summary"] == {"kernel": "Matern"} and body["model_version"] == 1
    assert body["data_version"] == 4 and "state" not in body


def test_readyz_needs_a_worker_heartbeat(client: FlaskClient, store: Store) -> None:
    assert client.get("/api/v1/readyz").status_code == 503
    store.workers.heartbeat("worker@test")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["workers"] == ["worker@test"]


def test_withdraw_a_pending_proposal(client: FlaskClient, cid: str, store: Store) -> None:
    _batch(store, cid, "job-1", [900, 1000])
    url = f"/api/v1/campaigns/{cid}/proposals/job-1-0"
    read = token(client, "read")
    assert client.delete(url, headers=read).status_code == 403
    response = client.delete(url, headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert client.delete(url, headers=ADMIN).status_code == 409
    assert client.delete(f"/api/v1/campaigns/{cid}/proposals/zzz", headers=ADMIN).status_code == 404
    counts = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["counts"]
    assert counts["proposals_pending"] == 1


def test_patch_widens_ranges_into_a_new_space_version_keeping_data(
    client: FlaskClient, cid: str, store: Store, redis_client: redis.Redis
) -> None:
    flagged = post(client, cid, result("hot", t=1150))
    assert flagged.get_json()["flags"]
    widened = [dict(p) for p in SPACE]
    widened[0] = {**widened[0], "high": 1200}
    response = client.patch(
        f"/api/v1/campaigns/{cid}",
        json={"parameters": widened, "strategy": {"acquisition": "ei"}},
        headers=ADMIN,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["space_version"] == 2 and body["parameters"][0]["high"] == 1200
    assert body["strategy"]["acquisition"] == "ei" and body["strategy"]["batch_size"] == 3
    assert body["counts"]["results"] == 1
    assert store.campaigns.space_history(cid)[0]["space_version"] == 1
    assert not post(client, cid, result("hotter", t=1175)).get_json()["flags"]
    # Past the hard limits, renamed parameters or changed limits: refused, nothing changes.
    beyond = [{**widened[0], "high": 1300}, *widened[1:]]
    renamed = [{**widened[0], "name": "temp"}, *widened[1:]]
    relimited = [{**widened[0], "hard_high": 1500}, *widened[1:]]
    for parameters, field in (
        (beyond, "parameters.0.hard_high"),
        (renamed, "parameters"),
        (relimited, "parameters.0.hard_high"),
    ):
        bad = client.patch(
            f"/api/v1/campaigns/{cid}", json={"parameters": parameters}, headers=ADMIN
        )
        assert bad.status_code == 422 and field in bad.get_json()["errors"], bad.get_json()
    assert client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["space_version"] == 2
    same = client.patch(f"/api/v1/campaigns/{cid}", json={"parameters": widened}, headers=ADMIN)
    assert same.get_json()["space_version"] == 2
    write = token(client, "write")
    assert client.patch(f"/api/v1/campaigns/{cid}", json={}, headers=write).status_code == 403


def test_metrics_are_prometheus_text(client: FlaskClient, cid: str, store: Store) -> None:
    post(client, cid, [result("a"), result("b", t=1000)])
    _batch(store, cid, "job-1", [950])
    store.workers.heartbeat("worker@test")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "version=0.0.4" in response.headers["Content-Type"]
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }
    assert samples[("kiln_campaigns", ())] == 1 and samples[("kiln_results", ())] == 2
    assert samples[("kiln_proposals_pending", ())] == 1
    assert samples[("kiln_workers_live", ())] == 1
    # the refit the posts queued
    assert samples[("kiln_queue_length", (("queue", "proposals"),))] == 1
    assert samples[("kiln_queue_length", (("queue", "benchmarks"),))] == 0


def test_csv_problems_are_field_errors(client: FlaskClient, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"

    def send(text: bytes | str) -> dict:
        response = client.post(url, data=text, content_type="text/csv", headers=ADMIN)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        return response.get_json()["errors"]

    assert "header" in send("temperature_c,time_min,atmosphere,conductivity\n900,30,air,1e-4\n")
    assert "body" in send("sample_id,temperature_c\n")
    assert "body" in send(b"sample_id\n\xff\xfe\n")
    bad_number = "sample_id,temperature_c,time_min,atmosphere,objective\nx,hot,30,air,1e-4\n"
    assert list(send(bad_number)) == ["row.2.temperature_c"]
    assert client.get(f"{url}", headers=ADMIN).get_json()["total"] == 0


def test_request_benchmarks_is_202_on_the_benchmarks_queue(
    client: FlaskClient, cid: str, redis_client: redis.Redis
) -> None:
    response = client.post(
        f"/api/v1/campaigns/{cid}/benchmarks",
        json={"strategies": ["ucb", "random"], "repeats": 5},
        headers=ADMIN,
    )
    assert response.status_code == 202
    job = response.get_json()
    assert job["kind"] == "benchmarks" and job["state"] == "queued"
    assert job["params"]["repeats"] == 5 and job["params"]["n_inits"][0] == 1
    [raw] = redis_client.lrange(task_names.BENCHMARKS_QUEUE, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == task_names.BENCHMARK
    assert message["headers"]["id"] == job["id"]
    bad = client.post(
        f"/api/v1/campaigns/{cid}/benchmarks", json={"strategies": ["magic"]}, headers=ADMIN
    )
    assert bad.status_code == 422 and "strategies.0" in bad.get_json()["errors"]
    read = token(client, "read")
    assert (
        client.post(f"/api/v1/campaigns/{cid}/benchmarks", json={}, headers=read).status_code == 403
    )


def test_a_campaigns_benchmarks_are_listed_newest_first(client: FlaskClient, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/benchmarks"
    started = [
        client.post(url, json={"repeats": n}, headers=ADMIN).get_json()["id"] for n in (2, 3, 4)
    ]
    client.post(f"/api/v1/campaigns/{cid}/proposals", json={}, headers=ADMIN)  # not a benchmark
    read = token(client, "read")
    page = client.get(url, headers=read)
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert [job["id"] for job in body["items"]] == started[::-1]
    assert body["total"] == 3 and body["next"] is None
    assert body["items"][0]["kind"] == "benchmarks" and body["items"][0]["params"]["repeats"] == 4
    second = client.get(f"{url}?offset=1&limit=1", headers=read).get_json()
    assert [job["id"] for job in second["items"]] == [started[1]] and second["next"]
    assert client.get("/api/v1/campaigns/nope/benchmarks", headers=ADMIN).status_code == 404
