"""`Store`: Kiln's store of record on one Redis client, composed of one part per concern.

Every multi-key write is one MULTI/EXEC transaction (optimistic, WATCH-guarded where it depends on
what it read), so a reader never sees half of a request and a crash never leaves half of one.
The parts live in modules named for what they hold: campaigns, results, proposals, models, jobs,
candidates (a campaign's pool), coordination (locks and coalescing), deliveries (the messages each worker holds), workers, tokens
and idempotency keys.
"""

from __future__ import annotations

import redis

from kiln_services.store.base import utcnow
from kiln_services.store.campaigns import CampaignsMixin
from kiln_services.store.candidates import PoolSnapshot, status_of
from kiln_services.store.coordination import RELEASE_LOCK, RELEASE_OWNED, CoordinationMixin
from kiln_services.store.deliveries import DeliveriesMixin
from kiln_services.store.fitted_models import SAVE_MODEL, ModelsMixin
from kiln_services.store.idempotency import IdempotencyMixin
from kiln_services.store.jobs import JOB_DONE, JOB_FAILED, JOB_QUEUED, JOB_RUNNING, JobsMixin
from kiln_services.store.proposals import EXPIRED, MEASURED, PENDING, WITHDRAWN, ProposalsMixin
from kiln_services.store.results import (
    APPEND_RESULTS,
    AppendOutcome,
    ResultsMixin,
    fingerprint,
    same_point,
)
from kiln_services.store.tokens import TokensMixin
from kiln_services.store.workers import WorkersMixin

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
    "PoolSnapshot",
    "Store",
    "fingerprint",
    "same_point",
    "status_of",
    "utcnow",
]


class Store(
    CampaignsMixin,
    ResultsMixin,
    ProposalsMixin,
    ModelsMixin,
    JobsMixin,
    CoordinationMixin,
    DeliveriesMixin,
    WorkersMixin,
    TokensMixin,
    IdempotencyMixin,
):
    """Kiln's store of record on one Redis client (created with ``decode_responses=True``)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._release_lock = client.register_script(RELEASE_LOCK)
        self._release_owned = client.register_script(RELEASE_OWNED)
        self._save_model = client.register_script(SAVE_MODEL)
        self._append_results = client.register_script(APPEND_RESULTS)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 5.0) -> Store:
        """Build a store with its own connection pool."""
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client)

    def ping(self) -> bool:
        """Return True when Redis answers (raises redis.ConnectionError when it does not)."""
        return bool(self.redis.ping())
