"""Proposals as the worker stores them, for tests that report results against them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kiln_services.store import Store


def saved_batch(
    store: Store, cid: str, batch_id: str, points: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Save a batch of proposals at `points` (with predictions, as the worker saves them) and
    return it as stored; its proposals are ``<batch_id>-0``, ``<batch_id>-1``, ..."""
    proposals = [
        {
            "parameters": dict(point),
            "predicted_mean": 1e-4,
            "predicted_std": 1e-5,
            "acquisition_value": 0.5,
        }
        for point in points
    ]
    header = {
        "model_version": 1,
        "data_version": 0,
        "space_version": 1,
        "acquisition": "ucb",
        "batch_method": "kriging_believer",
        "job_id": batch_id,
    }
    return store.proposals.save_batch(cid, batch_id, header, proposals)[0]
