"""Candidate-pool schemas: rows in (JSON or CSV), removals, rows with their status out."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from kiln.pool import MAX_CANDIDATES
from kiln.pool import STATUSES as CANDIDATE_STATUSES
from kiln_services.intake.base_schemas import (
    CandidateRows,
    CsvRowsField,
    PageArgs,
    PageOut,
    StrictSchema,
    integer,
)


class CandidatesIn(Schema):
    """Rows to add: a bare array, {"candidates": [...]}, or text/csv (parsed into `csv` rows)."""

    class Meta:
        unknown = RAISE

    candidates = CandidateRows()
    csv = CsvRowsField(load_only=True)

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        return {"candidates": data} if isinstance(data, list) else data

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "candidates" not in data and "csv" not in data:
            raise ValidationError({"candidates": ["Missing data for required field."]})
        if data.get("candidates") == []:
            raise ValidationError({"candidates": ["no rows"]})


class CandidatesPostOut(Schema):
    added = fields.Integer()
    ids = fields.List(fields.Integer(), metadata={"description": "ids of the new rows, in order"})
    total = fields.Integer()
    space_version = fields.Integer()


class CandidatesPatchIn(StrictSchema):
    """Take rows out of the pool for good (their ids stay; pending proposals are withdrawn)."""

    remove = fields.List(
        integer(validate=validate.Range(min=0)),
        required=True,
        validate=validate.Length(min=1, max=MAX_CANDIDATES),
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CandidatesPatchOut(Schema):
    removed = fields.List(fields.Integer())
    already_removed = fields.List(fields.Integer())
    withdrawn_proposals = fields.List(fields.String())
    space_version = fields.Integer()


class CandidateOut(Schema):
    id = fields.Integer()
    parameters = fields.Dict()
    status = fields.String(
        metadata={
            "enum": list(CANDIDATE_STATUSES),
            "description": "open: may be proposed; pending: proposed, not yet measured; "
            "measured; removed: taken out for good; outside: a value the campaign's current "
            "ranges, listed values or labels exclude (not proposed until a PATCH widens them)",
        }
    )
    parameter = fields.String(
        metadata={"description": "outside rows: the first parameter whose value is excluded"}
    )
    reason = fields.String(
        metadata={"description": "why a removed row was removed, or why an outside row is"}
    )
    removed_at = fields.String()


class CandidatesQueryArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(CANDIDATE_STATUSES))


class CandidatePageOut(PageOut):
    items = fields.List(fields.Nested(CandidateOut))
    counts = fields.Dict(
        keys=fields.String(), values=fields.Integer(), metadata={"description": "rows by status"}
    )
    space_version = fields.Integer()
