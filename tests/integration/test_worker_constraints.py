"""A constrained, furnace-shared campaign through the worker's tasks (in-process, real Redis): the
latp-furnace preset's batch of 6 shares one temperature and holding time, says its group, and
keeps out of the forbidden region; proposals of a campaign without sharing carry no group.
"""

from __future__ import annotations

import numpy as np
from celery import Celery

from kiln.campaign import campaign_definition, space_of
from kiln.lab import VirtualLatpLab
from kiln_services import task_names
from kiln_services.store import Store


def seeded(store: Store, body: dict) -> str:
    """Create the campaign and post 10 measured pellets of the virtual lab at feasible points."""
    campaign = store.campaigns.create(campaign_definition(body))
    space = space_of(campaign)
    points = [
        p for p in space.sample(40, np.random.default_rng(3)) if not space.constraints.violations(p)
    ]
    lab = VirtualLatpLab(seed=1)
    rows = [
        {"sample_id": f"s{i}", "status": "ok", "parameters": p, **lab.measure(p, rng=i)}
        for i, p in enumerate(points[:10])
    ]
    store.results.append(campaign["id"], rows)
    return str(campaign["id"])


def batch_of(celery_app: Celery, store: Store, cid: str) -> dict:
    celery_app.tasks[task_names.REFIT](cid)
    job, _ = store.jobs.create("proposals", cid, {"overrides": {}})
    return dict(celery_app.tasks[task_names.PROPOSE](job["id"]))


def test_a_latp_furnace_batch_of_6_shares_temperature_and_time(
    celery_app: Celery, store: Store
) -> None:
    cid = seeded(store, {"preset": "latp-furnace"})
    batch = batch_of(celery_app, store, cid)
    proposals = batch["proposals"]
    assert len(proposals) == 6 and not batch["fallback"]
    assert {p["group"] for p in proposals} == {0}
    shared = {(p["parameters"]["temperature_c"], p["parameters"]["time_min"]) for p in proposals}
    assert len(shared) == 1
    space = space_of(store.campaigns.get(cid))
    assert all(not space.constraints.violations(p["parameters"]) for p in proposals)
    stored = store.proposals.pending(cid)
    assert sorted(p["group"] for p in stored) == [0] * 6


def test_proposals_without_sharing_have_no_group(celery_app: Celery, store: Store) -> None:
    cid = seeded(store, {"preset": "latp"})
    proposals = batch_of(celery_app, store, cid)["proposals"]
    assert len(proposals) == 6 and all("group" not in p for p in proposals)
