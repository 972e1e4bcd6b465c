"""Fitted models: the latest fitted surrogate of a campaign (not ORM models), as JSON state plus its summary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis

from kiln_services.store.base import dumps, utcnow
from kiln_services.store.keys import Keys

# Store a model unless a newer one (more data, or a later space) is there, and forget a failed
# refit on no more data than it in the same step: a reader never sees the new model beside the
# old failure. KEYS: model, model_version, model_failure.
SAVE_MODEL = """
local dv = redis.call('hget', KEYS[1], 'data_version')
if dv then
    local sv = tonumber(redis.call('hget', KEYS[1], 'space_version'))
    local new_sv, new_dv = tonumber(ARGV[4]), tonumber(ARGV[3])
    if sv > new_sv or (sv == new_sv and tonumber(dv) > new_dv) then
        return 0
    end
end
local version = redis.call('incr', KEYS[2])
redis.call('hset', KEYS[1], 'state', ARGV[1], 'summary', ARGV[2], 'data_version', ARGV[3],
           'space_version', ARGV[4], 'fitted_at', ARGV[5], 'model_version', version)
local fdv = redis.call('hget', KEYS[3], 'data_version')
if fdv then
    local fsv = tonumber(redis.call('hget', KEYS[3], 'space_version'))
    local new_sv, new_dv = tonumber(ARGV[4]), tonumber(ARGV[3])
    if fsv < new_sv or (fsv == new_sv and tonumber(fdv) <= new_dv) then
        redis.call('del', KEYS[3])
    end
end
return version
"""


class Models:
    """Fitted-model reads and writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._save_script = client.register_script(SAVE_MODEL)

    def save(
        self,
        cid: str,
        state: Mapping[str, Any],
        summary: Mapping[str, Any],
        *,
        data_version: int,
        space_version: int,
    ) -> int | None:
        """Store a fitted model's JSON state and summary; return its new model_version.

        A model fitted on less data than the stored one (a refit that outlived its lock) is
        dropped and None returned: the stored model never goes back in time. A recorded failed
        refit on no more data than this model is forgotten in the same step.
        """
        version = self._save_script(
            keys=[Keys.model(cid), Keys.model_version(cid), Keys.model_failure(cid)],
            args=[dumps(state), dumps(summary), data_version, space_version, utcnow()],
        )
        return int(version) or None

    def record_failure(
        self, cid: str, *, data_version: int, space_version: int, reason: str
    ) -> None:
        """Record that the refit on this data failed, and why (kept until a refit succeeds)."""
        self.redis.hset(
            Keys.model_failure(cid),
            mapping={
                "data_version": data_version,
                "space_version": space_version,
                "reason": reason,
                "at": utcnow(),
            },
        )

    def failure(self, cid: str) -> dict[str, Any] | None:
        """The last failed refit {data_version, space_version, reason, at}, or None."""
        raw = self.redis.hgetall(Keys.model_failure(cid))
        if not raw:
            return None
        return {
            "data_version": int(raw["data_version"]),
            "space_version": int(raw["space_version"]),
            "reason": raw["reason"],
            "at": raw.get("at"),
        }

    def get(self, cid: str, *, with_state: bool = False) -> dict[str, Any] | None:
        """Return the latest model's summary and versions (and its state if asked), or None."""
        fields = ["summary", "model_version", "data_version", "space_version", "fitted_at"]
        if with_state:
            fields.append("state")
        values = dict(zip(fields, self.redis.hmget(Keys.model(cid), fields), strict=True))
        if values["model_version"] is None:
            return None
        model: dict[str, Any] = {
            "summary": json.loads(values["summary"]),
            "model_version": int(values["model_version"]),
            "data_version": int(values["data_version"]),
            "space_version": int(values["space_version"]),
            "fitted_at": values["fitted_at"],
        }
        if with_state:
            model["state"] = json.loads(values["state"])
        return model
