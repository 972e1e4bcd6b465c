"""bench-loop's lab: a campaign driven as a lab drives it, one client posting results and one
long-polling for the next batch; each loop's latency split by the server's timestamps."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from kiln.lab import VirtualLatpLab
from kiln_client.client import Client

LONG_POLL_S = 30.0


def epoch(iso: str | None) -> float | None:
    """Seconds since the epoch of a server timestamp (ISO 8601, UTC, 'Z')."""
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pending(batch: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in batch["proposals"] if p.get("status", "pending") == "pending"]


class Lab:
    """One lab: a campaign, a client posting results and a client long-polling for batches."""

    def __init__(self, url: str, token: str, name: str, seed: int) -> None:
        self.poster = Client(url, token=token)
        self.poller = Client(url, token=token)
        self.lab = VirtualLatpLab(seed=seed)
        campaign = self.poster.create_campaign(preset="latp", name=name)
        self.cid = campaign["id"]
        self.name = name
        self.batch: dict[str, Any] | None = None
        self.etag: str | None = None
        self.loops: list[dict[str, Any]] = []

    def seed(self) -> None:
        """Post the seed grid and wait for the first batch (not timed)."""
        posted = self.poster.post_results(self.cid, self.lab.seed_grid())
        self.batch, self.etag = self.wait_for_batch(None, int(posted["data_version"]))

    def wait_for_batch(self, old_id: str | None, data_version: int) -> tuple[dict, str | None]:
        """Long-poll until a batch other than `old_id`, made from >= `data_version` results."""
        etag = self.etag
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            latest = self.poller.poll_proposals(self.cid, etag=etag, wait=LONG_POLL_S)
            etag = latest.etag
            batch = latest.batch
            if (
                batch is not None
                and batch["batch_id"] != old_id
                and int(batch["data_version"]) >= data_version
            ):
                return dict(batch), etag
            if latest.batch is None and etag is None:
                time.sleep(0.2)  # no batch at all yet: 404 answers at once
        raise TimeoutError(f"{self.name}: no batch with data_version >= {data_version}")

    def loop(self, index: int) -> dict[str, Any]:
        """One cycle; returns its timings."""
        assert self.batch is not None
        old = self.batch
        posted, seen, started, answered = self.post_and_wait(old, self.measured(old, index))
        batch = seen["batch"]
        if int(batch["data_version"]) < int(posted["data_version"]):
            raise AssertionError(
                f"{self.name}: batch {batch['batch_id']} was made from "
                f"{batch['data_version']} results, the post made {posted['data_version']}"
            )
        model = self.poster.model(self.cid)
        self.batch, self.etag = batch, seen["etag"]
        fitted = (
            epoch(model.get("fitted_at"))
            if model["data_version"] == batch["data_version"]
            else None
        )
        created = epoch(batch.get("created_at"))
        out = {
            "lab": self.name,
            "loop": index,
            "n": int(posted["data_version"]),
            "latency_s": seen["at"] - started,
            "post_s": answered - started,
            "refit_s": None if fitted is None else fitted - answered,
            "propose_s": None if fitted is None or created is None else created - fitted,
            "notify_s": None if created is None else seen["at"] - created,
            "batch_model_version": batch.get("model_version"),
            "stored": posted["stored"],
            "measured_proposals": len(posted.get("measured_proposals", [])),
        }
        self.loops.append(out)
        return out

    def measured(self, batch: dict[str, Any], index: int) -> list[dict[str, Any]]:
        """The batch's pending proposals measured in the virtual lab, as results to post."""
        return [
            {
                "sample_id": f"{self.name}-L{index:03d}-{k}",
                "proposal_id": p["id"],
                "parameters": p["parameters"],
                **self.lab.measure(p["parameters"], rng=index * 100 + k),
            }
            for k, p in enumerate(pending(batch))
        ]

    def post_and_wait(
        self, old: dict[str, Any], results: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], dict[str, Any], float, float]:
        """Post the results while a long-poll waits for the next batch: (the post's answer,
        what the long-poll saw and when, when the post started, when it was answered)."""
        seen: dict[str, Any] = {}
        ready = threading.Event()

        def long_poll() -> None:
            ready.set()
            # The data_version to wait for is known once the post answers; until then any new
            # batch id made from more data than the old batch will do, and is checked after.
            seen["batch"], seen["etag"] = self.wait_for_batch(
                old["batch_id"], int(old["data_version"]) + 1
            )
            seen["at"] = time.time()

        poller = threading.Thread(target=long_poll, name=f"{self.name}-poll", daemon=True)
        poller.start()
        ready.wait()
        time.sleep(0.05)  # the long-poll is in flight
        started = time.time()
        posted = self.poster.post_results(self.cid, results)
        answered = time.time()
        poller.join(timeout=300)
        if "at" not in seen:
            raise TimeoutError(f"{self.name}: loop {len(self.loops)}: no new batch")
        return posted, seen, started, answered
