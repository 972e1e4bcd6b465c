"""Observability of the live stack: gunicorn's /metrics after a post and a refit, and the request
id of the post in the worker's log."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS

from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e]

RESULTS_ROUTE = "/api/v1/campaigns/<campaign_id>/results"
CAMPAIGN = {"parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY, "strategy": {"batch_size": 3}}
POINTS = [(800, 10), (850, 60), (900, 480), (950, 30), (1000, 120), (1050, 10), (925, 60)]


def scrape(stack: Stack) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = requests.get(f"{stack.base_url}/metrics", timeout=10)  # no token
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def posts(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    labels = frozenset({"method": "POST", "route": RESULTS_ROUTE, "status": "201"}.items())
    return samples.get(("kiln_http_requests_total", labels), 0.0)


def refits(samples: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    return samples.get(("kiln_refit_duration_seconds_count", frozenset()), 0.0)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_metrics_and_worker_log_follow_a_post_and_its_refit(stack: Stack, unique_name: str) -> None:
    auth = {"Authorization": f"Bearer {stack.admin_token}"}
    api = f"{stack.base_url}/api/v1"
    request_id = f"e2e-{secrets.token_hex(8)}"
    created = requests.post(
        f"{api}/campaigns", json={**CAMPAIGN, "name": unique_name}, headers=auth, timeout=30
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    before = scrape(stack)

    results = [
        {"sample_id": f"obs-{i}", "parameters": {"temperature_c": t, "time_min": m},
         "objective": 1e-4 * (1 + (t - 800) / 300) / (1 + abs(m - 60) / 60)}
        for i, (t, m) in enumerate(POINTS)
    ]  # fmt: skip
    posted = requests.post(
        f"{api}/campaigns/{cid}/results",
        json=results,
        headers={**auth, "X-Request-ID": request_id},
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    assert posted.headers["X-Request-ID"] == request_id

    def fitted() -> bool:
        model = requests.get(f"{api}/campaigns/{cid}/model", headers=auth, timeout=30)
        return model.status_code == 200 and model.json()["data_version"] == len(results)

    wait_for("the refit of the posted results", fitted)

    # Two gunicorn processes answer scrapes in turn: every scrape must show the same sums.
    for _ in range(6):
        after = scrape(stack)
        assert posts(after) >= posts(before) + 1
        assert after[("kiln_results", frozenset())] >= len(results)
        assert refits(after) >= max(1, refits(before) + 1)
        assert after[("kiln_store_up", frozenset())] == 1

    worker = next(child for child in stack.children if child.name == "worker")

    def refit_line() -> dict[str, Any] | None:
        for raw in worker.log_path.read_text(errors="replace").splitlines():
            if request_id not in raw or not raw.startswith("{"):
                continue
            line = json.loads(raw)
            if line.get("task") == "kiln.refit" and line.get("duration_ms") is not None:
                return line
        return None

    line = wait_for(f"a worker log line with {request_id}", refit_line, timeout=30)
    assert line["request_id"] == request_id and line["campaign_id"] == cid
    assert line["state"] == "SUCCESS" and line["task_id"]
