"""Proposal schemas: a batch request, the ledger's proposals and batches, the model summary."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from kiln.ledger import STATUSES
from kiln.strategy import ACQUISITIONS, BATCH_METHODS, MAX_BATCH_SIZE, PARETO_ACQUISITIONS
from kiln_services.intake.base_schemas import (
    PageArgs,
    PageOut,
    StrictSchema,
    integer,
)


class ProposalRequestIn(StrictSchema):
    batch_size = integer(validate=validate.Range(min=1, max=MAX_BATCH_SIZE))
    acquisition = fields.String(validate=validate.OneOf(ACQUISITIONS + PARETO_ACQUISITIONS))
    batch_method = fields.String(validate=validate.OneOf(BATCH_METHODS))


class ProposalOut(Schema):
    id = fields.String()
    batch_id = fields.String()
    parameters = fields.Dict()
    predicted_mean = fields.Float(
        allow_none=True, metadata={"description": "one objective (null for several)"}
    )
    predicted_std = fields.Float(allow_none=True)
    predicted = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(allow_none=True),
        allow_none=True,
        metadata={
            "description": "several objectives: {name: {mean, std}} in each objective's unit "
            "(null in a space-filling batch)",
            "example": {"conductivity": {"mean": 9.8e-4, "std": 2.1e-4}},
        },
    )
    probability_feasible = fields.Float(
        allow_none=True,
        metadata={"description": "modelled probability of meeting every outcome constraint"},
    )
    acquisition_value = fields.Float(allow_none=True)
    candidate = fields.Integer(metadata={"description": "the pool row proposed (pools only)"})
    group = fields.Integer(
        metadata={"description": "with strategy.batch_shared: its group (one furnace run)"}
    )
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
    reference_point = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        allow_none=True,
        metadata={"description": "several objectives: the hypervolume reference point used"},
    )
    proposals = fields.List(fields.Nested(ProposalOut))


class LatestQueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    wait = fields.Float(  # a query string: "0.5" is the number 0.5 here
        allow_nan=False,
        load_default=0.0,
        validate=validate.Range(min=0, max=60, error="must be 0 to 60 seconds, not {input}"),
        metadata={"description": "long-poll seconds (at most 60) with If-None-Match"},
    )


class ModelVersionsOut(Schema):
    """The ids and versions every answer computed from a stored model carries."""

    campaign_id = fields.String()
    model_version = fields.Integer()
    data_version = fields.Integer()
    space_version = fields.Integer()


class ModelOut(ModelVersionsOut):
    fitted_at = fields.String()
    summary = fields.Dict()


class LedgerProposalOut(ProposalOut):
    provenance = fields.Dict(
        metadata={
            "description": "how it was made: model, data (and sha256), space versions, "
            "acquisition and its settings, kernel hyperparameters"
        }
    )
    reason = fields.String(metadata={"description": "why it was withdrawn"})


class LedgerBatchOut(BatchOut):
    provenance = fields.Dict()
    proposals = fields.List(fields.Nested(LedgerProposalOut))


class ProposalPageArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class ProposalPageOut(PageOut):
    items = fields.List(fields.Nested(LedgerProposalOut))


class PredictIn(StrictSchema):
    points = fields.List(
        fields.Dict(keys=fields.String(), values=fields.Raw()),
        required=True,
        validate=validate.Length(min=1, max=10_000),
        metadata={"description": "parameter objects, as in a result"},
    )
    acquisition = fields.String(validate=validate.OneOf(ACQUISITIONS))
    kappa = fields.Float(allow_nan=False, validate=validate.Range(min=0))
    xi = fields.Float(allow_nan=False, validate=validate.Range(min=0))
    objective = fields.String(
        metadata={
            "description": "the objective whose model answers: required for a multi-objective "
            "campaign (one of its objectives' names), else optional (the objective's name)"
        }
    )


class PredictionOut(Schema):
    parameters = fields.Dict()
    mean = fields.Float(allow_none=True)
    std = fields.Float(allow_none=True)
    acquisition_value = fields.Float(allow_none=True)
    probability_of_success = fields.Float()


class PredictOut(ModelVersionsOut):
    objective = fields.String(metadata={"description": "the objective predicted"})
    acquisition = fields.String(
        allow_none=True,
        metadata={"description": "null for one objective of several (batches use all)"},
    )
    unit = fields.String(allow_none=True)
    predictions = fields.List(fields.Nested(PredictionOut))


class SliceArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # fixed.<parameter>=value pairs are read from the query string

    x = fields.String(required=True)
    y = fields.String(required=True)
    points = fields.Integer(validate=validate.Range(min=2, max=101))
    acquisition = fields.String(validate=validate.OneOf(ACQUISITIONS))
    objective = fields.String(
        metadata={
            "description": "the objective whose model answers: required for a multi-objective "
            "campaign (one of its objectives' names), else optional (the objective's name)"
        }
    )


class SliceOut(ModelVersionsOut):
    x = fields.Dict()
    y = fields.Dict()
    fixed = fields.Dict()
    objective = fields.Dict()
    acquisition_name = fields.String(allow_none=True)
    mean = fields.List(fields.List(fields.Float(allow_none=True)))
    std = fields.List(fields.List(fields.Float(allow_none=True)))
    acquisition = fields.List(fields.List(fields.Float(allow_none=True)), allow_none=True)
    probability_of_success = fields.List(fields.List(fields.Float()), allow_none=True)
    observations = fields.List(fields.Dict())
    best_observed = fields.Dict()
