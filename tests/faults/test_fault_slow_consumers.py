"""Fault 6: 100 clients long-poll for the next batch at once; the intake keeps serving writes.

gunicorn runs 2 processes x 8 threads (gthread). Each long-poll holds a thread while it waits,
so without a cap the first sixteen would take every thread for their whole wait and a lab's
result post would queue behind them. With the cap (intake.longpoll), at most
KILN_LONG_POLL_SLOTS requests wait per process and the rest are answered 429 + Retry-After at
once. The test sends all 100 long-polls (30 s each), then posts results and reads /healthz: they
must be answered while every admitted long-poll is still waiting (none has run out its 30 s),
which is an order of events, not a timing. A new batch then ends the wait for the admitted ones.
"""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from faultkit import Live, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

POLLERS = 100
WAIT_S = 30
PER_PROCESS_SLOTS = 4  # the default: half of gunicorn's 8 threads


@dataclass
class LongPoll:
    """One client's GET …/proposals/latest?wait=30 with If-None-Match: sent, then answered."""

    sent: threading.Event = field(default_factory=threading.Event)
    status: int | str | None = None
    retry_after: str | None = None
    answered: threading.Event = field(default_factory=threading.Event)


def long_poll(url: str, headers: dict[str, str], poll: LongPoll) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=WAIT_S + 60)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
        poll.sent.set()
        response = connection.getresponse()
        response.read()
        poll.status, poll.retry_after = response.status, response.getheader("Retry-After")
    except OSError as exc:
        poll.status = type(exc).__name__
    finally:
        poll.sent.set()
        poll.answered.set()
        connection.close()


def test_a_hundred_long_polls_leave_the_intake_free_for_writes(live: Live) -> None:
    store, api = live.store, live.api
    body = latp_campaign("slow-consumers")
    body["strategy"] = {**body["strategy"], "auto_batch": False}
    cid = api.campaign(body)
    grid = VirtualLatpLab(seed=31).seed_grid()
    api.ok(api.post(f"/campaigns/{cid}/results", json=grid[:20]), 201)
    job = api.ok(api.post(f"/campaigns/{cid}/proposals", json={}), 202)["id"]
    wait_until(lambda: api.job(job)["state"] == "done", 120, "the first batch")
    latest = api.get(f"/campaigns/{cid}/proposals/latest")
    etag = latest.headers["ETag"]

    url = f"{api.base}/campaigns/{cid}/proposals/latest?wait={WAIT_S}"
    headers = {**api.headers, "If-None-Match": etag, "Connection": "close"}
    polls = [LongPoll() for _ in range(POLLERS)]
    threads = [
        threading.Thread(target=long_poll, args=(url, headers, p), daemon=True) for p in polls
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: all(p.sent.is_set() for p in polls), 60, "every long-poll sent")

        # While they wait: writes, reads and health checks are answered. (The points were
        # measured before, so no pending proposal matches them and the batch's ETag stays.)
        for k, row in enumerate(grid[:5]):
            answer = api.post(f"/campaigns/{cid}/results", json={**row, "sample_id": f"w{k}"})
            assert answer.status_code == 201, answer.text
        assert api.get("/healthz").status_code == 200
        assert api.get(f"/campaigns/{cid}").status_code == 200
        finished = [p.status for p in polls if p.answered.is_set() and p.status != 429]
        assert not finished, f"long-polls ran out their wait before the writes: {finished[:5]}"
        admitted = [p for p in polls if not p.answered.is_set()]
        assert admitted, "no long-poll is waiting"
    finally:
        # A new batch ends every wait (it was posted after the writes were answered).
        api.post(f"/campaigns/{cid}/proposals", json={})
        for thread in threads:
            thread.join(WAIT_S + 60)

    statuses = [p.status for p in polls]
    refused = [p for p in polls if p.status == 429]
    assert set(statuses) <= {200, 429}, sorted(set(map(str, statuses)))
    assert all(p.retry_after for p in refused)
    waited = POLLERS - len(refused)
    assert 1 <= waited <= 2 * PER_PROCESS_SLOTS, waited
    print(f"\n{POLLERS} long-polls: {waited} waited for the new batch, {len(refused)} got 429")
    assert store.proposals.latest_batch(cid)["batch_id"] != latest.json()["batch_id"]
