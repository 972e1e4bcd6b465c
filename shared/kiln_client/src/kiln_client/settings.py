"""Where the client finds its server and token: the environment, then the local stack's defaults.

One source for the client's settings, read by the ``kiln`` command, ``python -m kiln_client.demo``
and :meth:`kiln_client.client.Client.from_env`:

``KILN_URL``
    The server (default ``http://127.0.0.1:$PORT``, ``PORT`` default 8000: where ``make run``
    listens).
``KILN_TOKEN``
    A bearer token; else ``KILN_ADMIN_TOKEN``; else the first line of the token file.
``KILN_TOKEN_FILE``
    The token file (default ``var/admin_token``, where ``make run`` keeps the admin token it
    generated). The client only reads the file; it knows nothing else of the stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

DEFAULT_PORT = "8000"
#: Where a local ``make run`` keeps its admin token (relative to the working directory).
DEFAULT_TOKEN_FILE = Path("var") / "admin_token"


def default_url(env: Mapping[str, str] | None = None) -> str:
    """``KILN_URL``, else the local stack at ``http://127.0.0.1:$PORT``.

    Args:
        env: The environment to read (default ``os.environ``).

    Returns:
        The server's root URL.
    """
    env = os.environ if env is None else env
    return env.get("KILN_URL") or f"http://127.0.0.1:{env.get('PORT') or DEFAULT_PORT}"


def token_file(env: Mapping[str, str] | None = None) -> Path:
    """The token file: ``KILN_TOKEN_FILE``, else ``var/admin_token``.

    Args:
        env: The environment to read (default ``os.environ``).

    Returns:
        The path (it may not exist).
    """
    env = os.environ if env is None else env
    return Path(env["KILN_TOKEN_FILE"]) if env.get("KILN_TOKEN_FILE") else DEFAULT_TOKEN_FILE


def resolve_token(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The token to send: ``explicit``, else ``KILN_TOKEN``, ``KILN_ADMIN_TOKEN``, the token file.

    Args:
        explicit: A token given on the command line (``--token``), if any.
        env: The environment to read (default ``os.environ``).

    Returns:
        The token, or None when none of them holds one.
    """
    env = os.environ if env is None else env
    for token in (explicit, env.get("KILN_TOKEN"), env.get("KILN_ADMIN_TOKEN")):
        if token:
            return token
    try:
        return token_file(env).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def missing_token_hint(env: Mapping[str, str] | None = None) -> str:
    """What to do when no token is found (names the variables and the file looked at)."""
    return (
        "no token: pass --token or set KILN_TOKEN (a local `make run` keeps the admin token in "
        f"{token_file(env)}; KILN_TOKEN_FILE points elsewhere)"
    )
