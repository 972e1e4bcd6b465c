"""kiln_client.client without a server: a requests adapter plays the server, so retries can be counted."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import requests
from fake_kiln import FakeServer, client_with

from kiln_client.client import (
    AuthError,
    Client,
    ClientError,
    ConnectionFailed,
    JobFailed,
    KilnAPIError,
    WaitTimeout,
    csv_chunks,
)

PROBLEM_503 = (
    503,
    {"title": "Service Unavailable", "status": 503, "detail": "retry later", "errors": {}},
    {"Retry-After": "2", "Content-Type": "application/problem+json"},
)
CAMPAIGN = {"id": "c1", "name": "x", "counts": {"results": 0}}


def test_a_503_is_retried_after_retry_after_and_the_post_keeps_its_idempotency_key() -> None:
    server = FakeServer(PROBLEM_503, PROBLEM_503, (201, CAMPAIGN, {}))
    client, slept = client_with(server)
    campaign = client.create_campaign(preset="latp")
    assert campaign["id"] == "c1"
    assert slept == [2.0, 2.0]
    keys = {r.headers["Idempotency-Key"] for r in server.seen}
    assert len(server.seen) == 3 and len(keys) == 1, "one key for all attempts of one call"
    assert json.loads(server.seen[0].body or b"{}") == {"preset": "latp"}
    assert server.seen[0].headers["Authorization"] == "Bearer secret-token"


def test_every_post_gets_a_fresh_key_unless_one_is_given() -> None:
    server = FakeServer((201, CAMPAIGN, {}))
    client, _ = client_with(server)
    client.create_campaign(preset="latp")
    client.create_campaign(preset="latp")
    client.create_campaign(preset="latp", idempotency_key="mine-1")
    keys = [r.headers["Idempotency-Key"] for r in server.seen]
    assert keys[0] != keys[1] and keys[2] == "mine-1"
    assert all(len(k) >= 6 for k in keys)


def test_retry_after_is_bounded_and_retries_run_out() -> None:
    huge = (503, {"title": "Service Unavailable"}, {"Retry-After": "3600"})
    server = FakeServer(huge)
    client, slept = client_with(server, retries=2, max_retry_after=5)
    with pytest.raises(KilnAPIError) as info:
        client.get_campaign("c1")
    assert info.value.status == 503
    assert slept == [5, 5]
    assert len(server.seen) == 3


def test_connection_errors_are_retried_with_backoff() -> None:
    lost = requests.ConnectionError("connection refused")
    server = FakeServer(lost, lost, (200, CAMPAIGN, {}))
    client, slept = client_with(server, backoff=0.1)
    assert client.get_campaign("c1")["id"] == "c1"
    assert slept == pytest.approx([0.1, 0.2])

    server = FakeServer(lost)
    client, slept = client_with(server, retries=2)
    with pytest.raises(ConnectionFailed, match="make run"):
        client.get_campaign("c1")
    assert len(server.seen) == 3 and len(slept) == 2


def test_a_post_is_retried_under_its_key_and_waits_while_the_first_attempt_runs() -> None:
    lost = requests.ConnectionError("reset")
    running = (
        409,
        {"type": "https://kiln.dev/problems/idempotency-key-in-progress", "title": "Conflict"},
        {},
    )
    server = FakeServer(lost, running, (201, CAMPAIGN, {"Idempotent-Replayed": "true"}))
    client, slept = client_with(server, backoff=0.1)
    assert client.create_campaign(preset="latp")["id"] == "c1"
    assert len({r.headers["Idempotency-Key"] for r in server.seen}) == 1
    assert len(slept) == 2

    server = FakeServer(lost)
    client, slept = client_with(server)
    with pytest.raises(ConnectionFailed):
        client.request("POST", "/campaigns", json={}, retry_connection=False)
    assert len(server.seen) == 1 and slept == []


def test_result_posts_are_retried_after_a_lost_connection_since_sample_ids_deduplicate() -> None:
    lost = requests.ConnectionError("reset")
    answer = {"stored": 1, "duplicates": 0, "data_version": 1}
    server = FakeServer(lost, (201, answer, {}))
    client, _ = client_with(server)
    posted = client.post_results("c1", {"sample_id": "S1", "parameters": {"a": 1}, "objective": 1})
    assert posted["stored"] == 1
    assert server.seen[0].headers["Idempotency-Key"] == server.seen[1].headers["Idempotency-Key"]


def test_problem_details_become_a_kiln_api_error_with_field_errors() -> None:
    problem = {
        "type": "https://kiln.dev/problems/validation-error",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "results.0.objective: must be positive; nothing was stored",
        "errors": {"results.0.objective": ["must be positive"]},
    }
    server = FakeServer((422, problem, {"Content-Type": "application/problem+json"}))
    client, _ = client_with(server)
    with pytest.raises(KilnAPIError) as info:
        client.post_results("c1", [{"sample_id": "S1", "parameters": {}, "objective": -1}])
    err = info.value
    assert (err.status, err.title) == (422, "Unprocessable Entity")
    assert err.errors == {"results.0.objective": ["must be positive"]}
    assert "nothing was stored" in str(err) and "POST /campaigns/c1/results" in str(err)
    assert not isinstance(err, AuthError)


@pytest.mark.parametrize(("status", "hint"), [(401, "KILN_TOKEN"), (403, "scope")])
def test_refused_tokens_raise_auth_errors_that_say_what_to_do(status: int, hint: str) -> None:
    server = FakeServer((status, {"title": "Unauthorized", "detail": "the token is unknown"}, {}))
    client, _ = client_with(server)
    with pytest.raises(AuthError, match=hint) as info:
        client.list_campaigns()
    assert info.value.status == status
    assert "secret-token" not in str(info.value) and "secret-token" not in repr(client)


def test_a_non_json_error_body_still_gives_a_readable_error() -> None:
    server = FakeServer((502, "<html>Bad Gateway</html>", {}))
    client, _ = client_with(server)
    with pytest.raises(KilnAPIError, match="HTTP 502") as info:
        client.get_campaign("c1")
    assert info.value.errors == {}


def test_listings_follow_next_links() -> None:
    first = {"items": [{"id": "a"}, {"id": "b"}], "next": "/api/v1/campaigns?offset=2&limit=2"}
    second = {"items": [{"id": "c"}], "next": None}
    server = FakeServer((200, first, {}), (200, second, {}))
    client, _ = client_with(server)
    assert [c["id"] for c in client.list_campaigns()] == ["a", "b", "c"]
    assert server.seen[1].url == "http://kiln.test/api/v1/campaigns?offset=2&limit=2"


def test_polling_the_latest_batch_handles_304_404_and_new_etags() -> None:
    batch = {"batch_id": "b1", "proposals": [{"id": "p1", "status": "pending"}]}
    none_yet = {"type": "https://kiln.dev/problems/no-batch", "title": "Not Found", "status": 404}
    server = FakeServer(
        (404, none_yet, {}),
        (200, batch, {"ETag": '"b1.1"'}),
        (304, None, {"ETag": '"b1.1"'}),
    )
    client, _ = client_with(server)
    empty = client.poll_proposals("c1")
    assert empty.batch is None and not empty.changed
    latest = client.poll_proposals("c1")
    assert latest.batch is not None and latest.etag == '"b1.1"' and latest.changed
    same = client.poll_proposals("c1", etag=latest.etag, wait=5)
    assert same.batch is None and same.etag == '"b1.1"'
    assert server.seen[2].headers["If-None-Match"] == '"b1.1"'
    assert "wait=5" in (server.seen[2].url or "")


def test_a_missing_campaign_is_not_mistaken_for_no_batch_yet() -> None:
    missing = {"type": "https://kiln.dev/problems/not-found", "title": "Not Found", "status": 404}
    client, _ = client_with(FakeServer((404, missing, {})))
    with pytest.raises(KilnAPIError) as info:
        client.poll_proposals("nope")
    assert info.value.status == 404


def test_waiting_for_a_job_reports_progress_failure_and_timeouts() -> None:
    running = {"id": "j1", "state": "running", "progress": {"chunks_done": 1, "chunks_total": 2}}
    done = {"id": "j1", "state": "done", "result": {"ok": True}}
    server = FakeServer((200, running, {}), (200, done, {}))
    client, _ = client_with(server)
    seen: list[str] = []
    job = client.wait_for_job("j1", on_update=lambda j: seen.append(j["state"]))
    assert job["result"] == {"ok": True} and seen == ["running", "done"]

    failed = {"id": "j2", "state": "failed", "kind": "benchmarks", "error": "too few results"}
    client, _ = client_with(FakeServer((200, failed, {})))
    with pytest.raises(JobFailed, match="too few results"):
        client.wait_for_job("j2")

    client, _ = client_with(FakeServer((200, running, {})))
    with pytest.raises(WaitTimeout, match="worker"):
        client.wait_for_job("j1", timeout=0)


def test_csv_is_posted_as_text_csv() -> None:
    server = FakeServer((201, {"stored": 2, "duplicates": 0}, {}))
    client, _ = client_with(server)
    client.post_results_csv("c1", "sample_id,a,objective\nS1,1,0.5\nS2,2,0.6\n")
    assert server.seen[0].headers["Content-Type"].startswith("text/csv")
    assert server.seen[0].body == b"sample_id,a,objective\nS1,1,0.5\nS2,2,0.6\n"


def test_csv_chunks_repeat_the_header_and_skip_blank_lines() -> None:
    text = "sample_id,a,objective\n" + "".join(f"S{i},{i},0.{i}\n\n" for i in range(1, 6))
    chunks = list(csv_chunks(text, 2))
    assert [n for _, n in chunks] == [2, 2, 1]
    assert all(c.startswith("sample_id,a,objective\n") for c, _ in chunks)
    assert chunks[2][0] == "sample_id,a,objective\nS5,5,0.5\n"
    assert list(csv_chunks("", 10)) == []


def test_slices_and_predictions_send_their_arguments() -> None:
    server = FakeServer((200, {"mean": [[1.0]]}, {}), (200, {"predictions": []}, {}))
    client, _ = client_with(server)
    client.model_slice("c1", "a", "b", fixed={"c": 3}, points=11)
    url = server.seen[0].url or ""
    assert "/campaigns/c1/model/slice?" in url
    assert "x=a" in url and "y=b" in url and "fixed.c=3" in url and "points=11" in url
    client.predict("c1", [{"a": 1, "b": 2}], acquisition="ei")
    assert json.loads(server.seen[1].body or b"{}") == {
        "points": [{"a": 1, "b": 2}],
        "acquisition": "ei",
    }


def test_slices_and_predictions_name_their_objective() -> None:
    server = FakeServer((200, {"mean": [[1.0]]}, {}), (200, {"predictions": []}, {}))
    client, _ = client_with(server)
    client.model_slice("c1", "a", "b", objective="relative_density")
    assert "objective=relative_density" in (server.seen[0].url or "")
    client.predict("c1", [{"a": 1}], objective="conductivity")
    assert json.loads(server.seen[1].body or b"{}") == {
        "points": [{"a": 1}],
        "objective": "conductivity",
    }


def test_from_env_reads_kiln_url_and_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KILN_URL", "http://lab:9000/")
    monkeypatch.setenv("KILN_TOKEN", "t0k")
    client = Client.from_env(timeout=3)
    assert client.base_url == "http://lab:9000" and client.timeout == 3
    assert client.session.headers["Authorization"] == "Bearer t0k"
    monkeypatch.delenv("KILN_TOKEN")
    monkeypatch.delenv("KILN_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("KILN_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(ClientError, match="KILN_TOKEN"):
        Client.from_env()


def test_a_long_poll_refused_with_429_waits_retry_after_and_polls_again() -> None:
    busy = (
        429,
        {"title": "Too Many Requests", "status": 429, "detail": "too many long-polls"},
        {"Retry-After": "5", "Content-Type": "application/problem+json"},
    )
    batch = {"batch_id": "b1", "proposals": []}
    server = FakeServer(busy, (200, batch, {"ETag": '"b1.1"'}))
    client, slept = client_with(server)
    latest = client.poll_proposals("c1", etag='"b0.1"', wait=30)
    assert latest.batch == batch and latest.etag == '"b1.1"'
    assert slept == [5.0] and len(server.seen) == 2
    # Still too many after every retry: nothing new, the caller polls again (no exception).
    server = FakeServer(busy, busy, busy, busy)
    client, slept = client_with(server)
    latest = client.poll_proposals("c1", etag='"b0.1"', wait=30)
    assert latest.batch is None and latest.etag == '"b0.1"' and not latest.changed
    assert slept == [5.0, 5.0, 5.0] and len(server.seen) == 4


# -- candidate pools ------------------------------------------------------------------------------


def test_candidates_are_added_as_json_rows_or_as_a_csv_file(tmp_path: Path) -> None:
    answer = {"added": 2, "ids": [4, 5], "total": 6, "space_version": 3}
    server = FakeServer((201, answer, {}))
    client, _ = client_with(server)
    rows = [{"x": 1.5, "c": "a"}, {"x": 2.0, "c": "b"}]
    assert client.add_candidates("c1", rows) == answer
    sent = server.seen[0]
    assert (sent.method, sent.url) == ("POST", "http://kiln.test/api/v1/campaigns/c1/candidates")
    assert json.loads(sent.body or b"[]") == rows
    assert sent.headers["Content-Type"] == "application/json"

    path = tmp_path / "lots.csv"
    path.write_text("x,c\n1.5,a\n2.0,b\n", encoding="utf-8")
    client.add_candidates("c1", path)
    client.add_candidates("c1", str(path), idempotency_key="lots-1")
    for sent in server.seen[1:]:
        assert sent.headers["Content-Type"].startswith("text/csv")
        assert sent.body == b"x,c\n1.5,a\n2.0,b\n"
    keys = [r.headers["Idempotency-Key"] for r in server.seen]
    assert len(set(keys)) == 3 and keys[2] == "lots-1"


def test_a_refused_candidate_row_is_an_api_error_naming_it() -> None:
    problem = {
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "candidates.1.x: 12 is outside the range [0, 10]; nothing was stored",
        "errors": {"candidates.1.x": ["12 is outside the range [0, 10]"]},
    }
    client, _ = client_with(FakeServer((422, problem, {})))
    with pytest.raises(KilnAPIError) as info:
        client.add_candidates("c1", [{"x": 1}, {"x": 12}])
    assert info.value.status == 422
    assert info.value.errors == {"candidates.1.x": ["12 is outside the range [0, 10]"]}


def test_listing_candidates_follows_pages_and_passes_the_status() -> None:
    first = {
        "items": [{"id": 0, "status": "outside"}, {"id": 3, "status": "outside"}],
        "next": "/api/v1/campaigns/c1/candidates?offset=2&limit=2&status=outside",
    }
    second = {"items": [{"id": 7, "status": "outside"}], "next": None}
    server = FakeServer((200, first, {}), (200, second, {}))
    client, _ = client_with(server)
    assert [c["id"] for c in client.list_candidates("c1", status="outside")] == [0, 3, 7]
    assert server.seen[0].url == (
        "http://kiln.test/api/v1/campaigns/c1/candidates?status=outside&limit=1000"
    )
    assert server.seen[1].url == (
        "http://kiln.test/api/v1/campaigns/c1/candidates?offset=2&limit=2&status=outside"
    )
    client, _ = client_with(FakeServer((200, {"items": [], "next": None}, {})))
    assert client.list_candidates("c1") == []


def test_removing_candidates_is_a_patch_retried_after_a_lost_connection() -> None:
    answer = {"removed": [2], "already_removed": [0], "withdrawn_proposals": [],
              "space_version": 4}  # fmt: skip
    lost = requests.ConnectionError("reset")
    server = FakeServer(lost, (200, answer, {}))
    client, slept = client_with(server, backoff=0.1)
    assert client.remove_candidates("c1", [2, 0], "lot used up") == answer
    assert len(server.seen) == 2 and slept == [0.1]
    sent = server.seen[1]
    assert (sent.method, sent.url) == ("PATCH", "http://kiln.test/api/v1/campaigns/c1/candidates")
    assert json.loads(sent.body or b"{}") == {"remove": [2, 0], "reason": "lot used up"}


def test_the_cli_offers_every_candidate_status_the_domain_has() -> None:
    # The CLI stays light (no numpy at start-up), so it spells the statuses out: keep them equal.
    from kiln.pool import STATUSES
    from kiln_client.cli import candidates_list

    option = next(p for p in candidates_list.params if p.name == "status")
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == STATUSES
