"""Campaign names and the names of live tokens are unique per deployment (issue 14 item 5).

A second one answers 409 naming the field and the existing id, and stores nothing; a Redis
written before names were unique keeps its duplicates working and refuses only new ones.
"""

from __future__ import annotations

import json

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from test_contract_validation import ADMIN, CAMPAIGN, Api

from kiln_services.store import Keys, NameTaken, Store

URL = "/api/v1/campaigns"


@pytest.fixture
def api(app: Flask, redis_client: redis.Redis) -> Api:
    return Api(app.test_client(), redis_client)


def _campaign(api: Api, name: str) -> str:
    return str(api.ok(201, "POST", URL, json={**CAMPAIGN, "name": name})["id"])


def test_a_second_campaign_with_a_taken_name_is_refused(api: Api) -> None:
    first = _campaign(api, "latp-bench-3")
    problem = api.rejected(409, "POST", URL, json={**CAMPAIGN, "name": "latp-bench-3"})
    assert list(problem["errors"]) == ["name"] and first in problem["errors"]["name"][0]
    assert first in problem["detail"]
    listed = api.ok(200, "GET", URL)
    assert [c["id"] for c in listed["items"]] == [first]


def test_a_preset_campaign_under_a_taken_name_is_refused(api: Api) -> None:
    first = str(api.ok(201, "POST", URL, json={"preset": "latp"})["id"])
    problem = api.rejected(409, "POST", URL, json={"preset": "latp"})
    assert first in problem["errors"]["name"][0]
    api.ok(201, "POST", URL, json={"preset": "latp", "name": "latp-second"})


def test_a_rename_to_a_taken_name_is_refused_and_frees_the_old_one(api: Api) -> None:
    taken, moving = _campaign(api, "taken"), _campaign(api, "moving")
    problem = api.rejected(409, "PATCH", f"{URL}/{moving}", json={"name": "taken"})
    assert taken in problem["errors"]["name"][0]
    assert api.ok(200, "PATCH", f"{URL}/{moving}", json={"name": "moved"})["name"] == "moved"
    _campaign(api, "moving")  # the old name is free again
    api.rejected(409, "POST", URL, json={**CAMPAIGN, "name": "moved"})


def test_a_second_token_with_a_taken_name_is_refused(api: Api) -> None:
    first = api.ok(201, "POST", "/api/v1/tokens", json={"scope": "write", "name": "furnace-2"})
    body = {"scope": "read", "name": "furnace-2"}
    problem = api.rejected(409, "POST", "/api/v1/tokens", json=body)
    assert list(problem["errors"]) == ["name"] and first["id"] in problem["errors"]["name"][0]
    names = [t["name"] for t in api.ok(200, "GET", "/api/v1/tokens")["items"]]
    assert names.count("furnace-2") == 1


def test_a_revoked_tokens_name_may_be_given_again(api: Api) -> None:
    first = api.ok(201, "POST", "/api/v1/tokens", json={"scope": "write", "name": "furnace-2"})
    revoked = api.client.delete(f"/api/v1/tokens/{first['id']}", headers=ADMIN)
    assert revoked.status_code == 204
    again = api.ok(201, "POST", "/api/v1/tokens", json={"scope": "write", "name": "furnace-2"})
    assert again["id"] != first["id"]
    api.rejected(409, "POST", "/api/v1/tokens", json={"scope": "read", "name": "furnace-2"})


def test_the_listing_filters_by_exact_name(api: Api, client: FlaskClient) -> None:
    wanted = _campaign(api, "latp-2026")
    _campaign(api, "latp-2026-b")
    found = api.ok(200, "GET", f"{URL}?name=latp-2026")
    assert [c["id"] for c in found["items"]] == [wanted] and found["total"] == 1
    assert found["items"][0]["counts"]["results"] == 0
    none = api.ok(200, "GET", f"{URL}?name=latp")
    assert none["items"] == [] and none["total"] == 0
    assert client.get(f"{URL}?name=", headers=ADMIN).status_code == 422


def test_duplicates_stored_before_the_rule_keep_working(
    api: Api, redis_client: redis.Redis
) -> None:
    # Two campaigns named alike, as a deployment stored them before names were unique.
    old1, old2 = _campaign(api, "twin"), _campaign(api, "other")
    record = json.loads(redis_client.get(Keys.campaign(old2)))
    redis_client.set(Keys.campaign(old2), json.dumps({**record, "name": "twin"}))
    redis_client.delete(Keys.campaign_names)
    problem = api.rejected(409, "POST", URL, json={**CAMPAIGN, "name": "twin"})
    assert old1 in problem["errors"]["name"][0]  # the oldest holds the name
    found = api.ok(200, "GET", f"{URL}?name=twin")
    assert [c["id"] for c in found["items"]] == [old1, old2]
    api.ok(200, "PATCH", f"{URL}/{old2}", json={"description": "still editable"})
    api.ok(200, "PATCH", f"{URL}/{old1}", json={"name": "single"})
    api.rejected(409, "POST", URL, json={**CAMPAIGN, "name": "twin"})  # old2 holds it now
    fresh = _campaign(api, "other")
    assert redis_client.hgetall(Keys.campaign_names) == {
        "single": old1,
        "twin": old2,
        "other": fresh,
    }


def test_the_store_refuses_a_taken_name_atomically(store: Store) -> None:
    store.tokens.add("d1", "read", "bay")
    try:
        store.tokens.add("d2", "read", "bay")
    except NameTaken as taken:
        assert (taken.what, taken.name) == ("token", "bay")
    else:
        raise AssertionError("a second token named 'bay' was stored")
    assert store.tokens.get("d2") is None
