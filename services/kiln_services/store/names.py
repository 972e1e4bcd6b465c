"""Names unique per deployment: a hash name -> id beside the records, kept in their transactions.

Campaign names and the names of live tokens are unique. The index is written in the same
MULTI/EXEC as the record, under WATCH, so two requests for one name cannot both win. A Redis
written before the index existed gets it on the first write that needs it, built from the
records in that same transaction; where older records already share a name, the oldest holds
it, they all keep working, and only new duplicates are refused.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from kiln_services.store.errors import NameTaken

#: (name, id) of every live record, oldest first, read through the WATCHed pipe.
Holders = Callable[[redis.client.Pipeline], list[tuple[str, str]]]


class NameIndex:
    """The name -> id hash of one kind of record ("campaign", "token")."""

    def __init__(self, key: str, what: str, holders: Holders, watch: tuple[str, ...]) -> None:
        self.key = key
        self.what = what
        self.holders = holders
        self.watch = watch  # the keys `holders` reads

    def plan(
        self,
        pipe: redis.client.Pipeline,
        *,
        claim: tuple[str, str] | None = None,
        drop: tuple[str, str] | None = None,
    ) -> tuple[dict[str, str], list[str]]:
        """Under WATCH, before MULTI: what to write so the index stays right.

        `claim` is (name, id) of a record taking a name, `drop` (name, id) of one giving its
        name up (revoked, renamed); another record still holding that name inherits it.

        Returns:
            (entries to set, names to delete), for `write` inside the MULTI.

        Raises:
            NameTaken: When another record holds the claimed name; nothing is written.
        """
        pipe.watch(self.key, *self.watch)
        built = not pipe.exists(self.key)  # never built: build it from the records
        known = self.holders(pipe) if built else None
        sets = {name: rid for name, rid in reversed(known or [])}  # the oldest holder wins
        deletes: list[str] = []

        def holder(name: str) -> str | None:
            if name in deletes:
                return None
            if built or name in sets:
                return sets.get(name)
            return pipe.hget(self.key, name)

        if drop is not None and holder(drop[0]) == drop[1]:
            known = self.holders(pipe) if known is None else known
            heir = next((rid for n, rid in known if n == drop[0] and rid != drop[1]), None)
            if heir is None:
                sets.pop(drop[0], None)
                deletes.append(drop[0])
            else:
                sets[drop[0]] = heir
        if claim is not None:
            taken = holder(claim[0])
            if taken is not None and taken != claim[1]:
                raise NameTaken(self.what, claim[0], taken)
            sets[claim[0]] = claim[1]
            deletes = [n for n in deletes if n != claim[0]]
        return sets, deletes

    def write(self, pipe: redis.client.Pipeline, sets: dict[str, str], deletes: list[str]) -> None:
        """Queue a plan's writes (inside the caller's MULTI)."""
        if deletes:
            pipe.hdel(self.key, *deletes)
        if sets:
            pipe.hset(self.key, mapping=sets)
