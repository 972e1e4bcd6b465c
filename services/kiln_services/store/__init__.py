"""Kiln's Redis store of record: the key layout and every Redis read and write of both services.

Nothing here imports Flask, Celery or scikit-learn (of `kiln`, only the space, the candidate pool
and the ledger rules); the intake and the worker each build a `Store` around their own Redis client. `Store`
is composed of parts (`store.campaigns`, `store.results`, ...; see `store.store`).
"""

from __future__ import annotations

from kiln_services.store.base import utcnow
from kiln_services.store.candidates import PoolSnapshot, status_of
from kiln_services.store.errors import (
    CampaignNotFound,
    JobNotFound,
    NameTaken,
    NotFound,
    ProposalNotFound,
    ProposalNotPending,
    ResultNotFound,
    SampleConflict,
    StoreError,
    UnknownCandidate,
    UnknownProposal,
    UnknownReference,
)
from kiln_services.store.jobs import JOB_DONE, JOB_FAILED, JOB_QUEUED, JOB_RUNNING
from kiln_services.store.keys import Keys
from kiln_services.store.proposals import EXPIRED, MEASURED, PENDING, WITHDRAWN
from kiln_services.store.results import AppendOutcome, fingerprint, same_point
from kiln_services.store.store import Store

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
    "NameTaken",
    "NotFound",
    "PoolSnapshot",
    "ProposalNotFound",
    "ProposalNotPending",
    "ResultNotFound",
    "SampleConflict",
    "Store",
    "StoreError",
    "UnknownCandidate",
    "UnknownProposal",
    "UnknownReference",
    "fingerprint",
    "same_point",
    "status_of",
    "utcnow",
]
