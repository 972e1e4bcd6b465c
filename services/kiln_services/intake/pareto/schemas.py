"""Pareto schemas: the front of a multi-objective campaign, its hypervolume and their history."""

from __future__ import annotations

from marshmallow import Schema, fields


class FrontPointOut(Schema):
    sample_id = fields.String()
    parameters = fields.Dict()
    objectives = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "measured values in each objective's own unit"},
    )


class HypervolumeAtOut(Schema):
    data_version = fields.Integer()
    n_results = fields.Integer()
    hypervolume = fields.Float(allow_none=True)


class ParetoOut(Schema):
    campaign_id = fields.String()
    data_version = fields.Integer(metadata={"description": "the results log the report reads"})
    objectives = fields.List(fields.Dict(), metadata={"description": "the campaign's objectives"})
    reference_point = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "per objective, in its own unit: its threshold, else derived"},
    )
    reference_point_derived = fields.Dict(
        keys=fields.String(),
        values=fields.Boolean(),
        metadata={"description": "true where no threshold was given (derived from the data)"},
    )
    front = fields.List(
        fields.Nested(FrontPointOut),
        metadata={"description": "the non-dominated results meeting every outcome constraint"},
    )
    hypervolume = fields.Float(
        allow_none=True,
        metadata={
            "description": "dominated hypervolume on the model scale (log10 for log10 "
            "objectives) up to the reference point"
        },
    )
    n_results = fields.Integer()
    history = fields.List(
        fields.Nested(HypervolumeAtOut),
        metadata={"description": "hypervolume as results arrived (the same reference point)"},
    )
    outcome_constraints = fields.List(fields.Dict())
