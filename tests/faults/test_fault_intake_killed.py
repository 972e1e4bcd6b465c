"""Fault 3: a gunicorn worker process SIGKILLed while clients post large CSV files of results.

Six clients post CSV bodies of 400 results each, back to back, to both intake processes. One of
them is SIGKILLed (gunicorn starts another) until at least one request died with it. Afterwards:
a request that got a 2xx has all its results stored; a request that got an error has all or
none of them (a post is one atomic append: never a part), and sending it again with the same
sample ids is safe: 201 if nothing was stored, else 200 with every row a duplicate. In the end
every result is stored exactly once.

The rows are failed syntheses (status 'failed', no objective): validated and stored like any
result, but not modelled, so the worker does not spend minutes and gigabytes fitting a Gaussian
process to the ~10,000 rows this test posts, which is not what it is about.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import requests
from faultkit import Api, child, children_of, wait_until

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENTS = 6
ROWS = 400
GRID = VirtualLatpLab(seed=5).seed_grid()


@dataclass
class Post:
    """One request: its CSV body, its sample ids and what came back."""

    sample_ids: list[str]
    body: str
    answer: int | str | None = None  # a status, or the exception's name


def csv_post(client: int, k: int) -> Post:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sample_id", "acid_wt_pct", "temperature_c", "time_min", "status"])
    ids = []
    for j in range(ROWS):
        row = GRID[(client * 7 + k + j) % len(GRID)]
        sid = f"c{client}-p{k}-r{j}"
        ids.append(sid)
        p = row["parameters"]
        writer.writerow([sid, p["acid_wt_pct"], p["temperature_c"], p["time_min"], "failed"])
    return Post(ids, out.getvalue())


def send(api: Api, cid: str, post: Post, session: requests.Session) -> requests.Response:
    return session.post(
        f"{api.base}/campaigns/{cid}/results",
        data=post.body.encode(),
        headers={**api.headers, "Content-Type": "text/csv"},
        timeout=60,
    )


class Client(threading.Thread):
    def __init__(self, api: Api, cid: str, index: int, stop: threading.Event) -> None:
        super().__init__(name=f"csv-client-{index}", daemon=True)
        self.api, self.cid, self.index, self.stop = api, cid, index, stop
        self.posts: list[Post] = []

    def run(self) -> None:
        k = 0
        while not self.stop.is_set():
            post = csv_post(self.index, k)
            self.posts.append(post)
            # A new connection per request: a killed process takes only its own requests.
            with requests.Session() as session:
                try:
                    post.answer = send(self.api, self.cid, post, session).status_code
                except requests.RequestException as exc:
                    post.answer = type(exc).__name__
            k += 1


def test_a_killed_intake_process_stores_each_request_whole_or_not_at_all(
    stacks: Callable[..., Stack],
) -> None:
    stack = stacks()
    api = Api(stack, timeout=60)
    body = latp_campaign("intake-killed")
    body["strategy"] = {**body["strategy"], "auto_batch": False}
    cid = api.campaign(body)
    master = child(stack, "intake").process
    assert master is not None

    stop = threading.Event()
    clients = [Client(api, cid, i, stop) for i in range(CLIENTS)]

    def answered() -> list[Post]:
        return [p for c in clients for p in c.posts if p.answer is not None]

    def failed() -> list[Post]:
        return [p for p in answered() if not isinstance(p.answer, int)]

    for client in clients:
        client.start()
    kills = 0
    try:
        wait_until(lambda: len(answered()) >= CLIENTS, 120, "every client answered once")
        while not failed() and kills < 3:
            workers = wait_until(
                lambda: len(children_of(master.pid)) == 2 and children_of(master.pid),
                60,
                "two intake processes",
            )
            os.kill(workers[kills % 2], signal.SIGKILL)
            kills += 1
            # Whatever was in flight on the killed process has its answer once every client
            # has been answered again.
            started = {c.name: len(c.posts) for c in clients}
            wait_until(
                lambda started=started: all(
                    len([p for p in c.posts if p.answer is not None]) >= started[c.name]
                    for c in clients
                ),
                120,
                "every request in flight at the kill answered",
            )
        assert failed(), f"{kills} kills and no request died with its process"
        wait_until(lambda: len(children_of(master.pid)) == 2, 60, "gunicorn replaced the process")
        more = len(answered()) + CLIENTS
        wait_until(lambda: len(answered()) >= more, 120, "posts served after the kill")
    finally:
        stop.set()
        for client in clients:
            client.join(90)

    posts = [p for c in clients for p in c.posts]
    assert all(p.answer is not None for p in posts)
    statuses = {p.answer for p in posts if isinstance(p.answer, int)}
    assert statuses <= {201}, statuses  # every body was new: no 5xx, no 4xx
    stored = [r["sample_id"] for r in api.results(cid)]
    assert len(stored) == len(set(stored))
    present = set(stored)
    committed_then_killed = 0
    for post in posts:
        n = sum(1 for sid in post.sample_ids if sid in present)
        if post.answer == 201:
            assert n == ROWS, f"an acknowledged request has {n} of its {ROWS} rows"
        else:
            assert n in (0, ROWS), f"a killed request left {n} of its {ROWS} rows: not atomic"
            committed_then_killed += n == ROWS
    print(
        f"\n{len(posts)} posts of {ROWS} rows, {kills} kill(s), {len(failed())} killed in "
        f"flight ({committed_then_killed} after their rows were stored)"
    )

    # The lab sends the failed ones again, with the same sample ids: safe either way.
    with requests.Session() as session:
        for post in failed():
            already = post.sample_ids[0] in present
            response = send(api, cid, post, session)
            answer = api.ok(response, 200 if already else 201)
            assert (answer["stored"], answer["duplicates"]) == ((0, ROWS) if already else (ROWS, 0))
            again = api.ok(send(api, cid, post, session), 200)  # and once more: a replay
            assert (again["stored"], again["duplicates"]) == (0, ROWS)
    final = [r["sample_id"] for r in api.results(cid)]
    assert len(final) == len(set(final)) == len(posts) * ROWS
