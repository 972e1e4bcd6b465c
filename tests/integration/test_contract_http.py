"""The contract, rule by rule (errors, auth, idempotency, paging, jobs, OpenAPI, the loop): each
rule has a request that must fail and one that must pass; every rejected request leaves the store
exactly as it was. Real Redis, Flask's test client (and the worker's refit task, called directly).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import redis
import test_contract_validation as validation
from celery import Celery
from flask import Flask, g
from support.intake import ADMIN, intake_app
from support.store_snapshot import snapshot
from test_contract_validation import CAMPAIGN, Api, result

from kiln_services import task_names
from kiln_services.devstack.redis_server import free_port
from kiln_services.intake import create_app
from kiln_services.intake.auth import digest
from kiln_services.intake.idempotency import request_fingerprint, scope_key
from kiln_services.store import Keys, Store


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"MAX_CONTENT_LENGTH": 64 * 1024}


#: The validation tests' fixtures: their Api on the test app, and their campaign.
api, cid = validation.api, validation.cid


def issue(api: Api, scope: str, name: str | None = None, **extra: Any) -> tuple[dict, dict]:
    """Issue a token; return (its record as answered, an Authorization header)."""
    record = api.ok(
        201, "POST", "/api/v1/tokens", json={"scope": scope, "name": name or scope, **extra}
    )
    return record, {"Authorization": f"Bearer {record['token']}"}


# -- errors -----------------------------------------------------------------------------------------


def test_malformed_json_is_400_problem(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    api.rejected(400, "POST", url, data='{"sample_id": "a",', content_type="application/json")
    api.rejected(400, "POST", url, data=b'{"a": "\xff"}', content_type="application/json")
    api.ok(201, "POST", url, data=json.dumps(result()), content_type="application/json")


@pytest.mark.parametrize("key", [None, "deep-1"])
def test_absurdly_nested_json_is_400_not_500(api: Api, cid: str, key: str | None) -> None:
    headers = {**ADMIN, **({"Idempotency-Key": key} if key else {})}
    deep = "[" * 20_000 + "]" * 20_000  # deeper than any recursion limit, within 64 KiB
    for url in ("/api/v1/campaigns", f"/api/v1/campaigns/{cid}/results"):
        api.rejected(400, "POST", url, data=deep, content_type="application/json", headers=headers)
    api.ok(201, "POST", f"/api/v1/campaigns/{cid}/results", json=result(), headers=headers)


def test_json_strings_must_be_text(api: Api, cid: str) -> None:
    body = json.dumps(result()).replace('"s1"', '"s\\ud800"')
    assert "\\ud800" in body
    url = f"/api/v1/campaigns/{cid}/results"
    api.rejected(400, "POST", url, data=body, content_type="application/json")
    api.rejected(400, "POST", "/api/v1/campaigns", data='{"preset": "latp", "name": "\\udfff"}',
                 content_type="application/json")  # fmt: skip
    api.ok(201, "POST", url, json=result("s\u00e9\U0001f525"))


def test_wrong_content_type_is_415_problem(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    body = json.dumps(result())
    problem = api.rejected(415, "POST", url, data=body, content_type="text/plain")
    assert "Content-Type" in problem["errors"]
    api.rejected(415, "POST", url, data="a=1", content_type="application/x-www-form-urlencoded")
    # CSV only where results are posted
    api.rejected(415, "POST", "/api/v1/campaigns", data="name\nx\n", content_type="text/csv")
    api.ok(201, "POST", url, data=body, content_type="application/json")


def test_wrong_method_is_405_problem_with_allow(api: Api, cid: str) -> None:
    response = api.client.put(f"/api/v1/campaigns/{cid}", json={}, headers=ADMIN)
    assert response.status_code == 405 and response.mimetype == "application/problem+json"
    assert "PATCH" in response.headers["Allow"] and "PUT" not in response.headers["Allow"]
    latest = api.client.delete(f"/api/v1/campaigns/{cid}/proposals/latest", headers=ADMIN)
    assert latest.status_code == 405 and "DELETE" not in latest.headers["Allow"]
    api.rejected(405, "PUT", f"/api/v1/campaigns/{cid}", json={})
    api.ok(200, "PATCH", f"/api/v1/campaigns/{cid}", json={"name": "renamed"})


def test_unknown_url_is_404_problem_never_html(api: Api, cid: str) -> None:
    for url in (
        "/api/v1/nothing",
        "/api/v2/campaigns",
        "/api/v1/campaigns/nope",
        "/api/v1/jobs/nope",
    ):
        problem = api.rejected(404, "GET", url)
        assert "<html" not in json.dumps(problem).lower()
    api.ok(200, "GET", f"/api/v1/campaigns/{cid}")


def test_body_over_the_limit_is_413_problem(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    big = [result(f"s{i}", instrument="x" * 150) for i in range(400)]
    assert len(json.dumps(big)) > 64 * 1024
    problem = api.rejected(413, "POST", url, json=big)
    assert problem["title"] == "Request Entity Too Large"
    assert api.ok(201, "POST", url, json=big[:100])["stored"] == 100


def test_default_body_limit_is_16_mib_and_configurable(redis_url: str) -> None:
    assert create_app({"REDIS_URL": redis_url}).config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_redis_down_is_503_with_retry_after(api: Api, cid: str) -> None:
    down = intake_app(f"redis://127.0.0.1:{free_port()}/0")
    down.extensions["kiln_store"] = Store.from_url(down.config["REDIS_URL"], timeout=0.5)
    response = down.test_client().post(
        f"/api/v1/campaigns/{cid}/results", json=result(), headers=ADMIN
    )
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert response.mimetype == "application/problem+json"
    api.ok(201, "POST", f"/api/v1/campaigns/{cid}/results", json=result())


def test_unknown_fields_in_every_body_are_422(api: Api, cid: str) -> None:
    api.rejected(422, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "colour": 1})
    api.rejected(422, "POST", "/api/v1/tokens", json={"scope": "read", "name": "x", "admin": True})
    api.rejected(422, "POST", f"/api/v1/campaigns/{cid}/proposals", json={"size": 3})
    api.rejected(422, "PATCH", f"/api/v1/campaigns/{cid}", json={"strategy": {"kapa": 1}})
    api.rejected(422, "PATCH", f"/api/v1/campaigns/{cid}", json={})
    api.rejected(422, "POST", "/api/v1/campaigns", json={"preset": "latp", "parameters": []})
    api.ok(201, "POST", "/api/v1/campaigns", json={"preset": "latp", "name": "latp-2"})


# -- auth -------------------------------------------------------------------------------------------


def test_no_or_bad_token_is_401(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YTpi"}):
        api.rejected(401, "POST", url, json=result(), headers=headers)
    api.ok(201, "POST", url, json=result())


def test_scopes_read_write_admin(api: Api, cid: str) -> None:
    _, read = issue(api, "read")
    _, write = issue(api, "write")
    url = f"/api/v1/campaigns/{cid}/results"
    api.rejected(403, "POST", url, json=result(), headers=read)
    api.ok(200, "GET", url, headers=read)
    api.rejected(403, "POST", "/api/v1/campaigns", json=CAMPAIGN, headers=write)
    api.rejected(403, "POST", "/api/v1/tokens", json={"scope": "read", "name": "x"}, headers=write)
    api.rejected(403, "GET", "/api/v1/tokens", headers=write)
    api.ok(201, "POST", url, json=result(), headers=write)


def test_tokens_are_shown_once_listed_without_secrets_and_revoked(
    api: Api, cid: str, redis_client: redis.Redis
) -> None:
    record, bearer = issue(api, "write", "lims-bay-3")
    secret = record["token"]
    assert set(record) == {"id", "token", "scope", "name", "campaign_id", "created_at"}
    listed = api.ok(200, "GET", "/api/v1/tokens")["items"]
    assert [t["name"] for t in listed] == ["lims-bay-3"]
    assert set(listed[0]) == {"id", "scope", "name", "campaign_id", "created_at"}
    dump = json.dumps(snapshot(redis_client))
    assert secret not in dump  # stored hashed
    api.rejected(404, "DELETE", "/api/v1/tokens/not-an-id")
    api.rejected(403, "DELETE", f"/api/v1/tokens/{record['id']}", headers=bearer)
    api.ok(201, "POST", f"/api/v1/campaigns/{cid}/results", json=result(), headers=bearer)
    assert api.client.delete(f"/api/v1/tokens/{record['id']}", headers=ADMIN).status_code == 204
    api.rejected(401, "POST", f"/api/v1/campaigns/{cid}/results", json=result("b"), headers=bearer)
    assert api.ok(200, "GET", "/api/v1/tokens")["items"] == []


def test_tokens_are_paged(api: Api) -> None:
    for i in range(3):
        issue(api, "read", f"t{i}")
    page = api.ok(200, "GET", "/api/v1/tokens?limit=2")
    assert [t["name"] for t in page["items"]] == ["t0", "t1"] and page["total"] == 3
    assert [t["name"] for t in api.ok(200, "GET", page["next"])["items"]] == ["t2"]
    api.rejected(422, "GET", "/api/v1/tokens?limit=0")


def test_token_limited_to_one_campaign(api: Api, cid: str) -> None:
    other = api.ok(201, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "name": "other"})["id"]
    record, bearer = issue(api, "write", "bay-1", campaign_id=cid)
    assert record["campaign_id"] == cid
    api.rejected(403, "POST", f"/api/v1/campaigns/{other}/results", json=result(), headers=bearer)
    api.rejected(403, "GET", f"/api/v1/campaigns/{other}", headers=bearer)
    api.ok(201, "POST", f"/api/v1/campaigns/{cid}/results", json=result(), headers=bearer)
    listed = api.ok(200, "GET", "/api/v1/campaigns", headers=bearer)
    assert [c["id"] for c in listed["items"]] == [cid] and listed["total"] == 1
    # limits are checked when issued
    api.rejected(
        404, "POST", "/api/v1/tokens", json={"scope": "write", "name": "x", "campaign_id": "nope"}
    )
    api.rejected(
        422, "POST", "/api/v1/tokens", json={"scope": "admin", "name": "x", "campaign_id": cid}
    )


def test_job_of_another_campaign_is_403_for_a_limited_token(api: Api, cid: str) -> None:
    other = api.ok(201, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "name": "other"})["id"]
    job = api.ok(202, "POST", f"/api/v1/campaigns/{other}/proposals", json={})
    mine = api.ok(202, "POST", f"/api/v1/campaigns/{cid}/proposals", json={})
    _, bearer = issue(api, "read", "viewer", campaign_id=cid)
    api.rejected(403, "GET", f"/api/v1/jobs/{job['id']}", headers=bearer)
    api.ok(200, "GET", f"/api/v1/jobs/{mine['id']}", headers=bearer)


def test_every_request_is_logged_by_token_name_never_the_token(
    api: Api, cid: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        record, bearer = issue(api, "write", "lims-bay-7")
        api.ok(201, "POST", f"/api/v1/campaigns/{cid}/results", json=result(), headers=bearer)
        api.rejected(
            403, "POST", "/api/v1/tokens", json={"scope": "read", "name": "x"}, headers=bearer
        )
        api.rejected(
            401, "GET", "/api/v1/campaigns", headers={"Authorization": "Bearer wrong-secret"}
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "intake.access"]
    assert any("POST /api/v1/campaigns/" in line and "token=lims-bay-7" in line for line in lines)
    assert any(" 401 " in line and "token=-" in line for line in lines)
    everything = caplog.text + "".join(lines)
    for secret in (record["token"], "admin-token", "wrong-secret"):
        assert secret not in everything


# -- idempotency ------------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_response(api: Api, redis_client: redis.Redis) -> None:
    key = {**ADMIN, "Idempotency-Key": "create-furnace-1"}
    first = api.client.post("/api/v1/campaigns", json=CAMPAIGN, headers=key)
    assert first.status_code == 201
    before = snapshot(redis_client)
    again = api.client.post("/api/v1/campaigns", json=dict(reversed(CAMPAIGN.items())), headers=key)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert snapshot(redis_client) == before  # nothing created twice
    problem = api.rejected(
        409, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "name": "x"}, headers=key
    )
    assert "Idempotency-Key" in problem["errors"]
    # another key is another request
    other = api.ok(
        201,
        "POST",
        "/api/v1/campaigns",
        json={**CAMPAIGN, "name": "furnace-k2"},  # names are unique per deployment
        headers={**ADMIN, "Idempotency-Key": "k2"},
    )
    assert other["id"] != first.get_json()["id"]


def test_idempotency_keys_are_scoped_per_token(api: Api) -> None:
    _, admin2 = issue(api, "admin", "second-admin")
    key = "same-key"
    one = api.ok(
        201, "POST", "/api/v1/campaigns", json=CAMPAIGN, headers={**ADMIN, "Idempotency-Key": key}
    )
    two = api.ok(
        201,
        "POST",
        "/api/v1/campaigns",
        json={**CAMPAIGN, "name": "furnace-2"},  # names are unique per deployment
        headers={**admin2, "Idempotency-Key": key},
    )
    assert one["id"] != two["id"]


def test_idempotency_on_tokens_proposals_and_benchmarks(
    api: Api, cid: str, redis_client: redis.Redis
) -> None:
    for url, body, status in (
        ("/api/v1/tokens", {"scope": "read", "name": "dash"}, 201),
        (f"/api/v1/campaigns/{cid}/proposals", {"batch_size": 2}, 202),
        (f"/api/v1/campaigns/{cid}/benchmarks", {"repeats": 2, "strategies": ["random"]}, 202),
    ):
        headers = {**ADMIN, "Idempotency-Key": f"key-{url}"}
        first = api.ok(status, "POST", url, json=body, headers=headers)
        before = snapshot(redis_client)
        assert api.ok(status, "POST", url, json=body, headers=headers) == first
        assert snapshot(redis_client) == before
        api.rejected(
            409,
            "POST",
            url,
            json={**body, "name": "other"} if "name" in body else {},
            headers=headers,
        )


def test_a_retry_while_the_first_still_runs_is_409_with_retry_after(api: Api, app: Flask) -> None:
    headers = {**ADMIN, "Idempotency-Key": "slow-one"}
    with app.test_request_context(
        "/api/v1/campaigns", method="POST", json=CAMPAIGN, headers=headers
    ):
        g.token = {"digest": digest("admin-token")}
        scoped, fingerprint = scope_key("slow-one"), request_fingerprint()
    store: Store = app.extensions["kiln_store"]
    assert store.idempotency.begin(scoped, fingerprint, 60) == ("new", None)  # the first request
    response = api.client.post("/api/v1/campaigns", json=CAMPAIGN, headers=headers)
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert response.get_json()["type"].endswith("idempotency-key-in-progress")
    store.idempotency.release(scoped, fingerprint)  # the first one failed: the key is free
    api.ok(201, "POST", "/api/v1/campaigns", json=CAMPAIGN, headers=headers)


def test_failed_request_frees_its_key_and_bad_keys_are_400(api: Api, cid: str) -> None:
    headers = {**ADMIN, "Idempotency-Key": "retry-me"}
    api.rejected(422, "POST", "/api/v1/campaigns", json={"name": "x"}, headers=headers)
    api.ok(201, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "name": "y"}, headers=headers)
    api.rejected(
        400,
        "POST",
        "/api/v1/campaigns",
        json=CAMPAIGN,
        headers={**ADMIN, "Idempotency-Key": "k" * 256},
    )
    api.rejected(
        400, "POST", "/api/v1/campaigns", json=CAMPAIGN, headers={**ADMIN, "Idempotency-Key": ""}
    )


# -- paging and jobs --------------------------------------------------------------------------------


def test_results_are_paged_with_next_links(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    api.ok(201, "POST", url, json=[result(f"s{i}") for i in range(5)])
    page = api.ok(200, "GET", f"{url}?limit=2")
    assert [r["sample_id"] for r in page["items"]] == ["s0", "s1"] and page["total"] == 5
    seen = [r["sample_id"] for r in page["items"]]
    while page["next"]:
        page = api.ok(200, "GET", page["next"])
        seen += [r["sample_id"] for r in page["items"]]
    assert seen == [f"s{i}" for i in range(5)]
    api.rejected(422, "GET", f"{url}?limit=0")
    api.rejected(422, "GET", f"{url}?offset=-1")
    api.rejected(422, "GET", "/api/v1/campaigns?limit=5000")
    api.rejected(422, "GET", "/api/v1/campaigns?offset=99999999999999999999")


def test_jobs_of_every_kind_are_readable(api: Api, cid: str) -> None:
    for kind, url in (("proposals", "proposals"), ("benchmarks", "benchmarks")):
        response = api.client.post(f"/api/v1/campaigns/{cid}/{url}", json={}, headers=ADMIN)
        assert response.status_code == 202
        job = api.ok(200, "GET", response.headers["Location"])
        assert job["kind"] == kind and job["state"] == "queued" and job["campaign_id"] == cid
        assert job["result"] is None and job["error"] is None
    api.rejected(404, "GET", "/api/v1/jobs/not-a-job")


# -- OpenAPI ----------------------------------------------------------------------------------------


def test_openapi_is_complete_enough_to_generate_a_client(api: Api) -> None:
    spec = api.ok(200, "GET", "/openapi.json")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            ids.append(op["operationId"])
            public = path in ("/healthz", "/readyz", "/metrics")
            assert op.get("security") == ([] if public else [{"bearerAuth": []}]), (method, path)
            for status, response in op["responses"].items():
                if status[0] in "45":
                    content = response["content"]["application/problem+json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
            if not public:
                assert {"401", "403", "503"} <= set(op["responses"]), (method, path)
            if "requestBody" in op:
                assert {"413", "415", "422"} <= set(op["responses"]), (method, path)
                if method == "post" and not path.endswith("/results"):
                    assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])
    assert len(ids) == len(set(ids)) and "postResults" in ids and "revokeToken" in ids
    results = spec["paths"]["/api/v1/campaigns/{campaign_id}/results"]["post"]["requestBody"]
    assert set(results["content"]) == {"application/json", "text/csv"}
    examples = results["content"]["application/json"]["examples"]
    assert examples["objective"]["value"]["sample_id"]
    assert examples["objectives"]["value"]["objectives"]
    create = spec["paths"]["/api/v1/campaigns"]["post"]["requestBody"]["content"]
    assert set(create["application/json"]["examples"]) == {
        "definition",
        "constrained",
        "objectives",
        "preset",
        "moo_preset",
        "furnace",
    }
    assert spec["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail", "errors"
    ]  # fmt: skip


# -- the loop ---------------------------------------------------------------------------------------


def test_counted_results_are_stored_and_in_the_next_models_data(
    api: Api, cid: str, celery_app: Celery, redis_client: redis.Redis, app: Flask
) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    rows = [
        result(f"s{i}", parameters={"temperature_c": t, "time_min": m, "atmosphere": a}, objective=y)
        for i, (t, m, a, y) in enumerate(
            [(800, 10, "air", 2e-6), (900, 30, "air", 3e-4), (1000, 60, "argon", 8e-4),
             (1100, 480, "air", 5e-5), (950, 30, "argon", 6e-4)]
        )
    ]  # fmt: skip
    rows.append(result("failed-1", status="failed", objective=None))
    rows[-1].pop("objective")
    answer = api.ok(201, "POST", url, json=rows)
    assert answer["stored"] == 6 and answer["data_version"] == 6
    store: Store = app.extensions["kiln_store"]
    assert [r["sample_id"] for r in store.results.all(cid)] == [r["sample_id"] for r in rows]
    assert redis_client.llen(Keys.results(cid)) == answer["data_version"]
    outcome = celery_app.tasks[task_names.REFIT](cid)
    model = api.ok(200, "GET", f"/api/v1/campaigns/{cid}/model")
    assert outcome["data_version"] == answer["data_version"] == model["data_version"]
    assert model["summary"]["n_observations"] == 5  # the failed synthesis is skipped, not fatal
    more = api.ok(
        201,
        "POST",
        url,
        json=result("s9", parameters={"temperature_c": 875, "time_min": 60, "atmosphere": "air"}),
    )
    celery_app.tasks[task_names.REFIT](cid)
    assert (
        api.ok(200, "GET", f"/api/v1/campaigns/{cid}/model")["data_version"]
        == more["data_version"]
        == 7
    )
