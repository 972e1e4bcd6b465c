"""The worker's settings: read from the environment once, when its Celery app is made.

`factory.make_celery` reads them and keeps them in the app's configuration (``kiln_settings``);
tasks, the heartbeat and the recovery read them from there with `of`. Each field's environment
variable is named in the class docstring.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from celery import Celery

from kiln.training import DEFAULT_LIMIT

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: The key of the settings in the Celery app's configuration.
CONF_KEY = "kiln_settings"


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker reads from its environment, with the defaults of the contract.

    Attributes:
        redis_url: REDIS_URL, the broker and the store of record.
        visibility_timeout_s: KILN_VISIBILITY_TIMEOUT_S, the broker's last resort: an
            unacknowledged task this old is delivered again.
        max_training_points: KILN_MAX_TRAINING_POINTS, a model trains on at most this many
            results (see kiln.training).
        heartbeat_s: KILN_HEARTBEAT_S, seconds between a worker's heartbeats.
        dead_after_s: KILN_WORKER_DEAD_AFTER_S, seconds without a heartbeat after which a
            worker counts as dead (its tasks are put back, its locks released).
    """

    redis_url: str = DEFAULT_REDIS_URL
    visibility_timeout_s: int = 3600
    max_training_points: int = DEFAULT_LIMIT
    heartbeat_s: float = 10.0
    dead_after_s: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        """Read the settings from `environ` (the process environment by default)."""
        env = os.environ if environ is None else environ
        return cls(
            redis_url=env.get("REDIS_URL", DEFAULT_REDIS_URL),
            visibility_timeout_s=int(
                env.get("KILN_VISIBILITY_TIMEOUT_S", cls.visibility_timeout_s)
            ),
            max_training_points=int(env.get("KILN_MAX_TRAINING_POINTS", cls.max_training_points)),
            heartbeat_s=float(env.get("KILN_HEARTBEAT_S", cls.heartbeat_s)),
            dead_after_s=float(env.get("KILN_WORKER_DEAD_AFTER_S", cls.dead_after_s)),
        )


def of(app: Celery) -> WorkerSettings:
    """The settings the app was made with (read from the environment if it was made otherwise)."""
    settings = app.conf.get(CONF_KEY)
    return settings if isinstance(settings, WorkerSettings) else WorkerSettings.from_env()
