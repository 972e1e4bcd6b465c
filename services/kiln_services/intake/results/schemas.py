"""Result schemas: one result or many (JSON or CSV rows) in, the post's outcome and pages out."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from kiln.corrections import PATCHABLE
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


def parameters_field(description: str | None = None, **kwargs: Any) -> fields.Dict:
    """A result's parameters: name -> value."""
    example = {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450}
    metadata = {"example": example, **({"description": description} if description else {})}
    return fields.Dict(
        keys=key_field,
        values=Scalar(),
        validate=validate.Length(min=1, max=50),
        metadata=metadata,
        **kwargs,
    )


class ResultIn(StrictSchema):
    """One measured sample: "objective" (one objective) or "objectives" (several). A failed
    synthesis has "status": "failed" and no objective value."""

    sample_id = fields.String(required=True, validate=name_length, metadata={"example": "LATP-042"})
    parameters = parameters_field(required=True)
    objective = finite(
        allow_none=True, metadata={"description": "omit for a failed synthesis", "example": 1.09e-3}
    )
    objectives = fields.Dict(
        keys=key_field,
        values=finite(allow_none=True),
        validate=validate.Length(max=20),
        metadata={
            "description": "a multi-objective campaign's values by objective name (one may be "
            "missing: it trains the others' models); omit for a failed synthesis",
            "example": {"conductivity": 1.1e-3, "relative_density": 0.96},
        },
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


#: A correction's reason: required, at most this many characters (after stripping).
MAX_REASON_LENGTH = 500


class ResultPatchIn(StrictSchema):
    """A correction of a stored result: a reason and the fields to change (kiln.campaign's
    correct_result refuses one that changes nothing)."""

    reason = fields.String(
        required=True,
        metadata={"description": "why (1-500 characters)", "example": "typo: 1e300 for 1.2e-3"},
    )
    parameters = parameters_field("the named parameters replaced (the others are kept)")
    objective = finite(allow_none=True, metadata={"description": "null only with status failed"})
    objectives = fields.Dict(
        keys=key_field,
        values=finite(allow_none=True),
        validate=validate.Length(max=20),
        metadata={"description": "several objectives: keys merged; a key with null removes it"},
    )
    objective_sd = finite(
        allow_none=True,
        validate=validate.Range(min=0, min_inclusive=False),
        metadata={"description": "> 0, in the objective's unit; null removes it"},
    )
    measurements = fields.Dict(
        keys=key_field,
        values=Scalar(allow_none=True),
        validate=validate.Length(max=100),
        metadata={"description": "keys merged; a key with null removes it"},
    )
    status = fields.String(validate=validate.OneOf(("ok", "failed")))
    excluded = fields.Boolean(truthy={True}, falsy={False})

    @pre_load
    def _not_patchable(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict):
            fixed = [k for k in ResultOut._declared_fields if k in data and k not in PATCHABLE]
            if fixed:
                raise ValidationError({k: [f"{k} cannot be corrected"] for k in fixed})
        return data

    @post_load
    def _reason(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        reason = data["reason"].strip()
        if not 1 <= len(reason) <= MAX_REASON_LENGTH:
            raise ValidationError({"reason": [f"1 to {MAX_REASON_LENGTH} characters, not blank"]})
        return {**data, "reason": reason}


class ResultOut(Schema):
    sample_id = fields.String()
    parameters = fields.Dict()
    objective = fields.Float(allow_none=True)
    objectives = fields.Dict(
        keys=fields.String(), values=fields.Float(), metadata={"description": "several objectives"}
    )
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
    revision = fields.Integer(metadata={"description": "corrections so far (0: never corrected)"})
    excluded = fields.Boolean(metadata={"description": "set aside: no model trains on it"})


class RevisionOut(Schema):
    sample_id = fields.String()
    revision = fields.Integer()
    at = fields.String()
    by = fields.String(metadata={"description": "the name of the token that corrected it"})
    reason = fields.String()
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={"example": {"objective": {"from": 1e300, "to": 1.2e-3}}},
    )


class ResultViewOut(ResultOut):
    """A result's current value and its corrections, oldest first."""

    revisions = fields.List(fields.Nested(RevisionOut))


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
    excluded = fields.Boolean(
        metadata={"description": "only excluded results (true) or only the others (false)"}
    )


class ResultPageOut(PageOut):
    items = fields.List(fields.Nested(ResultOut))
    data_version = fields.Integer()
