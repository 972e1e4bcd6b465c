"""Constraints and furnace-shared batches over HTTP (issue 17): a campaign takes ``constraints`` and
``strategy.batch_shared``, the ``latp-furnace`` preset, and every bad constraint is a 422 naming
its field that stores nothing.

Real Redis (the `redis_url` fixture), Flask's test client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY, FURNACE_PARAMETERS
from support.intake import ADMIN
from support.store_snapshot import snapshot

from kiln_services.intake.openapi_examples import CAMPAIGN_EXAMPLES
from kiln_services.store import Store

SPACE = FURNACE_PARAMETERS
HOT_AND_LONG = {"kind": "forbidden", "when": {"temperature_c": {">=": 1050}, "time_min": {">": 60}}}
SHARED = {"parameters": ["temperature_c", "time_min"], "groups": 2}


def campaign(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "furnace",
        "parameters": SPACE,
        "objective": CONDUCTIVITY,
        "strategy": {"batch_size": 4},
    }
    return {**body, **changes}


def post(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/campaigns", json=body, headers=ADMIN)


def rejected(client: FlaskClient, r: redis.Redis, body: dict[str, Any]) -> dict[str, Any]:
    """POST a campaign that must be refused with 422; its problem's errors."""
    before = snapshot(r)
    response = post(client, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert snapshot(r) == before, "a rejected request changed the store"
    errors: dict[str, Any] = json.loads(response.get_data(as_text=True))["errors"]
    return errors


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_constraints_and_sharing_are_stored_and_shown(client: FlaskClient) -> None:
    strategy = {"batch_size": 4, "batch_shared": SHARED}
    response = post(client, campaign(constraints=[HOT_AND_LONG], strategy=strategy))
    assert response.status_code == 201, response.get_data(as_text=True)
    got = client.get(response.headers["Location"], headers=ADMIN).get_json()
    assert got["constraints"] == [HOT_AND_LONG]
    assert got["strategy"]["batch_shared"] == SHARED


def test_a_campaign_without_constraints_stores_none(client: FlaskClient) -> None:
    response = post(client, campaign())
    assert response.status_code == 201
    assert "constraints" not in response.get_json()
    assert "batch_shared" not in response.get_json()["strategy"]


def test_the_latp_furnace_preset(client: FlaskClient) -> None:
    response = post(client, {"preset": "latp-furnace"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == "latp-furnace"
    assert body["strategy"]["batch_shared"] == {
        "parameters": ["temperature_c", "time_min"],
        "groups": 1,
    }
    assert body["strategy"]["batch_size"] == 6
    assert [c["kind"] for c in body["constraints"]] == ["forbidden"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"constraints": [{"kind": "linear", "terms": {"pressure": 1}, "op": "<=", "rhs": 1}]},
            "constraints.0.terms.pressure",
            "unknown parameter",
        ),
        (
            {"constraints": [{"kind": "forbidden", "when": {"atmosphere": {"==": "air"}}}]},
            "constraints.0.when.atmosphere.==",
            "categorical",
        ),
        (
            {
                "constraints": [
                    HOT_AND_LONG,
                    {"kind": "forbidden", "when": {"time_min": {"in": []}}},
                ]
            },
            "constraints.1.when.time_min.in",
            "non-empty",
        ),
        (
            {
                "strategy": {
                    "batch_size": 2,
                    "batch_shared": {"parameters": ["time_min"], "groups": 3},
                }
            },
            "strategy.batch_shared.groups",
            "larger than the batch",
        ),
        (
            {"strategy": {"batch_shared": {"parameters": ["time_min", "pressure"]}}},
            "strategy.batch_shared.parameters.1",
            "unknown parameter",
        ),
        (
            {"constraints": [{"kind": "linear", "terms": {"time_min": 1}, "op": "<=", "rhs": 5}]},
            "constraints",
            "constraints.0",
        ),
    ],
    ids=["unknown", "equals-categorical", "empty-in", "groups", "shared-unknown", "no-candidate"],
)
def test_bad_constraints_are_422_naming_the_field(
    client: FlaskClient, redis_client: redis.Redis, changes: dict[str, Any], field: str, words: str
) -> None:
    errors = rejected(client, redis_client, campaign(**changes))
    assert field in errors, errors
    assert words in " ".join(errors[field])


