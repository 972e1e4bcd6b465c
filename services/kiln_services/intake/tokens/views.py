"""Tokens: an admin issues, lists and revokes read, write or admin tokens (shown once, hashed)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView

from kiln_services.intake import openapi_examples as ex
from kiln_services.intake.auth import digest, new_token, requires
from kiln_services.intake.base_schemas import PageArgs
from kiln_services.intake.blueprint import Blueprint
from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import get_store
from kiln_services.intake.paging import page
from kiln_services.intake.tokens.schemas import TokenIn, TokenOut, TokenPageOut

blp = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens", description="API tokens")


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A token record without its digest (and, after creation, without the secret)."""
    return {k: v for k, v in record.items() if k not in ("digest", "token", "created_ns")}


@blp.route("")
class Tokens(MethodView):
    @requires("admin")
    @blp.arguments(TokenIn, example={"scope": "write", "name": "lims-bay-3"})
    @blp.response(201, TokenOut, example=ex.TOKEN_CREATED)
    @blp.alt_response(409, description="A live token has this name (names are unique)")
    @blp.doc(operationId="createToken", responses=ex.links(201, "token_id", "revokeToken"))
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Issue a token with a scope (the secret is in this response only)."""
        store = get_store()
        if body.get("campaign_id"):
            store.campaigns.get(body["campaign_id"])  # 404 for a campaign that does not exist
        token = new_token()
        record = store.tokens.add(
            digest(token), body["scope"], body["name"], campaign_id=body.get("campaign_id")
        )
        location = url_for(".Token", token_id=record["id"])
        return {**public(record), "token": token}, 201, {"Location": location}

    @requires("admin")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TokenPageOut)
    @blp.doc(operationId="listTokens")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List tokens, oldest first: ids, names, scopes, never secrets."""
        records = get_store().tokens.all()
        offset, limit = args["offset"], args["limit"]
        items = records[offset : offset + limit]
        return page([public(r) for r in items], offset, limit, len(records), ".Tokens")


@blp.route("/<token_id>")
class Token(MethodView):
    @requires("admin")
    @blp.response(204)
    @blp.alt_response(404, description="No token has this id")
    @blp.doc(operationId="revokeToken")
    def delete(self, token_id: str) -> None:
        """Revoke a token: it is refused from the next request on."""
        if not get_store().tokens.revoke(token_id):
            raise ApiProblem(404, "Not Found", f"no token with id {token_id!r}", kind="not-found")
