"""Result schemas: one result or many (JSON or CSV rows) in, the post's outcome and pages out."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from kiln_services.intake.base_schemas import (
    CsvRowsField,
    PageArgs,
    PageOut,
    Scalar,
    StrictSchema,
    finite,
    iso8601,
    key_field,
    name_length,
)


class ResultIn(StrictSchema):
    """One measured sample. A failed synthesis has "status": "failed" and no objective."""

    sample_id = fields.String(required=True, validate=name_length, metadata={"example": "LATP-042"})
    parameters = fields.Dict(
        keys=key_field,
        values=Scalar(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"example": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450}},
    )
    objective = finite(
        allow_none=True, metadata={"description": "omit for a failed synthesis", "example": 1.09e-3}
    )
    objective_sd = finite(
        allow_none=True,
        metadata={
            "description": "the measurement's standard deviation, in the objective's unit (> 0): "
            "the model weighs a precise result more than a rough one",
            "example": 4e-5,
        },
    )
    measurements = fields.Dict(
        keys=key_field,
        values=Scalar(allow_none=True),
        validate=validate.Length(max=100),
        metadata={"example": {"relative_density": 0.95}},
    )
    status = fields.String(load_default="ok", validate=validate.OneOf(("ok", "failed")))
    proposal_id = fields.String(allow_none=True, validate=name_length)
    measured_at = fields.String(
        allow_none=True,
        validate=[validate.Length(max=64), iso8601],
        metadata={"format": "date-time", "example": "2026-11-24T14:05:00Z"},
    )
    instrument = fields.String(allow_none=True, validate=validate.Length(max=200))


class ResultsIn(Schema):
    """One result, {"results": [...]}, a bare array, or text/csv (parsed into `csv` rows)."""

    class Meta:
        unknown = RAISE

    results = fields.List(fields.Nested(ResultIn), validate=validate.Length(min=1))
    csv = CsvRowsField(load_only=True)

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, list):
            return {"results": data}
        if isinstance(data, dict) and "results" not in data and "csv" not in data:
            return {"results": [data]}
        return data

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "results" not in data and "csv" not in data:
            raise ValidationError({"results": ["Missing data for required field."]})


class ResultOut(Schema):
    sample_id = fields.String()
    parameters = fields.Dict()
    objective = fields.Float(allow_none=True)
    objective_sd = fields.Float()
    measurements = fields.Dict()
    status = fields.String()
    proposal_id = fields.String(allow_none=True)
    matched_proposal_id = fields.String(allow_none=True)
    measured_at = fields.String(allow_none=True)
    instrument = fields.String(allow_none=True)
    flags = fields.List(fields.String())
    space_version = fields.Integer()
    received_at = fields.String()


class RowFlagsOut(Schema):
    index = fields.Integer()
    sample_id = fields.String()
    flags = fields.List(fields.String())


class ResultsPostOut(Schema):
    stored = fields.Integer()
    duplicates = fields.Integer()
    data_version = fields.Integer()
    flags = fields.List(fields.Nested(RowFlagsOut))
    measured_proposals = fields.List(fields.String())
    refit_enqueued = fields.Boolean()
    skipped = fields.Integer(
        metadata={
            "description": "CSV rows of a proposals export not filled in (a proposal's status "
            "such as pending, and no objective value): not stored"
        }
    )


class ResultsQueryArgs(PageArgs):
    limit = fields.Integer(
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "page size (default 100; CSV exports everything by default)"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class ResultPageOut(PageOut):
    items = fields.List(fields.Nested(ResultOut))
    data_version = fields.Integer()
