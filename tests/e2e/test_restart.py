"""Like stopping and re-running `make run` on the same ./var: every campaign and result is kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kiln.lab import VirtualLatpLab
from kiln_client.client import Client
from kiln_client.demo import post_seed_grid
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_restart_on_the_same_data_dir_keeps_campaigns_and_results(
    tmp_path: Path, stack_factory: Callable[..., Stack]
) -> None:
    first = stack_factory(tmp_path)
    client = Client(first.base_url, first.admin_token)
    campaign = client.create_campaign({"preset": "latp", "name": "survives-restart"})
    assert post_seed_grid(client, campaign["id"], VirtualLatpLab().seed_grid()) == 80
    before = client.list_results(campaign["id"])
    # Redis dies as in a crash (no shutdown, no AOF rewrite); the web and worker processes stop.
    assert first.redis is not None
    redis_port = first.redis.port
    first.redis.kill()
    first.stop()

    second = stack_factory(tmp_path, redis_port=redis_port)
    client = Client(second.base_url, second.admin_token)
    campaigns = {c["name"]: c for c in client.list_campaigns()}
    assert campaigns["survives-restart"]["id"] == campaign["id"]
    after = client.list_results(campaign["id"])
    key = sorted((r["sample_id"], r["objective"]) for r in before)
    assert sorted((r["sample_id"], r["objective"]) for r in after) == key
    # Posting the seed grid again stores nothing new: the sample ids survived too.
    assert post_seed_grid(client, campaign["id"], VirtualLatpLab().seed_grid()) == 0
