"""The whole store as data: what a refused request must leave exactly as it was."""

from __future__ import annotations

from typing import Any

import redis

from kiln_services import task_names


def snapshot(client: redis.Redis) -> dict[str, Any]:
    """Every kiln:* key with its type and value, and the Celery queues: the whole store
    (`client` decodes responses)."""
    out: dict[str, Any] = {}
    keys = [*client.scan_iter("kiln:*"), task_names.PROPOSALS_QUEUE, task_names.BENCHMARKS_QUEUE]
    for key in sorted(set(keys)):
        kind = client.type(key)
        if kind == "string":
            value: Any = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "none":
            continue
        else:
            raise AssertionError(f"unexpected type {kind} of {key}")
        out[key] = (kind, value)
    return out
