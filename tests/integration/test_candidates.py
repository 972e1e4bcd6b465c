"""Candidate pools over HTTP on a real Redis: creation, POST (JSON and CSV), GET statuses, PATCH.

Every refused request is checked to leave the store as it was.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from support.intake import ADMIN
from support.store_snapshot import snapshot as whole_store

from kiln.pool import CandidatePool
from kiln.space import SearchSpace
from kiln_services.intake.domain import campaign_definition
from kiln_services.store import Keys, Store

SPACE = [
    {"name": "x", "kind": "continuous", "low": 0, "high": 10, "step": 0.5},
    {"name": "n", "kind": "discrete", "values": [1, 2, 4]},
    {"name": "c", "kind": "categorical", "values": ["a", "b"]},
]
ROWS = [
    {"x": 1.5, "n": 1, "c": "a"},
    {"x": 2.25, "n": 2, "c": "b"},
    {"x": 7.0, "n": 4, "c": "a"},
    {"x": 9.5, "n": 1, "c": "b"},
]
CAMPAIGN = {
    "name": "pool",
    "parameters": SPACE,
    "objective": {"name": "y", "transform": "none"},
    "strategy": {"batch_size": 2, "auto_batch": False},
    "candidates": ROWS,
}


@pytest.fixture
def cid(client: FlaskClient) -> str:
    response = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json["id"]


def token(client: FlaskClient, scope: str) -> dict[str, str]:
    body = client.post("/api/v1/tokens", json={"scope": scope, "name": scope}, headers=ADMIN)
    return {"Authorization": f"Bearer {body.json['token']}"}


def snapshot(store: Store) -> dict[str, object]:
    """The whole store but the tokens (support.store_snapshot): a refused request changes none."""
    return {k: v for k, v in whole_store(store.redis).items() if "tokens" not in k}


def refused(client: FlaskClient, store: Store, method: str, url: str, body: object) -> dict:
    """Send a request that must be refused with 422 and change nothing; its errors by field."""
    before = snapshot(store)
    response = client.open(url, method=method, json=body, headers=ADMIN)
    assert response.status_code == 422, response.json
    assert snapshot(store) == before
    return response.json["errors"]


def listed(client: FlaskClient, cid: str, **query: object) -> dict:
    response = client.get(f"/api/v1/campaigns/{cid}/candidates", query_string=query,
                          headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.json
    return response.json


# ------------------------------------------------------------------------------- creation
def test_created_with_candidates(client: FlaskClient, cid: str, store: Store) -> None:
    campaign = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).json
    assert "candidates" not in campaign  # kept apart from the record
    assert campaign["counts"]["candidates"] == 4
    page = listed(client, cid)
    assert [c["id"] for c in page["items"]] == [0, 1, 2, 3]
    assert [c["parameters"] for c in page["items"]] == ROWS
    assert {c["status"] for c in page["items"]} == {"open"}
    assert page["counts"] == {"open": 4, "pending": 0, "measured": 0, "removed": 0, "outside": 0}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"x": 1.0, "n": 1}, "candidates.4.c"),
        ({"x": 11.0, "n": 1, "c": "a"}, "candidates.4.x"),
        ({"x": 1.0, "n": 3, "c": "a"}, "candidates.4.n"),
        ({"x": 1.0, "n": 1, "c": "z"}, "candidates.4.c"),
        ({"x": 1.0, "n": 1, "c": "a", "q": 2}, "candidates.4.q"),
        ({"x": "1", "n": 1, "c": "a"}, "candidates.4.x"),
        ({"x": 7.0, "n": 4.0, "c": "a"}, "candidates.4"),  # a duplicate of row 2
        (["not", "an", "object"], "candidates.4"),
    ],
)
def test_creation_refuses_bad_rows(
    client: FlaskClient, store: Store, row: object, field: str
) -> None:
    before = snapshot(store)
    body = {**CAMPAIGN, "candidates": [*ROWS, row]}
    response = client.post("/api/v1/campaigns", json=body, headers=ADMIN)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == [field]
    if field == "candidates.4":
        assert (
            "duplicates candidates[2]" in response.json["errors"][field][0]
            or "object" in (response.json["errors"][field][0])
        )
    assert snapshot(store) == before


def test_creation_refuses_a_non_list(client: FlaskClient, store: Store) -> None:
    before = snapshot(store)
    response = client.post("/api/v1/campaigns", json={**CAMPAIGN, "candidates": {"x": 1}},
                           headers=ADMIN)  # fmt: skip
    assert response.status_code == 422
    assert "candidates" in response.json["errors"]
    assert snapshot(store) == before


def test_store_api_matches_http(store: Store) -> None:
    # What a harness calls in-process: the same checks and the same stored rows as the POST.
    campaign = store.campaigns.create(campaign_definition(CAMPAIGN))
    assert store.candidates.snapshot(campaign["id"]).rows == ROWS
    definition = campaign_definition({**CAMPAIGN, "name": "pool-direct", "candidates": []})
    direct = store.campaigns.create({**definition, "candidates": ROWS})
    assert store.candidates.snapshot(direct["id"]).rows == ROWS


# ------------------------------------------------------------------------------------ POST
def test_post_json_list_and_object(client: FlaskClient, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/candidates"
    first = client.post(url, json=[{"x": 3.0, "n": 1, "c": "a"}], headers=ADMIN)
    assert first.status_code == 201, first.json
    assert first.json["ids"] == [4] and first.json["total"] == 5
    assert first.json["space_version"] == 2
    second = client.post(url, json={"candidates": [{"x": 3.5, "n": 1, "c": "a"}]}, headers=ADMIN)
    assert second.json["ids"] == [5] and second.json["space_version"] == 3
    assert client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).json["space_version"] == 3


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"x": 3.0, "n": 1, "c": "a"}, {"x": 3.0, "n": 1, "c": "a"}], "candidates.1"),
        ([{"x": 3.0, "n": 1, "c": "a"}, dict(ROWS[1])], "candidates.1"),  # an existing row
        ([{"x": 3.0, "n": 1, "c": "a"}, {"x": -1, "n": 1, "c": "a"}], "candidates.1.x"),
        ([], "candidates"),
    ],
)
def test_post_is_all_or_nothing(
    client: FlaskClient, cid: str, store: Store, rows: list, field: str
) -> None:
    errors = refused(client, store, "POST", f"/api/v1/campaigns/{cid}/candidates", rows)
    assert list(errors) == [field]


def test_post_csv(client: FlaskClient, cid: str, store: Store) -> None:
    url = f"/api/v1/campaigns/{cid}/candidates"
    csv_ok = "x,n,c\n3.0,1,a\n4.5,2,b\n"
    response = client.post(url, data=csv_ok, content_type="text/csv", headers=ADMIN)
    assert response.status_code == 201, response.json
    assert response.json["ids"] == [4, 5]
    assert store.candidates.snapshot(cid).rows[4:] == [{"x": 3.0, "n": 1, "c": "a"},
                                                  {"x": 4.5, "n": 2, "c": "b"}]  # fmt: skip
    before = snapshot(store)
    for body, field in [
        ("x,n,c\n5.0,1,a\n5.0,abc,a\n", "row.3.n"),  # not a number
        ("x,n,c\n5.0,1,a\n12.0,1,a\n", "row.3.x"),  # outside the range
        ("x,n,c\n5.0,1,a\n3.0,1,a\n", "row.3"),  # a duplicate of an existing row
        ("x,n\n5.0,1\n", "row.2.c"),  # a missing column
    ]:
        refused = client.post(url, data=body, content_type="text/csv", headers=ADMIN)
        assert refused.status_code == 422, (body, refused.json)
        assert list(refused.json["errors"]) == [field], body
    assert snapshot(store) == before


def test_scopes(client: FlaskClient, cid: str, store: Store) -> None:
    url = f"/api/v1/campaigns/{cid}/candidates"
    write, read = token(client, "write"), token(client, "read")
    before = snapshot(store)
    assert client.post(url, json=[{"x": 3.0, "n": 1, "c": "a"}], headers=write).status_code == 403
    patch = {"remove": [0], "reason": "lot used up"}
    assert client.patch(url, json=patch, headers=write).status_code == 403
    assert snapshot(store) == before
    assert client.get(url, headers=read).status_code == 200


# ------------------------------------------------------------------------ statuses, PATCH
def test_statuses_follow_results_and_proposals(client: FlaskClient, cid: str, store: Store) -> None:
    header = {"job_id": "b1", "space_version": 1, "proposal_ttl_s": 3600}
    store.proposals.save_batch(cid, "b1", header, [{"parameters": ROWS[1], "candidate": 1},
                                          {"parameters": ROWS[2], "candidate": 2}])  # fmt: skip
    results = [
        # names its proposal, measured at a slightly different set-point: still row 1
        {"sample_id": "s1", "parameters": {**ROWS[1], "x": 2.3}, "objective": 1.0,
         "proposal_id": "b1-0"},
        # no proposal: its values equal row 3 exactly (4 and 4.0 alike)
        {"sample_id": "s2", "parameters": {**ROWS[3], "n": 1.0}, "objective": 2.0},
        # off every row: measures nothing
        {"sample_id": "s3", "parameters": {"x": 5.0, "n": 2, "c": "a"}, "objective": 3.0},
    ]  # fmt: skip
    assert client.post(f"/api/v1/campaigns/{cid}/results", json=results,
                       headers=ADMIN).status_code == 201  # fmt: skip
    page = listed(client, cid)
    assert [c["status"] for c in page["items"]] == ["open", "measured", "pending", "measured"]
    assert page["counts"] == {"open": 1, "pending": 1, "measured": 2, "removed": 0, "outside": 0}
    only = listed(client, cid, status="measured")
    assert [c["id"] for c in only["items"]] == [1, 3] and only["total"] == 2
    assert [c["id"] for c in listed(client, cid, status="open")["items"]] == [0]
    paged = listed(client, cid, limit=3)
    assert len(paged["items"]) == 3 and paged["next"] is not None


def test_patch_removes_rows_and_withdraws_their_proposals(
    client: FlaskClient, cid: str, store: Store
) -> None:
    store.proposals.save_batch(cid, "b1", {"job_id": "b1", "space_version": 1, "proposal_ttl_s": 3600},
                      [{"parameters": ROWS[2], "candidate": 2}])  # fmt: skip
    url = f"/api/v1/campaigns/{cid}/candidates"
    response = client.patch(url, json={"remove": [2, 0], "reason": "lot used up"}, headers=ADMIN)
    assert response.status_code == 200, response.json
    assert response.json == {"removed": [0, 2], "already_removed": [],
                             "withdrawn_proposals": ["b1-0"], "space_version": 2}  # fmt: skip
    proposal = store.proposals.batch(cid, "b1")["proposals"][0]
    assert proposal["status"] == "withdrawn" and "lot used up" in proposal["reason"]
    page = listed(client, cid)
    assert [c["status"] for c in page["items"]] == ["removed", "open", "removed", "open"]
    assert page["items"][0]["reason"] == "lot used up"
    again = client.patch(url, json={"remove": [0], "reason": "again"}, headers=ADMIN)
    assert again.json["removed"] == [] and again.json["already_removed"] == [0]
    assert again.json["space_version"] == 2
    # a removed row's values may come back as a new row
    back = client.post(url, json=[ROWS[0]], headers=ADMIN)
    assert back.status_code == 201 and back.json["ids"] == [4]


def test_rows_a_range_patch_excludes_are_listed_as_outside(
    client: FlaskClient, cid: str, store: Store
) -> None:
    # Row 3 (x 9.5) is measured: that stays its status whatever the ranges.
    measured = {"sample_id": "s1", "parameters": ROWS[3], "objective": 1.0}
    assert client.post(f"/api/v1/campaigns/{cid}/results", json=measured,
                       headers=ADMIN).status_code == 201  # fmt: skip
    narrowed = [{**SPACE[0], "high": 5}, {**SPACE[1], "values": [1, 4]}, SPACE[2]]
    response = client.patch(f"/api/v1/campaigns/{cid}", json={"parameters": narrowed},
                            headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.json
    page = listed(client, cid)
    assert [c["status"] for c in page["items"]] == ["open", "outside", "outside", "measured"]
    assert page["counts"] == {"open": 1, "pending": 0, "measured": 1, "removed": 0, "outside": 2}
    row1, row2 = page["items"][1], page["items"][2]
    assert (
        row1["parameter"] == "n" and row1["reason"] == "n=2 is not one of [1, 4] in space version 2"
    )
    assert (
        row2["parameter"] == "x" and row2["reason"] == "x=7.0 is outside [0, 5] in space version 2"
    )
    assert "parameter" not in page["items"][0] and "parameter" not in page["items"][3]
    only = listed(client, cid, status="outside")
    assert [c["id"] for c in only["items"]] == [1, 2] and only["total"] == 2
    assert [c["id"] for c in listed(client, cid, status="open")["items"]] == [0]
    # The proposer closes the same rows (the measured row 3 lies outside too; the listing
    # shows what happened to it, measured).
    campaign = store.campaigns.get(cid)
    space = SearchSpace.from_dict({"parameters": campaign["parameters"], "version": 2})
    assert CandidatePool(space, store.candidates.snapshot(cid).rows).closed().tolist() == [
        False, True, True, True,
    ]  # fmt: skip
    widened = client.patch(f"/api/v1/campaigns/{cid}", json={"parameters": SPACE}, headers=ADMIN)
    assert widened.status_code == 200
    assert listed(client, cid)["counts"]["outside"] == 0


def test_a_range_patch_withdraws_pending_pool_rows_only_if_it_excludes_them(
    client: FlaskClient, cid: str, store: Store
) -> None:
    # Rows 1 (x 2.25, off the 0.5 step: fine in a pool) and 2 (x 7.0) are pending.
    header = {"job_id": "b1", "space_version": 1, "proposal_ttl_s": 3600}
    store.proposals.save_batch(cid, "b1", header, [{"parameters": ROWS[1], "candidate": 1},
                                          {"parameters": ROWS[2], "candidate": 2}])  # fmt: skip
    narrowed = [{**SPACE[0], "high": 5}, SPACE[1], SPACE[2]]
    response = client.patch(f"/api/v1/campaigns/{cid}", json={"parameters": narrowed},
                            headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.json
    kept, withdrawn = store.proposals.batch(cid, "b1")["proposals"]
    assert kept["status"] == "pending"
    assert withdrawn["status"] == "withdrawn"
    assert withdrawn["reason"] == "x=7.0 is outside [0, 5] in space version 2"
    assert [c["status"] for c in listed(client, cid)["items"]] == [
        "open", "pending", "outside", "outside",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"remove": [1, 9], "reason": "gone"}, "remove.1"),
        ({"remove": [], "reason": "gone"}, "remove"),
        ({"remove": [1]}, "reason"),
        ({"remove": ["1"], "reason": "gone"}, "remove.0"),
    ],
)
def test_patch_refuses_bad_requests(
    client: FlaskClient, cid: str, store: Store, body: dict, field: str
) -> None:
    errors = refused(client, store, "PATCH", f"/api/v1/campaigns/{cid}/candidates", body)
    assert field in errors


def test_campaign_without_a_pool(client: FlaskClient, store: Store) -> None:
    body = {k: v for k, v in CAMPAIGN.items() if k != "candidates"}
    cid = client.post("/api/v1/campaigns", json=body, headers=ADMIN).json["id"]
    page = listed(client, cid)
    assert page["items"] == [] and page["total"] == 0
    assert not store.redis.exists(Keys.candidates(cid))


def test_openapi_documents_the_endpoints(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    ops = spec["paths"]["/api/v1/campaigns/{campaign_id}/candidates"]
    assert {"get", "post", "patch"} <= set(ops)
