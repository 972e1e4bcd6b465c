"""Campaign schemas: a definition or a preset in, a PATCH, a campaign with its counts out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kiln.constraints.definitions import MAX_CONSTRAINTS
from kiln.multiobjective.outcomes import OUTCOME_OPS
from kiln.objective import GOALS, TRANSFORMS
from kiln.parameters import SCALES
from kiln.presets import PRESETS
from kiln.strategy import ACQUISITIONS, BATCH_METHODS, MAX_BATCH_SIZE, PARETO_ACQUISITIONS
from kiln_services.intake.base_schemas import (
    CandidateRows,
    PageArgs,
    PageOut,
    Scalar,
    StrictSchema,
    boolean,
    finite,
    integer,
    name_length,
)


class ParameterIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(
        required=True, validate=validate.OneOf(("continuous", "discrete", "categorical"))
    )
    low = finite()
    high = finite()
    step = finite(allow_none=True)
    values = fields.List(Scalar(), validate=validate.Length(min=1, max=10_000))
    unit = fields.String(allow_none=True, validate=validate.Length(max=50))
    hard_low = finite(allow_none=True)
    hard_high = finite(allow_none=True)
    scale = fields.String(
        validate=validate.OneOf(SCALES),
        allow_none=True,
        metadata={
            "description": "continuous and discrete only: 'log' models and samples the parameter "
            "on a log scale (for quantities that act by factors, like holding times; low and "
            "hard_low must then be > 0); 'linear' (the default) otherwise"
        },
    )


class ObjectiveIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(allow_none=True, validate=validate.Length(max=50))
    goal = fields.String(validate=validate.OneOf(GOALS))
    transform = fields.String(validate=validate.OneOf(TRANSFORMS))


class ObjectiveSpecIn(ObjectiveIn):
    """One of a campaign's ``objectives``: an objective and the worst value still worth having."""

    threshold = finite(
        allow_none=True,
        metadata={
            "description": "the worst value still worth having, in the objective's unit (> 0 "
            "under log10): its coordinate of the hypervolume reference point; without one the "
            "reference point is derived from the data"
        },
    )


class MeasurementIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit = fields.String(allow_none=True, validate=validate.Length(max=50))


class OutcomeConstraintIn(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "an objective or a declared measurement"},
    )
    op = fields.String(required=True, validate=validate.OneOf(OUTCOME_OPS))
    value = finite(required=True, metadata={"description": "in the named quantity's unit"})


def objectives_field(**kwargs: Any) -> fields.List:
    """A campaign's ``objectives`` (how many: kiln.campaign's rule, named in its 422)."""
    return fields.List(
        fields.Nested(ObjectiveSpecIn),
        metadata={
            "description": "1-4 objectives optimised together (Pareto); one means the "
            "singular objective"
        },
        **kwargs,
    )


def measurements_field() -> fields.List:
    """A campaign's declared ``measurements`` (outcome constraints may name them)."""
    return fields.List(
        fields.Nested(MeasurementIn),
        validate=validate.Length(max=100),
        metadata={"description": "quantities results post in `measurements`"},
    )


def outcome_constraints_field() -> fields.List:
    """A campaign's ``outcome_constraints`` (names checked by kiln.campaign)."""
    return fields.List(
        fields.Nested(OutcomeConstraintIn),
        validate=validate.Length(max=20),
        metadata={
            "description": "proposals are weighted by the modelled probability of meeting "
            "each; the Pareto front holds only results meeting them"
        },
    )


class BatchSharedIn(StrictSchema):
    parameters = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "parameters the proposals of one group share"},
    )
    groups = integer(
        validate=validate.Range(min=1, max=MAX_BATCH_SIZE),
        metadata={"description": "at most this many groups (furnace runs) per batch; default 1"},
    )


def constraints_field() -> fields.List:
    """A campaign's ``constraints``: objects checked by kiln.constraints (fields named there)."""
    return fields.List(
        fields.Dict(),
        validate=validate.Length(max=MAX_CONSTRAINTS),
        metadata={
            "description": 'linear {"kind": "linear", "terms": {...}, "op": "<=", "rhs": 1} or '
            'forbidden {"kind": "forbidden", "when": {"temperature_c": {">=": 1050}}}'
        },
    )


class StrategyIn(StrictSchema):
    acquisition = fields.String(
        validate=validate.OneOf(ACQUISITIONS + PARETO_ACQUISITIONS),
        metadata={"description": "ehvi or parego (or random) for several objectives"},
    )
    kappa = finite(validate=validate.Range(min=0))
    xi = finite(validate=validate.Range(min=0))
    batch_size = integer(validate=validate.Range(min=1, max=MAX_BATCH_SIZE))
    batch_method = fields.String(validate=validate.OneOf(BATCH_METHODS))
    auto_batch = boolean()
    proposal_ttl_s = integer(validate=validate.Range(min=1, max=10 * 365 * 86400))
    batch_shared = fields.Nested(BatchSharedIn, allow_none=True)


