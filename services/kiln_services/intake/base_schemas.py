"""The API's marshmallow schemas: one per direction and location (…In, …Out, …Args)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from kiln.pool import MAX_CANDIDATES
from kiln.pool import STATUSES as CANDIDATE_STATUSES

ACQUISITIONS = ("ucb", "ei", "pi", "random")
BATCH_METHODS = (
    "kriging_believer",
    "constant_liar_min",
    "constant_liar_mean",
    "constant_liar_max",
)
PRESETS = ("latp",)
SCOPES = ("read", "write", "admin")

_name = validate.Length(min=1, max=200)


class StrictFloat(fields.Float):
    """A JSON number: a string such as "1.5" is a type error, not silently converted."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _finite(**kwargs: Any) -> fields.Float:
    return StrictFloat(allow_nan=False, **kwargs)


def _integer(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only (0, 1, "yes" are type errors)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _boolean(**kwargs: Any) -> fields.Boolean:
    return StrictBoolean(**kwargs)


def _iso8601(value: str) -> None:
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


_key = fields.String(validate=validate.Length(min=1, max=100))


class StrictSchema(Schema):
    """Unknown fields are an error: a typo must not be silently dropped."""

    class Meta:
        unknown = RAISE


# -- campaigns ------------------------------------------------------------------------------------


class ParameterIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(
        required=True, validate=validate.OneOf(("continuous", "discrete", "categorical"))
    )
    low = _finite()
    high = _finite()
    step = _finite(allow_none=True)
    values = fields.List(Scalar(), validate=validate.Length(min=1, max=10_000))
    unit = fields.String(allow_none=True, validate=validate.Length(max=50))
    hard_low = _finite(allow_none=True)
    hard_high = _finite(allow_none=True)


class ObjectiveIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(allow_none=True, validate=validate.Length(max=50))
    goal = fields.String(validate=validate.OneOf(("maximize", "minimize")))
    transform = fields.String(validate=validate.OneOf(("log10", "none")))


class StrategyIn(StrictSchema):
    acquisition = fields.String(validate=validate.OneOf(ACQUISITIONS))
    kappa = _finite(validate=validate.Range(min=0))
    xi = _finite(validate=validate.Range(min=0))
    batch_size = _integer(validate=validate.Range(min=1, max=100))
    batch_method = fields.String(validate=validate.OneOf(BATCH_METHODS))
    auto_batch = _boolean()
    proposal_ttl_s = _integer(validate=validate.Range(min=1, max=10 * 365 * 86400))


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


class CampaignIn(StrictSchema):
    """A campaign definition, or {"preset": "latp"} (optionally with a name)."""

    preset = fields.String(validate=validate.OneOf(PRESETS))
    name = fields.String(validate=_name)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(fields.Nested(ParameterIn), validate=validate.Length(min=1, max=50))
    objective = fields.Nested(ObjectiveIn)
    strategy = fields.Nested(StrategyIn)
    candidates = CandidateRows()

    @validates_schema
    def _definition_or_preset(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("preset"):
            defined = {
                key: [f"the preset {data['preset']!r} defines its own {key}"]
                for key in ("parameters", "objective")
                if key in data
            }
            if defined:
                raise ValidationError(defined)
            return
        missing = {
            key: ["Missing data for required field."]
            for key in ("name", "parameters", "objective")
            if key not in data
        }
        if missing:
            raise ValidationError(missing)


class CampaignDefinitionIn(StrictSchema):
    """A campaign defined in full (the documented form of CampaignIn without a preset)."""

    name = fields.String(required=True, validate=_name)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(
        fields.Nested(ParameterIn), required=True, validate=validate.Length(min=1, max=50)
    )
    objective = fields.Nested(ObjectiveIn, required=True)
    strategy = fields.Nested(StrategyIn)
    candidates = CandidateRows(
        metadata={"description": "optional candidate pool: proposals come only from its rows"}
    )


class CampaignPresetIn(StrictSchema):
    """A campaign from a preset (the documented form of CampaignIn with a preset)."""

    preset = fields.String(required=True, validate=validate.OneOf(PRESETS))
    name = fields.String(validate=_name)
    description = fields.String(validate=validate.Length(max=2000))
    strategy = fields.Nested(StrategyIn)


class CampaignPatchIn(StrictSchema):
    """New ranges (the full parameter list, same names and kinds), strategy fields, or name."""

    name = fields.String(validate=_name)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(fields.Nested(ParameterIn), validate=validate.Length(min=1, max=50))
    strategy = fields.Nested(StrategyIn)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(
                "nothing to change: give parameters, strategy, name or description"
            )


class CountsOut(Schema):
    results = fields.Integer()
    proposals_pending = fields.Integer()
    proposals = fields.Integer()
    batches = fields.Integer()
    model_version = fields.Integer(allow_none=True)
    candidates = fields.Integer(metadata={"description": "rows in the candidate pool (0: none)"})


class CampaignOut(Schema):
    id = fields.String(dump_only=True)
    name = fields.String()
    description = fields.String()
    parameters = fields.List(fields.Dict())
    objective = fields.Dict()
    strategy = fields.Dict()
    space_version = fields.Integer(dump_only=True)
    created_at = fields.String(dump_only=True)
    updated_at = fields.String(dump_only=True)
    counts = fields.Nested(CountsOut, dump_only=True)


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


class CampaignPageOut(PageOut):
    items = fields.List(fields.Nested(CampaignOut))


# -- results --------------------------------------------------------------------------------------


class ResultIn(StrictSchema):
    """One measured sample. A failed synthesis has "status": "failed" and no objective."""

    sample_id = fields.String(required=True, validate=_name, metadata={"example": "LATP-042"})
    parameters = fields.Dict(
        keys=_key,
        values=Scalar(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"example": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450}},
    )
    objective = _finite(
        allow_none=True,
        metadata={"description": "omit for a failed synthesis", "example": 1.09e-3},
    )
    measurements = fields.Dict(
        keys=_key,
        values=Scalar(allow_none=True),
        validate=validate.Length(max=100),
        metadata={"example": {"relative_density": 0.95}},
    )
    status = fields.String(load_default="ok", validate=validate.OneOf(("ok", "failed")))
    proposal_id = fields.String(allow_none=True, validate=_name)
    measured_at = fields.String(
        allow_none=True,
        validate=[validate.Length(max=64), _iso8601],
        metadata={"format": "date-time", "example": "2026-11-24T14:05:00Z"},
    )
    instrument = fields.String(allow_none=True, validate=validate.Length(max=200))


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


class ResultsQueryArgs(PageArgs):
    limit = fields.Integer(
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "page size (default 100; CSV exports everything by default)"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class ResultPageOut(PageOut):
    items = fields.List(fields.Nested(ResultOut))
    data_version = fields.Integer()


# -- candidate pools ------------------------------------------------------------------------------


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
        _integer(validate=validate.Range(min=0)),
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


# -- proposals, jobs, models ----------------------------------------------------------------------


class ProposalRequestIn(StrictSchema):
    batch_size = _integer(validate=validate.Range(min=1, max=100))
    acquisition = fields.String(validate=validate.OneOf(ACQUISITIONS))
    batch_method = fields.String(validate=validate.OneOf(BATCH_METHODS))


class BenchmarkIn(StrictSchema):
    """Virtual experiments (the study's model-selection protocol) on the campaign's own data."""

    strategies = fields.List(
        fields.String(validate=validate.OneOf(ACQUISITIONS)),
        load_default=lambda: list(ACQUISITIONS),
        validate=validate.Length(min=1, max=len(ACQUISITIONS)),
    )
    n_inits = fields.List(
        _integer(validate=validate.Range(min=1, max=100_000)),
        load_default=lambda: [1, 5, 10, 15, 20, 30, 40, 50],
        validate=validate.Length(min=1, max=50),
    )
    repeats = _integer(load_default=200, validate=validate.Range(min=1, max=1000))
    noise_sd = _finite(load_default=0.02, validate=validate.Range(min=0))
    kappa = _finite(load_default=1.96, validate=validate.Range(min=0))
    xi = _finite(load_default=0.01, validate=validate.Range(min=0))
    seed = _integer(load_default=0, validate=validate.Range(min=0, max=2**32 - 1))
    chunk_size = _integer(
        load_default=20,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "repeats per worker task (the unit of fan-out)"},
    )


class ProposalOut(Schema):
    id = fields.String()
    batch_id = fields.String()
    parameters = fields.Dict()
    predicted_mean = fields.Float(allow_none=True)
    predicted_std = fields.Float(allow_none=True)
    acquisition_value = fields.Float(allow_none=True)
    candidate = fields.Integer(metadata={"description": "the pool row proposed (pools only)"})
    status = fields.String()
    model_version = fields.Integer(allow_none=True)
    data_version = fields.Integer()
    space_version = fields.Integer()
    created_at = fields.String()
    expires_at = fields.String(allow_none=True)
    withdrawn_at = fields.String()
    sample_id = fields.String(metadata={"description": "the result that measured it"})


class BatchOut(Schema):
    batch_id = fields.String()
    campaign_id = fields.String()
    job_id = fields.String(allow_none=True)
    created_at = fields.String()
    model_version = fields.Integer(allow_none=True)
    data_version = fields.Integer()
    space_version = fields.Integer()
    acquisition = fields.String()
    batch_method = fields.String()
    exhausted = fields.Boolean()
    fallback = fields.String(allow_none=True)
    proposals = fields.List(fields.Nested(ProposalOut))


class LatestQueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    wait = fields.Float(  # a query string: "0.5" is the number 0.5 here
        allow_nan=False,
        load_default=0.0,
        validate=validate.Range(min=0, max=60),
        metadata={"description": "long-poll seconds (at most 60) with If-None-Match"},
    )


class JobOut(Schema):
    id = fields.String()
    kind = fields.String()
    state = fields.String(validate=validate.OneOf(("queued", "running", "done", "failed")))
    campaign_id = fields.String(allow_none=True)
    params = fields.Dict()
    result = fields.Raw(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    progress = fields.Dict(allow_none=True, metadata={"description": "fan-out jobs: chunks done"})


class ModelOut(Schema):
    campaign_id = fields.String()
    model_version = fields.Integer()
    data_version = fields.Integer()
    space_version = fields.Integer()
    fitted_at = fields.String()
    summary = fields.Dict()


# -- tokens and health ----------------------------------------------------------------------------


class TokenIn(StrictSchema):
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    name = fields.String(required=True, validate=_name, metadata={"example": "lims-bay-3"})
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


class HealthOut(Schema):
    status = fields.String()
    redis = fields.String()
    workers = fields.List(fields.String())


class ProblemOut(Schema):
    """The one error shape (RFC 9457 problem details), served as application/problem+json."""

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
