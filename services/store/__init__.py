"""Kiln's Redis store of record: the key layout and every Redis read and write of both services.

Nothing here imports Flask or Celery, nor the numeric parts of `kiln`; the intake and the worker
each build a `Store` around their own Redis client.
"""

from __future__ import annotations

from store.errors import (
    CampaignNotFound,
    JobNotFound,
    ProposalNotFound,
    ProposalNotPending,
    SampleConflict,
    StoreError,
    UnknownProposal,
)
from store.keys import Keys
from store.store import Store, fingerprint, utcnow

__all__ = [
    "CampaignNotFound",
    "JobNotFound",
    "Keys",
    "ProposalNotFound",
    "ProposalNotPending",
    "SampleConflict",
    "Store",
    "StoreError",
    "UnknownProposal",
    "fingerprint",
    "utcnow",
]
