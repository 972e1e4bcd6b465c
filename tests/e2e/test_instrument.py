"""The demo's instrument functions against the live stack: iterations, resuming, clear errors."""

from __future__ import annotations

import pytest

from kiln.lab import VirtualLatpLab
from kiln_client.client import AuthError, Client, ConnectionFailed
from kiln_client.demo import (
    find_campaign,
    format_iteration,
    pending_proposals,
    post_seed_grid,
    run_demo,
    wait_for_batch,
)
from kiln_services.devstack.redis_server import free_port
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_demo_runs_and_resumes_without_duplicating_seed_data(
    client: Client, unique_name: str
) -> None:
    lab = VirtualLatpLab()
    lines: list[str] = []
    report = run_demo(client, lab, iterations=2, name=unique_name, out=lines.append)
    assert [it.number for it in report] == [1, 2]
    assert all(len(it.results) == 6 for it in report)
    campaign = find_campaign(client, unique_name)
    assert campaign is not None
    stored = client.list_results(campaign["id"])
    assert report[-1].best["objective"] == max(r["objective"] for r in stored)
    # Each iteration's batch came from a model that had seen the previous iteration's results.
    assert [it.batch["data_version"] for it in report] == [80, 86]
    assert "best so far" in format_iteration(report[0])

    # Again: the campaign is found, the seed grid is not posted twice, numbering continues.
    again = run_demo(client, lab, iterations=1, name=unique_name, out=lines.append)
    assert [it.number for it in again] == [3]
    sample_ids = [r["sample_id"] for r in client.list_results(campaign["id"])]
    assert len(sample_ids) == len(set(sample_ids)) == 80 + 3 * 6
    assert any(line.startswith("Seed grid: already stored") for line in lines)


def test_without_auto_batch_the_instrument_asks_for_a_batch(
    client: Client, unique_name: str
) -> None:
    campaign = client.create_campaign(
        {"preset": "latp", "name": unique_name, "strategy": {"auto_batch": False, "batch_size": 3}}
    )
    post_seed_grid(client, campaign["id"], VirtualLatpLab().seed_grid())
    batch, waited = wait_for_batch(client, campaign["id"], min_data_version=80, wait=2, timeout=60)
    assert len(pending_proposals(batch)) == 3
    assert waited >= 2, "it long-polled once before asking"


def test_unreachable_server_is_reported_clearly() -> None:
    dead = Client(f"http://127.0.0.1:{free_port()}", "token", timeout=2)
    with pytest.raises(ConnectionFailed, match="make run"):
        dead.list_campaigns()


def test_wrong_token_is_reported_clearly(stack: Stack) -> None:
    with pytest.raises(AuthError, match="KILN_TOKEN"):
        Client(stack.base_url, "not-a-token").list_campaigns()


def test_a_campaign_outlives_four_auto_batches(client: Client, unique_name: str) -> None:
    report = run_demo(client, VirtualLatpLab(), iterations=5, name=unique_name, out=lambda _: None)
    assert [it.number for it in report] == [1, 2, 3, 4, 5]
