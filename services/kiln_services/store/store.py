"""`Store`: Kiln's store of record on one Redis client, composed of one part per concern.

Every multi-key write is one MULTI/EXEC transaction (optimistic, WATCH-guarded where it depends on
what it read), so a reader never sees half of a request and a crash never leaves half of one.
Each part is built with what it needs (the client, its own Lua scripts, the parts it reads).
"""

from __future__ import annotations

import redis

from kiln_services.store.campaigns import Campaigns
from kiln_services.store.candidates import Candidates
from kiln_services.store.coordination import Locks
from kiln_services.store.deliveries import Deliveries
from kiln_services.store.fitted_models import Models
from kiln_services.store.idempotency import Idempotency
from kiln_services.store.jobs import Jobs
from kiln_services.store.metrics import Metrics
from kiln_services.store.proposals import Proposals
from kiln_services.store.results import Results
from kiln_services.store.revisions import Revisions
from kiln_services.store.tokens import Tokens
from kiln_services.store.workers import Workers


class Store:
    """Kiln's store of record on one Redis client (created with ``decode_responses=True``).

    The campaign record: `campaigns`, `results` (the append-only log and its current view),
    `revisions` (corrections of results, appended beside them), `proposals` (batches and
    the ledger), `candidates` (a campaign's pool), `models` (fitted surrogates), `jobs`, `locks`
    (refit coalescing, per-campaign locks) and `tokens`.

    Infrastructure, apart: `deliveries` (Celery delivery tags each worker holds), `workers`
    (heartbeats), `idempotency` (keys replaying a POST) and `metrics` (gauges, refit timings).
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self.proposals = Proposals(client)
        self.results = Results(client)
        self.revisions = Revisions(client, self.results)
        self.campaigns = Campaigns(client, self.proposals)
        self.candidates = Candidates(client, self.results, self.proposals)
        self.models = Models(client)
        self.jobs = Jobs(client)
        self.locks = Locks(client)
        self.tokens = Tokens(client)

        self.deliveries = Deliveries(client)
        self.workers = Workers(client)
        self.idempotency = Idempotency(client)
        self.metrics = Metrics(client)

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
