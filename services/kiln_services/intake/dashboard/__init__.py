"""The dashboard: campaigns, convergence, model slices, proposals and results in a browser.

Served by the intake at `/`. A person signs in with a token through a form; the token is kept in
Flask's signed, HttpOnly session cookie and never appears in a URL or in the page. The page's
scripts read the API through `/ui/api/...`, a same-origin, read-only relay that forwards to
`/api/v1/...` with the session's token, so the API's own authorisation (scopes, campaign-limited
tokens) applies unchanged. The one write, excluding or including a result with a reason, is a
form post carrying the session's CSRF token, forwarded as the API's PATCH with the session's
token (so its scope is checked there). Charts use the plotly.js bundle that the `plotly` wheel ships: no CDN.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import Flask

from kiln_services.intake import auth


def init_app(app: Flask) -> None:
    """Register the dashboard, give the app a session key, exempt it from the bearer check."""
    from kiln_services.intake.dashboard.views import ENDPOINTS, bp

    # Flask's defaults are set already, so replace them unless configured (FLASK_SESSION_...).
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("SESSION_COOKIE_NAME") == "session":
        app.config["SESSION_COOKIE_NAME"] = "kiln_session"
    secure = app.config.get("KILN_COOKIE_SECURE")  # None: unset, Flask's own setting decides
    if secure is not None:
        app.config["SESSION_COOKIE_SECURE"] = bool(secure)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=float(app.config["KILN_SESSION_HOURS"])
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = session_key(app)
    app.register_blueprint(bp)
    # Dashboard pages authenticate by session (the relay then sends the bearer token itself).
    auth.PUBLIC_ENDPOINTS.update(f"{bp.name}.{name}" for name in ENDPOINTS)


def session_key(app: Flask) -> str:
    """The key that signs session cookies; every process of a deployment must agree on it.

    KILN_SECRET_KEY if set; else derived from KILN_ADMIN_TOKEN (a secret every intake process
    already shares; rotating it signs everyone out); else a random key made once per process
    (sign-ins then do not carry across gunicorn workers or restarts, hence the warning).
    """
    explicit = app.config.get("KILN_SECRET_KEY")
    if explicit:
        return explicit
    admin = app.config.get("KILN_ADMIN_TOKEN")
    if admin:
        return hmac.new(str(admin).encode(), b"kiln dashboard session", hashlib.sha256).hexdigest()
    app.logger.warning(
        "dashboard: neither KILN_SECRET_KEY nor KILN_ADMIN_TOKEN is set; sessions are signed "
        "with a key of this process only"
    )
    return secrets.token_hex(32)
