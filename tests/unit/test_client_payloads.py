"""The client's TypedDicts mirror the intake's output schemas: the same keys, the same nullable
ones. The client distribution cannot import the services, so the mirror is written by hand and
this test keeps the two from drifting apart."""

from __future__ import annotations

import types
import typing

import pytest
from marshmallow import Schema

from kiln_client import payloads
from kiln_services.intake.campaigns.schemas import CampaignOut, CountsOut
from kiln_services.intake.candidates.schemas import (
    CandidateOut,
    CandidatesPatchOut,
    CandidatesPostOut,
)
from kiln_services.intake.jobs.schemas import JobOut
from kiln_services.intake.pareto.schemas import FrontPointOut, HypervolumeAtOut, ParetoOut
from kiln_services.intake.proposals.schemas import BatchOut, ModelOut, ProposalOut
from kiln_services.intake.results.schemas import (
    ResultOut,
    ResultsPostOut,
    ResultViewOut,
    RevisionOut,
)

MIRRORS: dict[type, type[Schema]] = {
    payloads.Counts: CountsOut,
    payloads.Campaign: CampaignOut,
    payloads.Result: ResultOut,
    payloads.ResultsPosted: ResultsPostOut,
    payloads.ResultView: ResultViewOut,
    payloads.Revision: RevisionOut,
    payloads.Candidate: CandidateOut,
    payloads.CandidatesAdded: CandidatesPostOut,
    payloads.CandidatesRemoved: CandidatesPatchOut,
    payloads.Proposal: ProposalOut,
    payloads.Batch: BatchOut,
    payloads.Job: JobOut,
    payloads.ModelInfo: ModelOut,
    payloads.ParetoReport: ParetoOut,
    payloads.ParetoPoint: FrontPointOut,
    payloads.HypervolumeStep: HypervolumeAtOut,
}


def nullable(annotation: typing.Any) -> bool:
    if annotation is typing.Any:
        return True
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def test_every_typeddict_of_the_client_is_checked() -> None:
    typed = {
        value
        for value in vars(payloads).values()
        if isinstance(value, type) and typing.is_typeddict(value)
    }
    assert typed == set(MIRRORS)


@pytest.mark.parametrize("typed, schema", MIRRORS.items(), ids=lambda x: x.__name__)
def test_the_typeddict_has_the_schemas_fields(typed: type, schema: type[Schema]) -> None:
    hints = typing.get_type_hints(typed)
    fields = {f.data_key or name: f for name, f in schema().fields.items() if not f.load_only}
    assert set(hints) == set(fields)
    for name, field in fields.items():
        assert nullable(hints[name]) == bool(field.allow_none), name
