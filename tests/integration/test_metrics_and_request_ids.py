"""/metrics, request ids and JSON log lines, on a real Redis through Flask's test client.

The worker side runs the message the intake really enqueued through Celery's own tracer (what a
worker process does with it), so the request id is checked from the HTTP header to the task's log.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.app.trace import trace_task
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN, intake_app
from support.json_logs import captured, parsed

from kiln_services import logs, task_names
from kiln_services.store import Store
from kiln_services.store.metrics import REFIT_BUCKETS
from kiln_services.worker import metrics as worker_metrics
from kiln_services.worker import tasklog
from kiln_services.worker.factory import make_celery

CAMPAIGN = {
    "name": "grid",
    "parameters": GRID_PARAMETERS,
    "objective": CONDUCTIVITY,
    "strategy": {"batch_size": 3, "auto_batch": True},
}
POINTS = [(800, 10), (850, 60), (900, 480), (950, 30), (1000, 120), (1050, 10), (925, 60)]
RESULTS = [
    {"sample_id": f"s{i}", "parameters": {"temperature_c": t, "time_min": m},
     "objective": 1e-4 * (1 + (t - 800) / 300) / (1 + abs(m - 60) / 60)}
    for i, (t, m) in enumerate(POINTS)
]  # fmt: skip

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def cid(client: FlaskClient) -> str:
    response = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """JSON lines of every logger, as the gunicorn and Celery processes write them."""
    with captured("INFO") as out:
        yield out


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain" and "version=" in response.headers["Content-Type"]
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def requests_of(samples: Samples, method: str, route: str, status: int) -> float:
    labels = frozenset({"method": method, "route": route, "status": str(status)}.items())
    return samples.get(("kiln_http_requests_total", labels), 0.0)


# -- /metrics -------------------------------------------------------------------------------------


def test_request_counts_grow_under_route_templates(client: FlaskClient, cid: str) -> None:
    route = "/api/v1/campaigns/<campaign_id>"
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).status_code == 200
    assert client.get(f"/api/v1/campaigns/{cid}").status_code == 401
    assert client.get("/no/such/page-xyz").status_code == 404
    after = scrape(client)
    assert requests_of(after, "GET", route, 200) - requests_of(before, "GET", route, 200) == 3
    assert requests_of(after, "GET", route, 401) - requests_of(before, "GET", route, 401) == 1
    assert requests_of(after, "GET", "<unmatched>", 404) >= 1
    labels = {value for (_, pairs) in after for (_, value) in pairs}
    assert not any(cid in value or "page-xyz" in value for value in labels), "raw paths leaked"
    count = frozenset({"method": "GET", "route": route, "status": "200"}.items())
    assert after[("kiln_http_request_duration_seconds_count", count)] >= 3
    inf = frozenset({**dict(count), "le": "+Inf"}.items())
    assert after[("kiln_http_request_duration_seconds_bucket", inf)] >= 3


def test_store_gauges_and_refit_durations_come_from_redis(
    client: FlaskClient, store: Store, cid: str, redis_url: str, redis_client: redis.Redis
) -> None:
    assert client.post(f"/api/v1/campaigns/{cid}/results", json=RESULTS[:3], headers=ADMIN)
    store.workers.heartbeat("worker@test")
    redis_client.rpush(task_names.BENCHMARKS_QUEUE, "{}", "{}")
    # What workers elsewhere recorded: two refits, 0.2 s and 3 s.
    other = Store.from_url(redis_url)
    other.metrics.record_refit(0.2)
    other.metrics.record_refit(3.0)
    samples = scrape(client)
    assert samples[("kiln_store_up", frozenset())] == 1
    assert samples[("kiln_campaigns", frozenset())] == 1
    assert samples[("kiln_results", frozenset())] == 3
    assert samples[("kiln_proposals_pending", frozenset())] == 0
    assert samples[("kiln_workers_live", frozenset())] == 1
    assert samples[("kiln_queue_length", frozenset({("queue", "proposals")}))] == 1  # a refit
    assert samples[("kiln_queue_length", frozenset({("queue", "benchmarks")}))] == 2
    assert samples[("kiln_refit_duration_seconds_count", frozenset())] == 2
    assert samples[("kiln_refit_duration_seconds_sum", frozenset())] == pytest.approx(3.2)

    def bucket(le: str) -> float:
        return samples[("kiln_refit_duration_seconds_bucket", frozenset({("le", le)}))]

    assert bucket("0.1") == 0 and bucket("0.25") == 1 and bucket("2.5") == 1
    assert bucket("5.0") == 2 and bucket("+Inf") == 2
    assert (
        len([k for k in samples if k[0] == "kiln_refit_duration_seconds_bucket"])
        == len(REFIT_BUCKETS) + 1
    )


def test_metrics_without_redis_still_answer_with_the_store_down() -> None:
    client = intake_app("redis://127.0.0.1:1/0").test_client()
    assert client.get("/healthz").status_code == 200
    samples = scrape(client)
    assert samples[("kiln_store_up", frozenset())] == 0
    assert requests_of(samples, "GET", "/healthz", 200) >= 1
    assert not any(name == "kiln_results" for name, _ in samples)


def test_metrics_need_no_token_and_openmetrics_is_negotiated(client: FlaskClient) -> None:
    response = client.get(
        "/api/v1/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/openmetrics-text"
    assert response.get_data(as_text=True).endswith("# EOF\n")


def test_counts_of_every_process_are_summed(redis_url: str, tmp_path: Path) -> None:
    """Two processes (as gunicorn runs them) answer requests; one scrape shows them all."""
    script = textwrap.dedent(
        f"""
        import sys
        from kiln_services.intake import create_app
        app = create_app({{"TESTING": True, "REDIS_URL": {redis_url!r},
                          "KILN_ADMIN_TOKEN": "admin-token"}})
        client = app.test_client()
        for _ in range(int(sys.argv[1])):
            assert client.get("/healthz").status_code == 200
        """
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", script, str(n)], env=env, check=True, timeout=120)
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per process and metric kind
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
        samples = scrape(intake_app(redis_url).test_client())
    assert requests_of(samples, "GET", "/healthz", 200) == 7
    assert samples[("kiln_results", frozenset())] == 0  # the store's gauges come along


def test_a_refit_that_ran_is_timed_a_skipped_one_is_not(redis_url: str) -> None:
    store = Store.from_url(redis_url)
    assert worker_metrics.timed_refit(store, lambda: {"rounds": 1}) == {"rounds": 1}
    worker_metrics.timed_refit(store, lambda: {"skipped": "another refit holds the lock"})
    histogram = store.metrics.refit_histogram()
    assert histogram["count"] == 1 and 0 <= histogram["sum"] < 5
    assert histogram["buckets"][-1] == (REFIT_BUCKETS[-1], 1)
    # Redis away: the sample is lost, the refit's outcome is not.
    gone = Store.from_url("redis://127.0.0.1:1/0", timeout=0.5)
    assert worker_metrics.timed_refit(gone, lambda: {"rounds": 2}) == {"rounds": 2}


# -- request ids ----------------------------------------------------------------------------------


def test_a_sane_request_id_is_echoed(client: FlaskClient) -> None:
    for sane in ("abc-123", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "Root=1-5e:a+b/c_d.e"):
        response = client.get("/healthz", headers={"X-Request-ID": sane})
        assert response.headers["X-Request-ID"] == sane


def test_a_request_id_is_made_when_absent_or_not_sane(client: FlaskClient) -> None:
    made = client.get("/healthz").headers["X-Request-ID"]
    again = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0 and made != again
    for bad in ("x" * 129, "two words", "semi;colon", 'quote"d', "ünïcode", "tab\there"):
        echoed = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32


def test_problems_carry_the_request_id(client: FlaskClient, cid: str) -> None:
    unauthorised = client.get("/api/v1/campaigns", headers={"X-Request-ID": "req-401"})
    assert unauthorised.status_code == 401
    assert unauthorised.get_json()["request_id"] == "req-401"
    invalid = client.post(
        f"/api/v1/campaigns/{cid}/results",
        json={"sample_id": "x"},
        headers={**ADMIN, "X-Request-ID": "req-422"},
    )
    assert invalid.status_code == 422 and invalid.get_json()["request_id"] == "req-422"
    assert invalid.headers["X-Request-ID"] == "req-422"


def test_the_request_id_travels_with_the_task_to_the_worker_log(
    client: FlaskClient, cid: str, redis_url: str, redis_client: redis.Redis, log_lines: io.StringIO
) -> None:
    posted = client.post(
        f"/api/v1/campaigns/{cid}/results",
        json=RESULTS,
        headers={**ADMIN, "X-Request-ID": "lims-run-42"},
    )
    assert posted.status_code == 201 and posted.get_json()["refit_enqueued"]
    (raw,) = redis_client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)
    message = json.loads(raw)
    headers = message["headers"]
    assert headers["task"] == task_names.REFIT
    assert headers[task_names.REQUEST_ID_HEADER] == "lims-run-42"
    assert headers[task_names.CAMPAIGN_ID_HEADER] == cid

    # What a worker process does with the message: Celery's tracer, signals and all.
    celery: Celery = make_celery(redis_url)
    celery.loader.import_default_modules()
    try:
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        task = celery.tasks[headers["task"]]
        request = {**headers, "delivery_info": {"routing_key": task_names.PROPOSALS_QUEUE}}
        trace_task(task, headers["id"], args, kwargs, request=request, app=celery)
    finally:
        celery.close()

    lines = parsed(log_lines)
    access = [line for line in lines if line["logger"] == "intake.access"]
    assert access and access[0]["request_id"] == "lims-run-42"
    (done,) = [line for line in lines if line["logger"] == "worker.tasklog"]
    assert done["request_id"] == "lims-run-42" and done["state"] == "SUCCESS"
    assert done["task"] == task_names.REFIT and done["task_id"] == headers["id"]
    assert done["campaign_id"] == cid and done["duration_ms"] >= 0
    assert logs.bound() == {}, "the task's ids stay bound after it ended"
    # The batch the refit asked for (auto_batch) carries the same id to the next task.
    follow = [json.loads(r) for r in redis_client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)]
    (propose,) = [m["headers"] for m in follow if m["headers"]["task"] == task_names.PROPOSE]
    assert propose[task_names.REQUEST_ID_HEADER] == "lims-run-42"
    assert propose[task_names.CAMPAIGN_ID_HEADER] == cid
    assert Store.from_url(redis_url).metrics.refit_histogram()["count"] == 1


def test_an_enqueue_outside_a_request_has_no_request_id(app: Flask, cid: str) -> None:
    from kiln_services.intake.observability import task_headers

    with app.app_context():
        assert task_headers() == {}


# -- log lines ------------------------------------------------------------------------------------


def test_the_access_line_is_json_with_fields_and_never_the_token(
    client: FlaskClient, cid: str, log_lines: io.StringIO
) -> None:
    client.get(f"/api/v1/campaigns/{cid}", headers={**ADMIN, "X-Request-ID": "r-1"})
    client.get("/api/v1/campaigns", headers={"Authorization": "Bearer wrong-secret"})
    first, second = [line for line in parsed(log_lines) if line["logger"] == "intake.access"]
    assert first["level"] == "INFO" and first["time"]
    assert first["method"] == "GET" and first["path"] == f"/api/v1/campaigns/{cid}"
    assert first["route"] == "/api/v1/campaigns/<campaign_id>" and first["status"] == 200
    assert first["token_name"] == "KILN_ADMIN_TOKEN" and first["request_id"] == "r-1"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["status"] == 401 and second["token_name"] == "-"
    assert len(second["request_id"]) == 32
    text = log_lines.getvalue()
    assert "admin-token" not in text and "wrong-secret" not in text


def test_app_lines_in_a_request_carry_its_id(
    app: Flask, client: FlaskClient, log_lines: io.StringIO
) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    response = client.get("/boom", headers={**ADMIN, "X-Request-ID": "r-500"})
    assert response.status_code == 500 and response.get_json()["request_id"] == "r-500"
    error = next(line for line in parsed(log_lines) if line["level"] == "ERROR")
    assert error["request_id"] == "r-500" and "kaboom" in error["exc_info"]
    assert logs.bound() == {}


def test_the_worker_configures_its_lines_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    level = root.level
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    try:
        tasklog.configure_logging(loglevel=logging.DEBUG)  # --loglevel; LOG_LEVEL wins
        (handler,) = [h for h in root.handlers if getattr(h, "_kiln", False)]
        assert root.level == logging.WARNING
        assert isinstance(handler.formatter, type(logs.json_formatter()))
        monkeypatch.setenv("LOG_FORMAT", "yaml")
        tasklog.configure_logging(loglevel=logging.DEBUG)  # logs anyway, and says why
        (handler,) = [h for h in root.handlers if getattr(h, "_kiln", False)]
        assert root.level == logging.INFO
        assert isinstance(handler.formatter, type(logs.json_formatter()))
    finally:
        for h in [h for h in root.handlers if getattr(h, "_kiln", False)]:
            root.removeHandler(h)
        root.setLevel(level)
