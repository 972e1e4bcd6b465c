"""Fault 2: Redis SIGKILLed while clients post results, then started again with the same command.

Four clients post one result per request throughout. Every result that got a 2xx before the kill
is stored afterwards (the append-only file is fsynced before Redis replies: appendfsync always);
while Redis is down every API answer is a 503 with Retry-After, never a 500; the worker
reconnects by itself and the closed loop goes on: measuring the batch yields a new one.

What a process kill can and cannot show: the kernel keeps what Redis wrote, so a SIGKILL loses
nothing even with appendfsync no; only a power cut or a kernel crash tells the fsync policies
apart (README, Durability). This test therefore checks that the live server runs with
`appendonly yes` and `appendfsync always`, and that what it acknowledged survives its crash.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from faultkit import Api, Live, live_workers, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENTS = 4


class Poster(threading.Thread):
    """Posts one new result per request until stopped; remembers every answer."""

    def __init__(self, api: Api, cid: str, index: int, stop: threading.Event) -> None:
        super().__init__(name=f"poster-{index}", daemon=True)
        self.api, self.cid, self.index, self.stop = api, cid, index, stop
        self.answers: list[tuple[str, int | str, str | None]] = []
        self.points = VirtualLatpLab(seed=10 + index).seed_grid()

    def run(self) -> None:
        with requests.Session() as session:
            self.post_until_stopped(session)

    def post_until_stopped(self, session: requests.Session) -> None:
        n = 0
        while not self.stop.is_set():
            row = dict(self.points[n % len(self.points)])
            row["sample_id"] = f"client{self.index}-{n}"
            answer, retry = self.api.answer_on(
                session, f"/campaigns/{self.cid}/results", row, timeout=30
            )
            self.answers.append((row["sample_id"], answer, retry))
            n += 1
            if answer not in (200, 201):
                self.stop.wait(0.05)  # a failing client does not spin


def acked(posters: list[Poster]) -> set[str]:
    return {sid for p in posters for sid, answer, _ in p.answers if answer in (200, 201)}


def test_acknowledged_results_survive_a_redis_crash_and_the_loop_goes_on(live: Live) -> None:
    stack, store, api = live
    server = stack.redis
    assert server is not None
    config = store.redis.config_get("append*")
    assert (config["appendonly"], config["appendfsync"]) == ("yes", "always")
    cid = api.campaign(latp_campaign("redis-killed"))
    api.ok(api.post(f"/campaigns/{cid}/results", json=VirtualLatpLab(seed=1).seed_grid()), 201)
    wait_until(lambda: store.proposals.latest_batch(cid), 120, "the first batch")

    stop = threading.Event()
    posters = [Poster(api, cid, i, stop) for i in range(CLIENTS)]
    for poster in posters:
        poster.start()
    try:
        wait_until(lambda: len(acked(posters)) >= 20, 60, "20 results acknowledged")
        server.kill()  # SIGKILL: no shutdown, no last write
        marks = [len(p.answers) for p in posters]

        # While Redis is down: 503 + Retry-After everywhere the store is needed, never a 500.
        wait_until(
            lambda: all(
                any(a == 503 for _, a, _ in p.answers[mark:])
                for p, mark in zip(posters, marks, strict=True)
            ),
            60,
            "every client answered 503",
        )
        before = acked(posters)  # what was in flight at the kill has its answer by now
        probes: dict[str, requests.Response] = {
            "campaign": api.get(f"/campaigns/{cid}"),
            "results": api.get(f"/campaigns/{cid}/results"),
            "latest": api.get(f"/campaigns/{cid}/proposals/latest?wait=1"),
            "model": api.get(f"/campaigns/{cid}/model"),
            "ask for a batch": api.post(f"/campaigns/{cid}/proposals", json={}),
            "campaigns": api.get("/campaigns"),
            "readyz": api.get("/readyz"),
        }
        for what, response in probes.items():
            assert response.status_code == 503, (what, response.status_code, response.text)
            assert response.headers.get("Retry-After"), what
            assert response.headers["Content-Type"] == "application/problem+json", what
        assert api.get("/healthz").status_code == 200  # the process itself is fine
        assert acked(posters) == before, "a result was acknowledged while Redis was down"

        server.start()  # the same command: same port, same directory, same AOF
        wait_until(lambda: len(acked(posters) - before) >= 20, 90, "posts acknowledged again")
    finally:
        stop.set()
        for poster in posters:
            poster.join(40)

    answers = [answer for p in posters for _, answer, _ in p.answers]
    assert not [a for a in answers if isinstance(a, int) and a >= 500 and a != 503], answers
    assert all(retry for p in posters for _, a, retry in p.answers if a == 503)
    stored = [r["sample_id"] for r in api.results(cid)]
    assert len(stored) == len(set(stored)), "a result was stored twice"
    lost = acked(posters) - set(stored)
    assert not lost, f"{len(lost)} acknowledged results lost: {sorted(lost)[:10]}"

    # The worker reconnected by itself: measure the pending batch, a new one follows.
    wait_until(lambda: live_workers(store), 60, "the worker beats again")
    assert api.get("/readyz").status_code == 200
    batch = store.proposals.latest_batch(cid)
    assert batch is not None
    lab = VirtualLatpLab(seed=2)
    measured: list[dict[str, Any]] = [
        {
            "sample_id": f"measured-{p['id']}",
            "proposal_id": p["id"],
            "parameters": p["parameters"],
            **lab.measure(p["parameters"], k),
        }
        for k, p in enumerate(batch["proposals"])
        if p["status"] == "pending"
    ]
    api.ok(api.post(f"/campaigns/{cid}/results", json=measured), 201)
    total = len(api.results(cid))
    wait_until(
        lambda: (store.proposals.latest_batch(cid) or {}).get("data_version", 0) >= total,
        180,
        "a new batch on every result, after the restart",
    )
    assert store.proposals.latest_batch(cid)["batch_id"] != batch["batch_id"]
