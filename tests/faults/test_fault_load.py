"""Fault 4: load with verification. N clients post M results each over about T seconds, one result
per request, while the worker refits the campaign on a growing log.

Afterwards the stored count equals the acknowledged count exactly (no result lost or doubled),
no request got a 5xx (or any answer but 201), and the model's data_version reaches the count:
coalesced refits follow the data however it arrives. N, M, T and the rate held are printed.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from faultkit import Api, Live, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

N = 16  # concurrent clients
M = 20  # results each, one per request
T = 4.0  # seconds each client spreads its posts over (faster if the server is slower)


class Client(threading.Thread):
    def __init__(self, api: Api, cid: str, index: int) -> None:
        super().__init__(name=f"load-{index}", daemon=True)
        self.api, self.cid, self.index = api, cid, index
        self.answers: list[tuple[str, int | str]] = []
        self.lab = VirtualLatpLab(seed=100 + index)
        self.grid = self.lab.seed_grid()

    def run(self) -> None:
        start = time.monotonic()
        with requests.Session() as session:
            for k in range(M):
                # Paced: post k leaves at k * T / M seconds, or at once when running late.
                time.sleep(max(0.0, start + k * T / M - time.monotonic()))
                row = dict(self.grid[(self.index * 13 + k) % len(self.grid)])
                row["sample_id"] = f"load{self.index}-{k}"
                answer, _ = self.api.answer_on(
                    session, f"/campaigns/{self.cid}/results", row, timeout=60
                )
                self.answers.append((row["sample_id"], answer))


def test_under_load_every_acknowledged_result_is_stored_once_and_modelled(live: Live) -> None:
    store, api = live.store, live.api
    body = latp_campaign("load")
    body["strategy"] = {**body["strategy"], "auto_batch": False}  # the worker only refits
    cid = api.campaign(body)
    seed = VirtualLatpLab(seed=9).seed_grid()
    api.ok(api.post(f"/campaigns/{cid}/results", json=seed), 201)  # the first refit starts

    clients = [Client(api, cid, i) for i in range(N)]
    fitted_during_load: set[int] = set()
    loading = threading.Event()
    loading.set()

    def watch() -> None:
        while loading.is_set():
            model = store.models.get(cid)
            if model is not None:
                fitted_during_load.add(model["data_version"])
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    start = time.monotonic()
    watcher.start()
    for client in clients:
        client.start()
    for client in clients:
        client.join(300)
    elapsed = time.monotonic() - start
    loading.clear()
    watcher.join(10)

    answers = [answer for c in clients for _, answer in c.answers]
    acknowledged = {sid for c in clients for sid, answer in c.answers if answer == 201}
    rate = len(answers) / elapsed
    print(
        f"\nload: N={N} clients x M={M} results (one per request) over T={T:.0f} s target: "
        f"{len(answers)} posts in {elapsed:.1f} s = {rate:.1f} posts/s; "
        f"{len(fitted_during_load)} model(s) fitted while posting"
    )
    assert len(answers) == N * M
    assert all(answer == 201 for answer in answers), sorted(set(map(str, answers)))
    stored = [r["sample_id"] for r in api.results(cid)]
    assert len(stored) == len(set(stored)) == len(acknowledged) + len(seed)
    assert set(stored) == acknowledged | {r["sample_id"] for r in seed}
    assert store.results.data_version(cid) == len(stored)

    final = wait_until(
        lambda: (
            (store.models.get(cid) or {}).get("data_version") == len(stored)
            and store.models.get(cid)
        ),
        240,
        f"the model fitted on all {len(stored)} results",
    )
    assert final["model_version"] >= 2  # refitted as the data grew, not once at the end
