"""A parameter on a log scale over HTTP: created and shown, bad scales and non-positive lows are a
422 naming the field, and a PATCH may not change the scale."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY
from support.intake import ADMIN
from support.store_snapshot import snapshot

TIME = {"name": "time_min", "kind": "continuous", "low": 10, "high": 540, "unit": "min"}
TEMPERATURE = {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100}


def campaign(time: dict[str, Any]) -> dict[str, Any]:
    return {"name": "log-time", "parameters": [TEMPERATURE, time], "objective": CONDUCTIVITY}


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_a_log_parameter_is_created_and_shown(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/campaigns", json=campaign({**TIME, "scale": "log"}), headers=ADMIN
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    shown = client.get(f"/api/v1/campaigns/{response.get_json()['id']}", headers=ADMIN).get_json()
    assert shown["parameters"][1] == {**TIME, "scale": "log"}
    assert "scale" not in shown["parameters"][0]


def test_scale_linear_is_stored_as_no_scale(client: FlaskClient) -> None:
    body = campaign({**TIME, "scale": "linear"})
    response = client.post("/api/v1/campaigns", json=body, headers=ADMIN)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["parameters"][1] == TIME


@pytest.mark.parametrize(
    ("time", "field"),
    [
        ({**TIME, "scale": "cubic"}, "parameters.1.scale"),
        ({**TIME, "low": 0, "scale": "log"}, "parameters.1.low"),
        ({**TIME, "hard_low": 0, "scale": "log"}, "parameters.1.hard_low"),
        ({"name": "time_min", "kind": "discrete", "values": [0, 60], "scale": "log"}, "parameters.1.values"),
        ({"name": "time_min", "kind": "categorical", "values": ["short"], "scale": "log"}, "parameters.1.scale"),
    ],
    ids=["cubic", "low-0", "hard-low-0", "discrete-0", "categorical"],
)  # fmt: skip
def test_a_bad_scale_is_422_naming_the_field(
    client: FlaskClient, redis_client: redis.Redis, time: dict[str, Any], field: str
) -> None:
    before = snapshot(redis_client)
    response = client.post("/api/v1/campaigns", json=campaign(time), headers=ADMIN)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(redis_client) == before


def test_a_patch_keeps_the_scale_and_may_not_change_it(client: FlaskClient) -> None:
    body = campaign({**TIME, "scale": "log"})
    cid = client.post("/api/v1/campaigns", json=body, headers=ADMIN).get_json()["id"]
    url = f"/api/v1/campaigns/{cid}"
    refused = client.patch(
        url, json={"parameters": [TEMPERATURE, TIME | {"scale": "linear"}]}, headers=ADMIN
    )
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert list(refused.get_json()["errors"]) == ["parameters.1.scale"]
    narrowed = client.patch(
        url, json={"parameters": [TEMPERATURE, TIME | {"low": 20}]}, headers=ADMIN
    )
    assert narrowed.status_code == 200, narrowed.get_data(as_text=True)
    assert narrowed.get_json()["parameters"][1] == {**TIME, "low": 20, "scale": "log"}
