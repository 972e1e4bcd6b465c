"""Tokens: an admin issues read, write or admin tokens (shown once, stored hashed)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from intake.auth import digest, new_token, requires
from intake.extensions import get_store
from intake.parsing import Blueprint
from intake.schemas import TokenIn, TokenOut

blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens")


@blp.route("")
class Tokens(MethodView):
    @requires("admin")
    @blp.arguments(TokenIn)
    @blp.response(201, TokenOut)
    @blp.doc(security=[{"bearerAuth": []}])
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Issue a token with a scope."""
        token = new_token()
        record = get_store().add_token(digest(token), body["scope"], body["name"])
        return {**record, "token": token}
