"""Kiln's Redis store of record: the key layout and every Redis read and write of both services.

Nothing here imports Flask, Celery or scikit-learn (of `kiln`, only the space, the candidate pool
and the ledger rules); the intake and the worker each build a `Store` around their own Redis client.
"""

from __future__ import annotations

from kiln_services.store.errors import (
    CampaignNotFound,
    JobNotFound,
    ProposalNotFound,
    ProposalNotPending,
    SampleConflict,
    StoreError,
    UnknownCandidate,
    UnknownProposal,
)
from kiln_services.store.keys import Keys
from kiln_services.store.store import (
    EXPIRED,
    JOB_DONE,
    JOB_FAILED,
    JOB_QUEUED,
    JOB_RUNNING,
    MEASURED,
    PENDING,
    WITHDRAWN,
    AppendOutcome,
    PoolSnapshot,
    Store,
    fingerprint,
    same_point,
    status_of,
    utcnow,
)

__all__ = [
    "EXPIRED",
    "JOB_DONE",
    "JOB_FAILED",
    "JOB_QUEUED",
    "JOB_RUNNING",
    "MEASURED",
    "PENDING",
    "WITHDRAWN",
    "AppendOutcome",
    "CampaignNotFound",
    "JobNotFound",
    "Keys",
    "PoolSnapshot",
    "ProposalNotFound",
    "ProposalNotPending",
    "SampleConflict",
    "Store",
    "StoreError",
    "UnknownCandidate",
    "UnknownProposal",
    "fingerprint",
    "same_point",
    "status_of",
    "utcnow",
]
