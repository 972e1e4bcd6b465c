"""The study's schedule over HTTP: iterations 1-2 on Table 1's first space, 3-4 on the second.

Gunicorn, a real worker and Redis (the session stack); the virtual LATP lab measures. Auto
batches follow each refit; the PATCH between iterations 2 and 3 makes space version 2.
"""

from __future__ import annotations

import pytest

from kiln.lab import VirtualLatpLab
from kiln.presets import latp_campaign, latp_space
from kiln.space import SearchSpace
from kiln_client.client import Client
from kiln_client.demo import measure, wait_for_batch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_two_space_schedule_replays_end_to_end(client: Client, unique_name: str) -> None:
    lab = VirtualLatpLab(seed=3)
    definition = {
        **latp_campaign(unique_name),
        "parameters": latp_space("1-2")["parameters"],
    }
    cid = client.create_campaign(definition)["id"]
    client.post_results(cid, lab.seed_grid())
    data_version = 80
    for iteration in (1, 2, 3, 4):
        if iteration == 3:
            patched = client.update_campaign(cid, {"parameters": latp_space("3-4")["parameters"]})
            assert patched["space_version"] == 2
        campaign = client.get_campaign(cid)
        space = SearchSpace.from_dict({"parameters": campaign["parameters"]})
        if iteration == 3:
            # The auto batch made from iteration 2's results may predate the PATCH (its
            # proposals inside the new space stay pending): ask for one in the new space.
            job = client.request_proposals(cid)
            batch = client.wait_for_job(job["id"], timeout=240, interval=0.5)["result"]
        else:
            batch, _ = wait_for_batch(client, cid, min_data_version=data_version, timeout=240)
        assert batch["space_version"] == (1 if iteration <= 2 else 2)
        pending = [p for p in batch["proposals"] if p["status"] == "pending"]
        assert pending, batch
        for proposal in pending:
            assert space.contains(proposal["parameters"]), proposal["parameters"]
            assert proposal["provenance"]["data_version"] == batch["data_version"]
        results = measure(lab, batch, iteration, seed=3)
        client.post_results(cid, results)
        data_version += len(results)
    assert len(client.list_results(cid)) == data_version
    measured = client.get_json(f"/api/v1/campaigns/{cid}/proposals?status=measured")
    assert measured["total"] == data_version - 80
