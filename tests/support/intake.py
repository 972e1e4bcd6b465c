"""The intake app as the integration tests build it: on a given Redis, with an admin token."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kiln_services.intake import create_app

#: The bootstrap admin token of the test app (send it as ``Authorization: Bearer admin-token``).
ADMIN_TOKEN = "admin-token"
#: The headers of a request with that token.
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def intake_app(redis_url: str, **config: Any) -> Flask:
    """The intake app on `redis_url` in testing mode with `ADMIN_TOKEN`; `config` entries win."""
    return create_app(
        {"TESTING": True, "REDIS_URL": redis_url, "KILN_ADMIN_TOKEN": ADMIN_TOKEN, **config}
    )
