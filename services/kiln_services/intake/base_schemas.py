"""Schema pieces every resource's schemas use: strict fields, the strict base schema, pages, CSV
rows and the problem (the one error shape)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from kiln.pool import MAX_CANDIDATES

name_length = validate.Length(min=1, max=200)


class StrictFloat(fields.Float):
    """A JSON number: a string such as "1.5" is a type error, not silently converted."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            raise ValidationError(
                f"{value!r} is a string: send the value as a JSON number, without quotes"
            )
        return super()._deserialize(value, attr, data, **kwargs)


def finite(**kwargs: Any) -> fields.Float:
    return StrictFloat(allow_nan=False, **kwargs)


def integer(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only (0, 1, "yes" are type errors)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def boolean(**kwargs: Any) -> fields.Boolean:
    return StrictBoolean(**kwargs)


def iso8601(value: str) -> None:
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(
            f"{value!r} is not an ISO 8601 date-time, e.g. 2026-11-24T14:05:00Z"
        ) from exc


class Scalar(fields.Field):
    """A measured value: a finite number, a bounded string or a boolean (never a container)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "maxLength": 200},
                {"type": "boolean"},
            ],
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an integer literal beyond any float
                finite = False
            if not finite:
                raise ValidationError("must be a finite number (within ±1.8e308)")
            return value
        if isinstance(value, str):
            if len(value) > 200:
                raise ValidationError("at most 200 characters")
            return value
        raise ValidationError("must be a number, a string or a boolean")


key_field = fields.String(validate=validate.Length(min=1, max=100))


class StrictSchema(Schema):
    """Unknown fields are an error: a typo must not be silently dropped."""

    class Meta:
        unknown = RAISE


class CandidateRows(fields.Field):
    """A list of candidate rows (objects of parameter values), checked row by row by kiln.pool.

    Only the shape is checked here: marshmallow would take seconds over 10^5 rows, and kiln's
    check names the row and parameter (``candidates.<row>.<parameter>``).
    """

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "type": "array",
            "items": {"type": "object", "additionalProperties": {}},
            "maxItems": MAX_CANDIDATES,
            "description": "candidate rows: {parameter name: value}, every parameter; a row's "
            "id is its position in the campaign's pool",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list):
            raise ValidationError("must be a list of objects of parameter values")
        if len(value) > MAX_CANDIDATES:
            raise ValidationError(f"at most {MAX_CANDIDATES} candidates")
        return value


class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class PageOut(Schema):
    offset = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()
    next = fields.String(allow_none=True, metadata={"description": "Link to the next page"})


class CsvRows(list):  # type: ignore[type-arg]
    """Rows parsed from a text/csv body (a JSON body can never produce this type)."""


class CsvRowsField(fields.Field):
    """The rows of a text/csv body; a JSON body naming "csv" is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, CsvRows):
            raise ValidationError("unknown field (post CSV as a text/csv body)")
        if not value:
            raise ValidationError("no rows")
        return list(value)


class ProblemOut(Schema):
    """The one error shape (RFC 9457 problem details), served as application/problem+json."""

    class Meta:
        description = "RFC 9457 problem details; `errors` maps field paths to messages"

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "field path (e.g. results.2.objective) -> messages"},
    )
    request_id = fields.String(
        metadata={"description": "the request's X-Request-ID, as in the logs; quote it"}
    )