def test_a_preset_with_constraints_that_leave_nothing(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    nothing = {"kind": "linear", "terms": {"temperature_c": 1}, "op": ">=", "rhs": 5000}
    errors = rejected(client, redis_client, {"preset": "latp-furnace", "constraints": [nothing]})
    assert "constraints.0" in " ".join(errors["constraints"])


def created(client: FlaskClient, **changes: Any) -> str:
    response = post(client, campaign(**changes))
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def patch(client: FlaskClient, cid: str, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/v1/campaigns/{cid}", json=body, headers=ADMIN)


def pending_batch(store: Store, cid: str, points: list[dict[str, Any]]) -> None:
    header = {"job_id": "b1", "space_version": 1, "proposal_ttl_s": 3600}
    store.proposals.save_batch(cid, "b1", header, [{"parameters": p} for p in points])


def test_a_patch_of_constraints_makes_a_space_version_and_withdraws_what_breaks_them(
    client: FlaskClient, store: Store
) -> None:
    cid = created(client)
    hot = {"temperature_c": 1075, "time_min": 480, "atmosphere": "air"}
    mild = {"temperature_c": 900, "time_min": 480, "atmosphere": "air"}
    pending_batch(store, cid, [hot, mild])
    response = patch(client, cid, {"constraints": [HOT_AND_LONG]})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["space_version"] == 2 and body["constraints"] == [HOT_AND_LONG]
    assert [p["parameters"] for p in store.proposals.pending(cid)] == [mild]
    withdrawn, _ = store.proposals.page(cid, "withdrawn")
    assert [p["parameters"] for p in withdrawn] == [hot]
    assert "breaks constraints.0 (forbidden:" in withdrawn[0]["reason"]
    assert "space version 2" in withdrawn[0]["reason"]
    history = store.campaigns.space_history(cid)
    assert history[-1]["space_version"] == 1 and "constraints" not in history[-1]
    # The same constraints again: no new version; none: version 3, the history keeps them.
    assert patch(client, cid, {"constraints": [HOT_AND_LONG]}).get_json()["space_version"] == 2
    dropped = patch(client, cid, {"constraints": []}).get_json()
    assert dropped["space_version"] == 3 and "constraints" not in dropped
    assert store.campaigns.space_history(cid)[-1]["constraints"] == [HOT_AND_LONG]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"constraints": [{"kind": "forbidden", "when": {"time_min": {"in": []}}}]},
            "constraints.0.when.time_min.in",
        ),
        (
            {"constraints": [{"kind": "linear", "terms": {"time_min": 1}, "op": "<=", "rhs": 5}]},
            "constraints",
        ),
        (
            {"strategy": {"batch_shared": {"parameters": ["pressure"]}}},
            "strategy.batch_shared.parameters.0",
        ),
        (
            {"strategy": {"batch_shared": {"parameters": ["time_min"], "groups": 5}}},
            "strategy.batch_shared.groups",
        ),
    ],
    ids=["empty-in", "no-candidate", "shared-unknown", "groups"],
)
def test_a_bad_patch_is_422_naming_the_field_and_changes_nothing(
    client: FlaskClient, redis_client: redis.Redis, body: dict[str, Any], field: str
) -> None:
    cid = created(client)
    before = snapshot(redis_client)
    response = patch(client, cid, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(redis_client) == before


def test_a_result_that_breaks_a_constraint_is_stored_and_flagged(client: FlaskClient) -> None:
    cid = created(client, constraints=[HOT_AND_LONG])
    rows = [
        {"sample_id": sid, "objective": 1e-4,
         "parameters": {"temperature_c": t, "time_min": 480, "atmosphere": "air"}}
        for sid, t in (("hot", 1075), ("mild", 900))
    ]  # fmt: skip
    response = client.post(f"/api/v1/campaigns/{cid}/results", json=rows, headers=ADMIN)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    listed = client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()["items"]
    flags = {r["sample_id"]: r["flags"] for r in listed}
    assert flags["mild"] == []
    assert [f for f in flags["hot"] if f.startswith("breaks constraints.0 (forbidden:")], flags


@pytest.mark.parametrize("name", sorted(CAMPAIGN_EXAMPLES))
def test_every_documented_campaign_example_is_created(client: FlaskClient, name: str) -> None:
    response = post(client, CAMPAIGN_EXAMPLES[name]["value"])
    assert response.status_code == 201, response.get_data(as_text=True)


def test_a_patch_shares_parameters_and_null_ends_the_sharing(client: FlaskClient) -> None:
    cid = created(client)
    shared = patch(client, cid, {"strategy": {"batch_shared": SHARED}}).get_json()
    assert shared["strategy"]["batch_shared"] == SHARED and shared["space_version"] == 1
    kept = patch(client, cid, {"strategy": {"kappa": 1.0}}).get_json()
    assert kept["strategy"]["batch_shared"] == SHARED
    ended = patch(client, cid, {"strategy": {"batch_shared": None}}).get_json()
    assert "batch_shared" not in ended["strategy"] and ended["strategy"]["kappa"] == 1.0