class CampaignIn(StrictSchema):
    """A campaign definition, or {"preset": "latp"} (optionally with a name)."""

    preset = fields.String(validate=validate.OneOf(PRESETS))
    name = fields.String(validate=name_length)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(fields.Nested(ParameterIn), validate=validate.Length(min=1, max=50))
    objective = fields.Nested(ObjectiveIn)
    objectives = objectives_field()
    measurements = measurements_field()
    outcome_constraints = outcome_constraints_field()
    strategy = fields.Nested(StrategyIn)
    constraints = constraints_field()
    candidates = CandidateRows()

    @validates_schema
    def _definition_or_preset(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("preset"):
            defined = {
                key: [f"the preset {data['preset']!r} defines its own {key}"]
                for key in ("parameters", "objective", "objectives")
                if key in data
            }
            if defined:
                raise ValidationError(defined)
            return
        missing = {
            key: ["Missing data for required field."]
            for key in ("name", "parameters")
            if key not in data
        }
        if "objective" in data and "objectives" in data:
            missing["objectives"] = ["give either objective or objectives, not both"]
        elif "objective" not in data and "objectives" not in data:
            missing["objective"] = ['Missing data for required field (or give "objectives").']
        if missing:
            raise ValidationError(missing)


class _CampaignDefinedIn(StrictSchema):
    """The fields of a campaign defined in full but its objective(s): the base of the two
    documented forms below, which add ``objective`` or ``objectives``."""

    name = fields.String(required=True, validate=name_length)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(
        fields.Nested(ParameterIn), required=True, validate=validate.Length(min=1, max=50)
    )
    measurements = measurements_field()
    outcome_constraints = outcome_constraints_field()
    strategy = fields.Nested(StrategyIn)
    constraints = constraints_field()
    candidates = CandidateRows(
        metadata={"description": "optional candidate pool: proposals come only from its rows"}
    )


class CampaignDefinitionIn(_CampaignDefinedIn):
    """A campaign defined in full (the documented form of CampaignIn without a preset)."""

    objective = fields.Nested(ObjectiveIn, required=True)


class CampaignObjectivesIn(_CampaignDefinedIn):
    """A campaign of several objectives (the documented form of CampaignIn with objectives)."""

    objectives = objectives_field(required=True)


class CampaignPresetIn(StrictSchema):
    """A campaign from a preset (the documented form of CampaignIn with a preset)."""

    preset = fields.String(required=True, validate=validate.OneOf(PRESETS))
    name = fields.String(validate=name_length)
    description = fields.String(validate=validate.Length(max=2000))
    measurements = measurements_field()
    outcome_constraints = outcome_constraints_field()
    strategy = fields.Nested(StrategyIn)
    constraints = constraints_field()


class CampaignPatchIn(StrictSchema):
    """New ranges (the full parameter list, same names and kinds), strategy fields, outcome
    constraints, declared measurements, or name. The objectives cannot change (kiln.campaign
    answers why, naming the field)."""

    name = fields.String(validate=name_length)
    description = fields.String(validate=validate.Length(max=2000))
    parameters = fields.List(fields.Nested(ParameterIn), validate=validate.Length(min=1, max=50))
    strategy = fields.Nested(StrategyIn)
    constraints = constraints_field()
    measurements = measurements_field()
    outcome_constraints = outcome_constraints_field()
    objective = fields.Raw(load_only=True, metadata={"description": "cannot change: refused"})
    objectives = fields.Raw(load_only=True, metadata={"description": "cannot change: refused"})

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError(
                "nothing to change: give parameters, constraints, strategy, outcome_constraints, "
                "measurements, name or description"
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
    objective = fields.Dict(metadata={"description": "a single-objective campaign's objective"})
    objectives = fields.List(
        fields.Dict(), metadata={"description": "a multi-objective campaign's objectives (2-4)"}
    )
    measurements = fields.List(fields.Dict())
    outcome_constraints = fields.List(fields.Dict())
    strategy = fields.Dict()
    constraints = fields.List(fields.Dict())
    space_version = fields.Integer(dump_only=True)
    created_at = fields.String(dump_only=True)
    updated_at = fields.String(dump_only=True)
    counts = fields.Nested(CountsOut, dump_only=True)


class CampaignPageOut(PageOut):
    items = fields.List(fields.Nested(CampaignOut))


class CampaignPageArgs(PageArgs):
    name = fields.String(
        validate=name_length, metadata={"description": "Only the campaign with exactly this name"}
    )
