"""Campaigns: definitions, their space history, listing and counters; names unique."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import redis

from kiln.campaign import space_of
from kiln.ledger import constraint_reason, outside_reason
from kiln.pool import outside_reason as pool_outside_reason
from kiln_services.store.base import dumps, utcnow, watched
from kiln_services.store.candidates import queue_rows, validated_candidates
from kiln_services.store.errors import CampaignNotFound
from kiln_services.store.keys import Keys
from kiln_services.store.names import NameIndex
from kiln_services.store.proposals import Proposals, withdrawn_under_watch


def _every_campaign(client: redis.Redis) -> list[dict[str, Any]]:
    # Every campaign record, oldest first (a pipe under WATCH reads at once too).
    ids = client.zrange(Keys.campaigns, 0, -1)
    raws = client.mget([Keys.campaign(cid) for cid in ids]) if ids else []
    return [json.loads(raw) for raw in raws if raw is not None]


def _holders(pipe: redis.client.Pipeline) -> list[tuple[str, str]]:
    return [(doc["name"], doc["id"]) for doc in _every_campaign(pipe) if doc.get("name")]


class Campaigns:
    """Campaign reads and writes."""

    def __init__(self, client: redis.Redis, proposals: Proposals) -> None:
        self.redis = client
        self.proposals = proposals
        self.names = NameIndex(Keys.campaign_names, "campaign", _holders, (Keys.campaigns,))

    def create(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        """Store a validated campaign definition; return it with id, space_version, created_at.

        A ``"candidates"`` list (the campaign's pool) is checked against its parameters
        (:func:`store.candidates.validated_candidates`) and stored apart from the record in the
        same transaction; the returned campaign does not carry the rows.

        Raises:
            CandidateError: For a bad or duplicate candidate row; nothing is stored.
            NameTaken: When another campaign has this name; nothing is stored.
        """
        cid = uuid.uuid4().hex
        doc = {
            **{k: v for k, v in definition.items() if k != "candidates"},
            "id": cid,
            "space_version": int(definition.get("space_version", 1)),
            "created_at": utcnow(),
        }
        rows = definition.get("candidates")
        clean = validated_candidates(doc, rows) if rows is not None else []

        def write(pipe: redis.client.Pipeline) -> dict[str, Any]:
            name = doc.get("name")
            sets, deletes = self.names.plan(pipe, claim=(name, cid) if name else None)
            pipe.multi()
            pipe.set(Keys.campaign(cid), dumps(doc))
            pipe.zadd(Keys.campaigns, {cid: time.time()})
            self.names.write(pipe, sets, deletes)
            if clean:
                queue_rows(pipe, cid, [p["name"] for p in doc["parameters"]], clean, 0)
            pipe.execute()
            return doc

        return watched(self.redis, [], write, "campaign could not be created")

    def update(
        self, cid: str, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Replace a campaign by `change(current)`, atomically against concurrent updates.

        A new space version also appends the replaced space to the campaign's space history
        and, in the same transaction, withdraws the pending proposals that are not candidates
        of the new space or break its constraints, each with the reason (``"reason"`` on the proposal). Every result
        stays: it keeps training the model. A new name must be free (`NameTaken` otherwise).
        """
        key = Keys.campaign(cid)
        proposals_key, pending_key = Keys.proposals(cid), Keys.pending(cid)

        def write(pipe: redis.client.Pipeline) -> dict[str, Any]:
            raw = pipe.get(key)
            if raw is None:
                raise CampaignNotFound(cid)
            current = json.loads(raw)
            updated = {**change(current), "id": cid, "created_at": current["created_at"]}
            updated["updated_at"] = utcnow()
            renamed = updated.get("name") != current.get("name")
            name = updated.get("name")
            names = (
                self.names.plan(
                    pipe,
                    claim=(name, cid) if name else None,
                    drop=(current.get("name") or "", cid),
                )
                if renamed
                else ({}, [])
            )
            new_space = updated.get("space_version") != current.get("space_version")
            withdrawn = self._outside_new_space(pipe, cid, updated) if new_space else {}
            pipe.multi()
            pipe.set(key, dumps(updated))
            self.names.write(pipe, *names)
            if withdrawn:
                pipe.hset(proposals_key, mapping=withdrawn)
                pipe.srem(pending_key, *withdrawn)
                pipe.incr(Keys.proposals_rev(cid))
            if new_space:
                pipe.rpush(
                    Keys.spaces(cid),
                    dumps(
                        {
                            "space_version": current.get("space_version", 1),
                            "parameters": current["parameters"],
                            **{k: current[k] for k in ("constraints",) if k in current},
                            "replaced_at": updated["updated_at"],
                        }
                    ),
                )
            pipe.execute()
            return updated

        return watched(
            self.redis, [key, proposals_key, pending_key], write, "campaign could not be updated"
        )

    def _outside_new_space(
        self, pipe: redis.client.Pipeline, cid: str, campaign: Mapping[str, Any]
    ) -> dict[str, str]:
        # Pending proposals (read under WATCH) that the new space rules out, as withdrawn JSON.
        space = space_of(campaign)

        def reason_of(proposal: dict[str, Any]) -> str | None:
            # A pool row is run as it is: steps do not apply to it, only ranges and listed values.
            pooled = isinstance(proposal.get("candidate"), int)
            check = pool_outside_reason if pooled else outside_reason
            point = proposal["parameters"]
            return check(space, point) or constraint_reason(space, point)

        return withdrawn_under_watch(pipe, cid, reason_of)

    def space_history(self, cid: str) -> list[dict[str, Any]]:
        """The campaign's earlier spaces, oldest first."""
        return [json.loads(raw) for raw in self.redis.lrange(Keys.spaces(cid), 0, -1)]

    def get(self, cid: str) -> dict[str, Any]:
        """Return a campaign or raise CampaignNotFound."""
        raw = self.redis.get(Keys.campaign(cid))
        if raw is None:
            raise CampaignNotFound(cid)
        return json.loads(raw)

    def page(self, offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Return a page of campaigns, oldest first, and the total count."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(Keys.campaigns, offset, offset + limit - 1)
            pipe.zcard(Keys.campaigns)
            ids, total = pipe.execute()
        if not ids:
            return [], int(total)
        raws = self.redis.mget([Keys.campaign(cid) for cid in ids])
        return [json.loads(raw) for raw in raws if raw is not None], int(total)

    def named(self, name: str) -> list[dict[str, Any]]:
        """The campaigns named exactly `name`, oldest first: one at most, unless several were
        stored before names were unique."""
        return [doc for doc in _every_campaign(self.redis) if doc.get("name") == name]

    def counts(self, cid: str) -> dict[str, Any]:
        """Return the campaign's counters: results, pending/total proposals, batches, model,
        candidate rows (0 without a pool).

        Pending proposals past their time-to-live are retired first, so they do not count.
        """
        n_pending = len(self.proposals.pending(cid))
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(Keys.results(cid))
            pipe.hlen(Keys.proposals(cid))
            pipe.llen(Keys.batches(cid))
            pipe.hget(Keys.model(cid), "model_version")
            pipe.llen(Keys.candidates(cid))
            n_results, n_proposals, n_batches, model_version, n_candidates = pipe.execute()
        return {
            "results": int(n_results),
            "proposals_pending": int(n_pending),
            "proposals": int(n_proposals),
            "batches": int(n_batches),
            "model_version": int(model_version) if model_version is not None else None,
            "candidates": int(n_candidates),
        }
