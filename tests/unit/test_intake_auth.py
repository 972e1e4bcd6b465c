"""Bearer tokens: hashed at rest, nested scopes, 401 vs 403, public health and spec."""

from __future__ import annotations

import logging

import fakeredis
import pytest
from flask import Flask

from kiln_services.intake import create_app
from kiln_services.intake.auth import digest, grants
from kiln_services.store import Keys, Store


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_scopes_nest() -> None:
    assert grants("admin", "write") and grants("admin", "read") and grants("write", "read")
    assert not grants("read", "write") and not grants("write", "admin")
    assert not grants("bogus", "read")


def test_missing_or_bad_token_is_401(app: Flask) -> None:
    client = app.test_client()
    for headers in ({}, bearer("wrong"), {"Authorization": "Basic abc"}, bearer("")):
        response = client.get("/api/v1/campaigns", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.mimetype == "application/problem+json"


def test_issued_tokens_are_stored_hashed_and_scoped(app: Flask, fake: fakeredis.FakeRedis) -> None:
    client = app.test_client()
    issued = client.post(
        "/api/v1/tokens", json={"scope": "read", "name": "dashboard"}, headers=bearer("admin-token")
    )
    assert issued.status_code == 201
    token = issued.get_json()["token"]
    stored = fake.hgetall(Keys.tokens)
    assert list(stored) == [digest(token)]
    assert token not in str(stored)
    assert client.get("/api/v1/campaigns", headers=bearer(token)).status_code == 200
    forbidden = client.post("/api/v1/campaigns", json={"preset": "latp"}, headers=bearer(token))
    assert forbidden.status_code == 403
    assert "admin" in forbidden.get_json()["detail"]


def test_write_token_cannot_create_campaigns_or_tokens(app: Flask) -> None:
    client = app.test_client()
    token = client.post(
        "/api/v1/tokens", json={"scope": "write", "name": "lims"}, headers=bearer("admin-token")
    ).get_json()["token"]
    assert client.post("/api/v1/campaigns", json={}, headers=bearer(token)).status_code == 403
    response = client.post(
        "/api/v1/tokens", json={"scope": "admin", "name": "x"}, headers=bearer(token)
    )
    assert response.status_code == 403


def test_auth_comes_before_body_validation(app: Flask) -> None:
    response = app.test_client().post("/api/v1/campaigns", json={"bogus": 1})
    assert response.status_code == 401


def test_public_endpoints_need_no_token(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/healthz").status_code == 200
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/campaigns/{campaign_id}/results" in spec.get_json()["paths"]
    assert client.get("/api/v1/openapi.json").get_json()["paths"] == spec.get_json()["paths"]


def test_without_env_token_one_admin_token_is_generated_and_logged_once(
    fake: fakeredis.FakeRedis, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KILN_ADMIN_TOKEN", raising=False)
    apps = []
    for _ in range(2):  # two gunicorn workers start against one Redis
        app = create_app({"TESTING": True, "REDIS_URL": "redis://127.0.0.1:1/0"})
        app.extensions["kiln_store"] = Store(fake)
        apps.append(app)
    with caplog.at_level(logging.WARNING):
        for app in apps:
            app.test_client().get("/api/v1/campaigns")
    announced = [
        r.getMessage() for r in caplog.records if "generated the first admin" in r.getMessage()
    ]
    assert len(announced) == 1
    token = announced[0].rsplit(" ", 1)[-1]
    assert fake.get(Keys.bootstrap_admin) == digest(token)
    for app in apps:
        response = app.test_client().get("/api/v1/campaigns", headers=bearer(token))
        assert response.status_code == 200
