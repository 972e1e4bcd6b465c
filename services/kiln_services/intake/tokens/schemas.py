"""Token schemas: an issue request in, token records (the secret once) out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kiln_services.intake.auth import SCOPES
from kiln_services.intake.base_schemas import PageOut, StrictSchema, name_length


class TokenIn(StrictSchema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    name = fields.String(required=True, validate=name_length, metadata={"example": "lims-bay-3"})
    campaign_id = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "limit a read or write token to this one campaign"},
    )

    @validates_schema
    def _admin_is_global(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("campaign_id") and data.get("scope") == "admin":
            raise ValidationError({"campaign_id": ["an admin token cannot be limited"]})


class TokenInfoOut(Schema):
    id = fields.String(metadata={"description": "public id, for DELETE /tokens/{id}"})
    scope = fields.String()
    name = fields.String()
    campaign_id = fields.String(allow_none=True)
    created_at = fields.String()


class TokenOut(TokenInfoOut):
    token = fields.String(
        metadata={"description": "the secret, in the creating response only; stored hashed"}
    )


class TokenPageOut(PageOut):
    items = fields.List(fields.Nested(TokenInfoOut))
