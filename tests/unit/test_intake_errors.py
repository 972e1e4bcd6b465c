"""One error shape: problem+json for validation, domain, HTTP and store-unavailable errors."""

from __future__ import annotations

import fakeredis
import pytest
from flask import Flask
from support.intake import ADMIN

from kiln.errors import InvalidObservationError, OutsideSpaceError, SpaceError
from kiln_services.devstack.redis_server import free_port
from kiln_services.intake import create_app
from kiln_services.intake.errors import field_path, flatten_messages, to_problem
from kiln_services.store import SampleConflict, Store


def test_flatten_nested_marshmallow_messages() -> None:
    messages = {"results": {0: {"parameters": {"x": ["bad"]}}, 2: {"_schema": ["whole row"]}}}
    assert flatten_messages(messages) == {
        "results.0.parameters.x": ["bad"],
        "results.2": ["whole row"],
    }
    assert field_path("parameters[2].high") == "parameters.2.high"


@pytest.mark.parametrize(
    ("exc", "status", "field"),
    [
        (OutsideSpaceError("temperature_c", "too hot"), 422, "parameters.temperature_c"),
        (InvalidObservationError("objective", "not positive"), 422, "objective"),
        (SpaceError("high below low", field="parameters[0].high"), 422, "parameters.0.high"),
        (SampleConflict(["S-1"]), 409, "sample_id"),
    ],
)
def test_domain_errors_map_to_problems(app: Flask, exc: Exception, status: int, field: str) -> None:
    with app.test_request_context():
        response = to_problem(exc)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    assert field in body["errors"]


def test_unknown_route_and_method_are_problems(app: Flask) -> None:
    client = app.test_client()
    for response in (client.get("/nope"), client.delete("/api/v1/campaigns", headers=ADMIN)):
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] in (404, 405)


def test_invalid_json_body_is_a_problem(app: Flask) -> None:
    response = app.test_client().post(
        "/api/v1/campaigns", data="{not json", content_type="application/json", headers=ADMIN
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_webargs_422_is_flattened_into_field_errors(app: Flask) -> None:
    response = app.test_client().post(
        "/api/v1/campaigns",
        json={"name": "x", "parameters": [{"name": "a", "kind": "weird"}], "objective": {}},
        headers=ADMIN,
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"]["parameters.0.kind"]
    assert body["errors"]["objective.name"] == ["Missing data for required field."]


def test_oversized_body_is_413_problem() -> None:
    app = create_app({"TESTING": True, "KILN_ADMIN_TOKEN": "t", "MAX_CONTENT_LENGTH": 100})
    app.extensions["kiln_store"] = Store(fakeredis.FakeRedis(decode_responses=True))
    response = app.test_client().post(
        "/api/v1/campaigns/c/results",
        json={"results": ["x" * 500]},
        headers={"Authorization": "Bearer t"},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_redis_down_is_503_with_retry_after() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app({"TESTING": True, "REDIS_URL": dead, "KILN_ADMIN_TOKEN": "t"})
    app.extensions["kiln_store"] = Store.from_url(dead, timeout=0.5)
    client = app.test_client()
    response = client.get("/api/v1/campaigns", headers={"Authorization": "Bearer t"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.get_json()["type"].endswith("store-unavailable")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503


def test_method_not_allowed_keeps_its_allow_header(app: Flask) -> None:
    response = app.test_client().put("/api/v1/campaigns", headers=ADMIN)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.mimetype == "application/problem+json"
