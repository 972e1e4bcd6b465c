"""Job schemas: a benchmark request in, a job (proposals or benchmarks) out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from kiln.strategy import ACQUISITIONS
from kiln_services.intake.base_schemas import PageOut, StrictSchema, finite, integer


class BenchmarkIn(StrictSchema):
    """Virtual experiments (the study's model-selection protocol) on the campaign's own data."""

    strategies = fields.List(
        fields.String(validate=validate.OneOf(ACQUISITIONS)),
        load_default=lambda: list(ACQUISITIONS),
        validate=validate.Length(min=1, max=len(ACQUISITIONS)),
    )
    n_inits = fields.List(
        integer(validate=validate.Range(min=1, max=100_000)),
        load_default=lambda: [1, 5, 10, 15, 20, 30, 40, 50],
        validate=validate.Length(min=1, max=50),
    )
    repeats = integer(load_default=200, validate=validate.Range(min=1, max=1000))
    noise_sd = finite(load_default=0.02, validate=validate.Range(min=0))
    kappa = finite(load_default=1.96, validate=validate.Range(min=0))
    xi = finite(load_default=0.01, validate=validate.Range(min=0))
    seed = integer(load_default=0, validate=validate.Range(min=0, max=2**32 - 1))
    chunk_size = integer(
        load_default=20,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "repeats per worker task (the unit of fan-out)"},
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
    progress = fields.Dict(
        allow_none=True,
        metadata={
            "description": "fan-out jobs: done/total repeats, chunks_done/chunks_total, and "
            "estimated_seconds (the whole job, estimated when it is planned)"
        },
    )


class JobPageOut(PageOut):
    items = fields.List(fields.Nested(JobOut))
