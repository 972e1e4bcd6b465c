"""The Redis key layout, in one place.

kiln:campaigns                       ZSET  campaign id -> created (unix s)
kiln:campaign:{cid}                  STR   campaign JSON (name, parameters, objective, strategy,
                                           space_version, created_at)
kiln:campaign_names                  HASH  campaign name -> id (names unique per deployment; built
                                           from the records when missing)
kiln:campaign:{cid}:spaces           LIST  earlier spaces (JSON), appended by each new version
kiln:campaign:{cid}:results          LIST  append-only result log (JSON), never rewritten
kiln:campaign:{cid}:samples          HASH  sample_id -> sha256 fingerprint of its payload
kiln:campaign:{cid}:revisions        LIST  append-only corrections (JSON: sample_id, revision, at,
                                           by, reason, changes); data_version = LLEN results +
                                           LLEN revisions
kiln:campaign:{cid}:corrected        HASH  sample_id -> current value (JSON, with revision and
                                           excluded) of each corrected result, written with its
                                           revision
kiln:campaign:{cid}:revision_keys    HASH  scoped Idempotency-Key of a PATCH -> "sample_id
                                           revision" it stored (a retry applies nothing twice)
kiln:campaign:{cid}:proposals        HASH  proposal id -> proposal JSON (ledger, with status)
kiln:campaign:{cid}:pending          SET   ids of pending proposals
kiln:campaign:{cid}:batches          LIST  batch ids, oldest first
kiln:campaign:{cid}:batch:{bid}      STR   batch JSON (header + proposal ids); SET NX
kiln:campaign:{cid}:proposals_rev    STR   counter, bumped on every ledger change (ETag)
kiln:campaign:{cid}:candidates       LIST  candidate pool rows (parameter JSON); id = list index
kiln:campaign:{cid}:candidates_index HASH  kiln.pool.row_key(row) -> id, for open rows (exact
                                           match of a result, duplicate checks)
kiln:campaign:{cid}:candidates_removed HASH id -> {"reason", "removed_at"} of removed rows
kiln:campaign:{cid}:model            HASH  state (JSON), summary (JSON), model_version,
                                           data_version, space_version, fitted_at
kiln:campaign:{cid}:model_version    STR   counter
kiln:campaign:{cid}:refit_queued     STR   coalescing flag: a refit task is queued (TTL)
kiln:campaign:{cid}:refit_lock       STR   per-campaign refit lock: "{owner} {random token}", PX TTL
kiln:campaign:{cid}:propose_lock     STR   per-campaign batch lock (one batch computed at a time,
                                           so each sees the pending proposals of the one before)
kiln:job:{jid}                       HASH  id, kind, campaign_id, state, params, result, error,
                                           created_at, started_at, finished_at, plan, progress
kiln:campaign:{cid}:jobs:{kind}     LIST  ids of the campaign's jobs of one kind (e.g. benchmarks),
                                           oldest first
kiln:job:{jid}:chunks                HASH  chunk index -> outcome JSON (fan-out jobs)
kiln:job:{jid}:chunk_sizes           HASH  chunk index -> number of work items it held
kiln:tokens                          HASH  sha256(token) -> {"id", "digest", "scope", "name",
                                           "campaign_id", "created_at", "created_ns"}
kiln:token_names                     HASH  name -> public id of each live token (a revoked
                                           token's name is free again)
kiln:idempotency:{scoped}            STR   first response to a POST under an Idempotency-Key
                                           (scoped per token; in progress, then kept a day)
kiln:bootstrap_admin                 STR   sha256 of the generated first admin token (SET NX)
kiln:workers                         ZSET  worker hostname -> last heartbeat (Redis TIME)
kiln:worker:{name}:deliveries        SET   Celery delivery tags the worker received and has not
                                           acknowledged (yet): redelivered if it dies
kiln:campaign:{cid}:model_failure    HASH  the last refit that failed: data_version,
                                           space_version, reason, at (cleared by a good refit)
kiln:metrics:refit_seconds           HASH  refit durations of every worker, a cumulative histogram:
                                           count, sum (s), le:{bound} -> refits that took <= bound
"""

from __future__ import annotations

PREFIX = "kiln"


class Keys:
    """Builders of every key name; nothing else in the code base spells a key."""

    campaigns = f"{PREFIX}:campaigns"
    campaign_names = f"{PREFIX}:campaign_names"
    tokens = f"{PREFIX}:tokens"
    token_names = f"{PREFIX}:token_names"
    bootstrap_admin = f"{PREFIX}:bootstrap_admin"
    workers = f"{PREFIX}:workers"
    refit_seconds = f"{PREFIX}:metrics:refit_seconds"

    @staticmethod
    def worker_deliveries(name: str) -> str:
        return f"{PREFIX}:worker:{name}:deliveries"

    @staticmethod
    def model_failure(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:model_failure"

    @staticmethod
    def campaign(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}"

    @staticmethod
    def spaces(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:spaces"

    @staticmethod
    def results(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:results"

    @staticmethod
    def samples(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:samples"

    @staticmethod
    def revisions(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:revisions"

    @staticmethod
    def corrected(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:corrected"

    @staticmethod
    def revision_keys(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:revision_keys"

    @staticmethod
    def proposals(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:proposals"

    @staticmethod
    def pending(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:pending"

    @staticmethod
    def candidates(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:candidates"

    @staticmethod
    def candidates_index(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:candidates_index"

    @staticmethod
    def candidates_removed(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:candidates_removed"

    @staticmethod
    def batches(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:batches"

    @staticmethod
    def batch(cid: str, bid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:batch:{bid}"

    @staticmethod
    def proposals_rev(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:proposals_rev"

    @staticmethod
    def model(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:model"

    @staticmethod
    def model_version(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:model_version"

    @staticmethod
    def refit_queued(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:refit_queued"

    @staticmethod
    def refit_lock(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:refit_lock"

    @staticmethod
    def idempotency(scoped: str) -> str:
        return f"{PREFIX}:idempotency:{scoped}"

    @staticmethod
    def propose_lock(cid: str) -> str:
        return f"{PREFIX}:campaign:{cid}:propose_lock"

    @staticmethod
    def job_chunk_sizes(jid: str) -> str:
        return f"{PREFIX}:job:{jid}:chunk_sizes"

    @staticmethod
    def job(jid: str) -> str:
        return f"{PREFIX}:job:{jid}"

    @staticmethod
    def campaign_jobs(cid: str, kind: str) -> str:
        return f"{PREFIX}:campaign:{cid}:jobs:{kind}"

    @staticmethod
    def job_chunks(jid: str) -> str:
        return f"{PREFIX}:job:{jid}:chunks"
