"""The per-process cap on waiting long-polls (intake.longpoll), on a real Redis.

The end-to-end proof that 100 waiting clients leave gunicorn free for writes is
tests/faults/test_fault_slow_consumers.py; this checks the cap's rules on one app.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from support.intake import ADMIN

from kiln_services.store import Store

CAMPAIGN = {
    "name": "furnace",
    "parameters": [{"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100}],
    "objective": {"name": "conductivity", "unit": "S/cm"},
}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"KILN_LONG_POLL_INTERVAL_S": 0.02, "KILN_LONG_POLL_SLOTS": 1}


def store_batch(store: Store, cid: str, batch_id: str) -> None:
    store.proposals.save_batch(cid, batch_id, {"proposal_ttl_s": None}, [{"parameters": {"x": 1}}])


def test_one_slot_one_waiter_the_next_gets_429_and_quick_polls_need_no_slot(app: Flask) -> None:
    client = app.test_client()
    cid = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=ADMIN).get_json()["id"]
    store: Store = app.extensions["kiln_store"]
    store_batch(store, cid, "first")
    url = f"/api/v1/campaigns/{cid}/proposals/latest"
    etag = client.get(url, headers=ADMIN).headers["ETag"]
    waiting = {**ADMIN, "If-None-Match": etag}
    answers: list[tuple[int, str | None]] = []
    first_answer = threading.Event()

    def long_poll() -> None:
        response = app.test_client().get(f"{url}?wait=30", headers=waiting)
        answers.append((response.status_code, response.headers.get("Retry-After")))
        first_answer.set()

    # Two patient clients, one slot: whichever comes second is refused at once.
    pollers = [threading.Thread(target=long_poll) for _ in range(2)]
    for poller in pollers:
        poller.start()
    try:
        assert first_answer.wait(10), "both long-polls wait: no cap"
        assert answers == [(429, "5")]
        # Polls that do not wait take no slot: unchanged (wait=0), or a new batch to send.
        assert client.get(url, headers=waiting).status_code == 304
        assert client.get(url, headers=ADMIN).status_code == 200
    finally:
        store_batch(store, cid, "second")  # ends the wait
        for poller in pollers:
            poller.join(10)
    assert sorted(answers) == [(200, None), (429, "5")]
    # The slot is free again: the next long-poll waits out its time and gets a 304.
    latest = client.get(url, headers=ADMIN).headers["ETag"]
    again = client.get(f"{url}?wait=0.1", headers={**ADMIN, "If-None-Match": latest})
    assert again.status_code == 304
