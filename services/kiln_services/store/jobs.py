"""Jobs: background work that a client follows (state, result, progress, fan-out chunks)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import redis

from kiln_services.store.base import dumps, utcnow, watched
from kiln_services.store.errors import JobNotFound
from kiln_services.store.keys import Keys

JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"
#: The kinds of job a campaign has (each campaign indexes its jobs by kind).
PROPOSALS_JOB = "proposals"
BENCHMARKS_JOB = "benchmarks"


def done_fields(result: Mapping[str, Any] | None) -> dict[str, str]:
    """The fields of a job hash that say it is done with `result`."""
    return {
        "state": JOB_DONE,
        "finished_at": utcnow(),
        "error": "",
        "result": dumps(result) if result is not None else "",
    }


class Jobs:
    """Job reads and writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create(
        self,
        kind: str,
        campaign_id: str | None,
        params: Mapping[str, Any] | None = None,
        *,
        job_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Create a queued job; with an explicit job_id, only once. Returns (job, created)."""
        jid = job_id or uuid.uuid4().hex
        key = Keys.job(jid)
        record = {
            "id": jid,
            "kind": kind,
            "campaign_id": campaign_id or "",
            "state": JOB_QUEUED,
            "params": dumps(dict(params or {})),
            "created_at": utcnow(),
        }

        def write(pipe: redis.client.Pipeline) -> bool:
            if pipe.exists(key):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.hset(key, mapping=record)
            if campaign_id:
                pipe.rpush(Keys.campaign_jobs(campaign_id, kind), jid)
            pipe.execute()
            return True

        created = watched(self.redis, [key], write, "job could not be created")
        return self.get(jid), created

    def get(self, jid: str) -> dict[str, Any]:
        """Return a job (result and params decoded) or raise JobNotFound."""
        raw = self.redis.hgetall(Keys.job(jid))
        if not raw:
            raise JobNotFound(jid)
        return {
            "id": raw["id"],
            "kind": raw["kind"],
            "campaign_id": raw.get("campaign_id") or None,
            "state": raw["state"],
            "params": json.loads(raw.get("params") or "{}"),
            "result": json.loads(raw["result"]) if raw.get("result") else None,
            "error": raw.get("error") or None,
            "created_at": raw.get("created_at"),
            "started_at": raw.get("started_at"),
            "finished_at": raw.get("finished_at"),
            "progress": json.loads(raw["progress"]) if raw.get("progress") else None,
        }

    def campaign_jobs(
        self, cid: str, kind: str, offset: int = 0, limit: int = 100
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the campaign's jobs of one kind, newest first, and their total count."""
        key = Keys.campaign_jobs(cid, kind)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(key, -(offset + limit), -(offset + 1))
            pipe.llen(key)
            ids, total = pipe.execute()
        jobs = []
        for jid in reversed(ids):
            try:
                jobs.append(self.get(jid))
            except JobNotFound:
                continue  # expired or removed: the index may outlive a job
        return jobs, int(total)

    def running(self, jid: str, worker: str = "") -> None:
        """Mark a job running (again, after a redelivery), on `worker` (its name) if known."""
        self.redis.hset(
            Keys.job(jid), mapping={"state": JOB_RUNNING, "started_at": utcnow(), "worker": worker}
        )

    def worker(self, jid: str) -> str | None:
        """The worker that last started the job ("" if unknown), or None if it never started."""
        return self.redis.hget(Keys.job(jid), "worker")

    def requeue(self, jid: str) -> bool:
        """Put a failed job back to queued (to be sent again); False unless it had failed."""
        key = Keys.job(jid)

        def write(pipe: redis.client.Pipeline) -> bool:
            if pipe.hget(key, "state") != JOB_FAILED:
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.hset(key, mapping={"state": JOB_QUEUED, "error": "", "finished_at": ""})
            pipe.execute()
            return True

        return watched(self.redis, [key], write, "job could not be requeued")

    def done(self, jid: str, result: Mapping[str, Any] | None) -> None:
        """Mark a job done with its result."""
        self.redis.hset(Keys.job(jid), mapping=done_fields(result))

    def failed(self, jid: str, error: str) -> None:
        """Mark a job failed with the reason."""
        self.redis.hset(
            Keys.job(jid), mapping={"state": JOB_FAILED, "finished_at": utcnow(), "error": error}
        )

    def set_plan(self, jid: str, plan: Mapping[str, Any]) -> bool:
        """Record a fan-out job's plan once (a redelivered planner keeps the first); True if new."""
        return bool(self.redis.hsetnx(Keys.job(jid), "plan", dumps(plan)))

    def plan(self, jid: str) -> dict[str, Any] | None:
        """The plan of a fan-out job, or None."""
        raw = self.redis.hget(Keys.job(jid), "plan")
        return None if raw is None else json.loads(raw)

    def save_chunk(self, jid: str, index: int, outcome: Any, total: int) -> int:
        """Store one chunk's outcome (idempotent by index); return how many chunks are done.

        The job's progress counts work items (``done``/``total``) as well as chunks.
        """
        size = len(outcome) if isinstance(outcome, list) else 1
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(Keys.job_chunks(jid), str(index), dumps(outcome))
            pipe.hset(Keys.job_chunk_sizes(jid), str(index), size)
            pipe.hlen(Keys.job_chunks(jid))
            pipe.hvals(Keys.job_chunk_sizes(jid))
            pipe.hget(Keys.job(jid), "progress")
            _, _, done, sizes, before = pipe.execute()
        planned = json.loads(before) if before else {}
        progress = {
            **planned,  # the total and the estimated_seconds the planner wrote
            "done": sum(int(v) for v in sizes),
            "total": planned.get("total"),
            "chunks_done": int(done),
            "chunks_total": total,
        }
        self.redis.hset(Keys.job(jid), "progress", dumps(progress))
        return int(done)

    def set_progress(
        self,
        jid: str,
        done: int,
        total: int,
        chunks_total: int,
        *,
        chunks_done: int = 0,
        estimated_seconds: float | None = None,
    ) -> None:
        """Record a fan-out job's progress: ``done`` of ``total`` work items.

        ``estimated_seconds`` (the planner's estimate of the whole job) is kept when given.
        """
        progress: dict[str, Any] = {
            "done": done,
            "total": total,
            "chunks_done": chunks_done,
            "chunks_total": chunks_total,
        }
        if estimated_seconds is not None:
            progress["estimated_seconds"] = estimated_seconds
        self.redis.hset(Keys.job(jid), "progress", dumps(progress))

    def chunks(self, jid: str) -> dict[int, Any]:
        """Every stored chunk outcome of a fan-out job, by index."""
        raw = self.redis.hgetall(Keys.job_chunks(jid))
        return {int(k): json.loads(v) for k, v in raw.items()}

    def claim_finish(self, jid: str) -> bool:
        """Let exactly one of the chunks that see the job complete write its result."""
        return bool(self.redis.hsetnx(Keys.job(jid), "finishing", utcnow()))
