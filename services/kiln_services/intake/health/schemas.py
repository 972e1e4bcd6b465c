"""Health schemas: the readiness answer."""

from __future__ import annotations

from marshmallow import Schema, fields


class HealthOut(Schema):
    status = fields.String()
    redis = fields.String()
    workers = fields.List(fields.String())
