"""Schemas of the HTTP edge: the accepted result shapes, strictness, finite numbers."""

from __future__ import annotations

import math

import pytest
from marshmallow import ValidationError

from kiln_services.intake.campaigns.schemas import CampaignIn
from kiln_services.intake.proposals.schemas import ProposalRequestIn
from kiln_services.intake.results.schemas import ResultIn, ResultsIn

ROW = {"sample_id": "S1", "parameters": {"x": 1.0}, "objective": 2.0}


def test_one_result_object_becomes_a_list_of_one() -> None:
    assert ResultsIn().load(ROW)["results"] == [{**ROW, "status": "ok"}]


def test_bare_array_and_results_key_are_equivalent() -> None:
    assert ResultsIn().load([ROW, {**ROW, "sample_id": "S2"}]) == ResultsIn().load(
        {"results": [ROW, {**ROW, "sample_id": "S2"}]}
    )


def test_errors_name_the_row_index_and_field() -> None:
    with pytest.raises(ValidationError) as info:
        ResultsIn().load([ROW, {**ROW, "objective": "abc"}])
    expected = "'abc' is a string: send the value as a JSON number, without quotes"
    assert info.value.messages == {"results": {1: {"objective": [expected]}}}


def test_non_finite_objective_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        ResultIn().load({**ROW, "objective": math.nan})
    assert "objective" in info.value.messages


def test_unknown_fields_are_refused_not_dropped() -> None:
    with pytest.raises(ValidationError) as info:
        ResultIn().load({**ROW, "objectve": 1.0})
    assert info.value.messages == {"objectve": ["Unknown field."]}


def test_missing_sample_id_and_parameters() -> None:
    with pytest.raises(ValidationError) as info:
        ResultIn().load({"objective": 1.0})
    assert set(info.value.messages) == {"sample_id", "parameters"}


def test_empty_results_list_is_refused() -> None:
    with pytest.raises(ValidationError):
        ResultsIn().load({"results": []})


def test_campaign_needs_a_definition_unless_preset() -> None:
    assert CampaignIn().load({"preset": "latp"}) == {"preset": "latp"}
    with pytest.raises(ValidationError) as info:
        CampaignIn().load({"name": "x"})
    assert set(info.value.messages) == {"parameters", "objective"}
    with pytest.raises(ValidationError):
        CampaignIn().load({"preset": "nacl"})


def test_proposal_request_overrides_are_checked() -> None:
    assert ProposalRequestIn().load({"batch_size": 3, "acquisition": "ei"}) == {
        "batch_size": 3,
        "acquisition": "ei",
    }
    with pytest.raises(ValidationError) as info:
        ProposalRequestIn().load({"batch_size": 0, "batch_method": "greedy"})
    assert set(info.value.messages) == {"batch_size", "batch_method"}
