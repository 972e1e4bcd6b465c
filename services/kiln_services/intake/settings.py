"""The intake's settings: read from the environment once, when the app is created.

One naming scheme: a setting's app.config key is its environment variable's name (``KILN_...``),
except the two that Flask or redis-py name (``REDIS_URL``; ``MAX_CONTENT_LENGTH``, set from
``KILN_MAX_BODY_BYTES``). A `create_app` test config, or a ``FLASK_``-prefixed variable, overrides
any of them afterwards, as Flask does for its own settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class IntakeSettings:
    """What the intake reads from its environment, with the defaults of the contract.

    Attributes:
        redis_url: REDIS_URL, the store of record and the broker.
        admin_token: KILN_ADMIN_TOKEN, the bootstrap admin token (None: none).
        max_body_bytes: KILN_MAX_BODY_BYTES; larger bodies are refused with 413 before parsing.
        long_poll_slots: KILN_LONG_POLL_SLOTS, long-polls that may wait at once per process;
            default half of GUNICORN_THREADS (8), at least one.
        cookie_secure: KILN_COOKIE_SECURE, the dashboard's cookie is HTTPS-only (None: unset,
            Flask's SESSION_COOKIE_SECURE decides).
        session_hours: KILN_SESSION_HOURS, how long a dashboard sign-in lasts.
        secret_key: KILN_SECRET_KEY, signs the dashboard's session cookie (None: derived).
    """

    redis_url: str = DEFAULT_REDIS_URL
    admin_token: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    long_poll_slots: int = 4
    cookie_secure: bool | None = None
    session_hours: float = 12.0
    secret_key: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IntakeSettings:
        """Read the settings from `environ` (the process environment by default)."""
        env = os.environ if environ is None else environ
        explicit_slots = env.get("KILN_LONG_POLL_SLOTS")
        slots = (
            int(explicit_slots) if explicit_slots else int(env.get("GUNICORN_THREADS", "8")) // 2
        )
        secure = env.get("KILN_COOKIE_SECURE")
        return cls(
            redis_url=env.get("REDIS_URL", DEFAULT_REDIS_URL),
            admin_token=env.get("KILN_ADMIN_TOKEN") or None,
            max_body_bytes=int(env.get("KILN_MAX_BODY_BYTES", cls.max_body_bytes)),
            long_poll_slots=max(1, slots),
            cookie_secure=None if secure is None else flag(secure),
            session_hours=float(env.get("KILN_SESSION_HOURS", cls.session_hours)),
            secret_key=env.get("KILN_SECRET_KEY") or None,
        )

    def config(self) -> dict[str, Any]:
        """These settings as app.config entries, beside the intake's fixed limits."""
        return {
            "REDIS_URL": self.redis_url,
            "KILN_ADMIN_TOKEN": self.admin_token,
            # Bodies beyond this are refused with 413 before any parsing.
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "KILN_LONG_POLL_SLOTS": self.long_poll_slots,
            "KILN_COOKIE_SECURE": self.cookie_secure,
            "KILN_SESSION_HOURS": self.session_hours,
            "KILN_SECRET_KEY": self.secret_key,
            **FIXED,
        }


#: The intake's limits that are not read from the environment (a test config may change them).
FIXED: dict[str, Any] = {
    "KILN_MAX_RESULTS_PER_REQUEST": 10_000,
    "KILN_LONG_POLL_MAX_S": 60.0,
    "KILN_LONG_POLL_INTERVAL_S": 0.2,
    "KILN_WORKER_MAX_AGE_S": 30,
    "KILN_RETRY_AFTER_S": 5,
    "KILN_REFIT_FLAG_TTL_S": 300,
    # Idempotency-Key: successful responses are replayed for a day; a request in flight holds
    # its key at most this long (then a retry may run it).
    "KILN_IDEMPOTENCY_TTL_S": 24 * 3600,
    "KILN_IDEMPOTENCY_LOCK_S": 60,
    "API_TITLE": "Kiln",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def flag(value: str) -> bool:
    """An environment flag: 1, true, yes or on (any case) is true."""
    return value.strip().lower() in ("1", "true", "yes", "on")
