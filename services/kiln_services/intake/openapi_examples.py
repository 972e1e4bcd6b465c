"""What the OpenAPI document shows beside the schemas: examples, the bodies marshmallow cannot
describe (one result or many, JSON or CSV), and links from a response to the calls that use its id.

The views pass these to flask-smorest's decorators (`example=`, `@blp.doc(...)`).
"""

from __future__ import annotations

from typing import Any

from kiln.presets import latp_objectives
from kiln_services.intake.campaigns.schemas import (
    CampaignDefinitionIn,
    CampaignObjectivesIn,
    CampaignPresetIn,
)
from kiln_services.intake.results.schemas import ResultIn

#: The objectives of the ``latp-moo`` preset (kiln.presets), and the reference point their
#: thresholds make: the multi-objective examples show these rather than a copy.
LATP_OBJECTIVES = latp_objectives()
LATP_REFERENCE_POINT = {objective["name"]: objective["threshold"] for objective in LATP_OBJECTIVES}

CAMPAIGN_EXAMPLES = {
    "definition": {
        "summary": "A campaign defined in full",
        "value": {
            "name": "latp-solgel",
            "parameters": [
                {
                    "name": "acid_wt_pct",
                    "kind": "continuous",
                    "low": -22.5,
                    "high": 7.5,
                    "step": 1.25,
                    "unit": "wt%",
                    "hard_low": -30,
                    "hard_high": 15,
                },
                {
                    "name": "temperature_c",
                    "kind": "continuous",
                    "low": 800,
                    "high": 1100,
                    "step": 25,
                    "unit": "degC",
                },
                {
                    "name": "time_min",
                    "kind": "discrete",
                    "values": [10, 20, 30, 60, 120, 240, 480, 540],
                    "unit": "min",
                    "scale": "log",
                },
                {"name": "atmosphere", "kind": "categorical", "values": ["air", "argon"]},
            ],
            "objective": {
                "name": "conductivity",
                "unit": "S/cm",
                "goal": "maximize",
                "transform": "log10",
            },
            "strategy": {"acquisition": "ucb", "kappa": 1.96, "batch_size": 6},
        },
    },
    "constrained": {
        "summary": "Constraints, and one furnace run (shared temperature and time) per batch",
        "value": {
            "preset": "latp",
            "name": "latp-two-furnaces",
            "constraints": [
                {
                    "kind": "forbidden",
                    "when": {"temperature_c": {">=": 1050}, "time_min": {">": 120}},
                },
                {"kind": "linear", "terms": {"temperature_c": 1}, "op": ">=", "rhs": 850},
            ],
            "strategy": {
                "batch_size": 6,
                "batch_shared": {"parameters": ["temperature_c", "time_min"], "groups": 2},
            },
        },
    },
    "objectives": {
        "summary": "Two objectives together (Pareto), with an outcome constraint",
        "value": {
            "name": "latp-conductivity-density",
            "parameters": [
                {"name": "acid_wt_pct", "kind": "continuous", "low": -22.5, "high": 7.5},
                {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100},
                {"name": "time_min", "kind": "discrete", "values": [10, 60, 240, 540]},
            ],
            "objectives": LATP_OBJECTIVES,
            "measurements": [{"name": "phase_purity", "unit": "1"}],
            "outcome_constraints": [{"name": "phase_purity", "op": ">=", "value": 0.8}],
            "strategy": {"acquisition": "ehvi", "batch_size": 6},
        },
    },
    "preset": {"summary": "The LATP study's campaign", "value": {"preset": "latp"}},
    "moo_preset": {
        "summary": "The LATP campaign for conductivity and relative density together",
        "value": {"preset": "latp-moo"},
    },
    "furnace": {
        "summary": "The LATP campaign with one furnace run per batch of 6",
        "value": {"preset": "latp-furnace"},
    },
}

RESULT_EXAMPLE = {
    "sample_id": "LATP-042",
    "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
    "objective": 1.09e-3,
    "measurements": {"relative_density": 0.95},
    "measured_at": "2026-11-24T14:05:00Z",
    "instrument": "eis-1",
}

RESULT_OBJECTIVES_EXAMPLE = {
    "sample_id": "LATP-044",
    "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
    "objectives": {"conductivity": 1.1e-3, "relative_density": 0.96},
    "measurements": {"phase_purity": 0.92},
}

RESULTS_CSV_EXAMPLE = (
    "sample_id,acid_wt_pct,temperature_c,time_min,conductivity,relative_density\n"
    "LATP-042,-11.25,1000,450,1.09e-3,0.95\n"
    "LATP-043,-7.5,1000,540,,\n"
)

CANDIDATES_EXAMPLE = [
    {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 480},
    {"acid_wt_pct": -7.5, "temperature_c": 950, "time_min": 240},
]
CANDIDATES_CSV_EXAMPLE = "acid_wt_pct,temperature_c,time_min\n-11.25,1000,480\n-7.5,950,240\n"


JOB_EXAMPLE = {
    "id": "9f1c2e7a4b2d4c0e8e6f1a2b3c4d5e6f",
    "kind": "proposals",
    "state": "queued",
    "campaign_id": "5b0e6c1d2f3a4b5c6d7e8f9a0b1c2d3e",
    "params": {"overrides": {"batch_size": 6}},
    "result": None,
    "error": None,
    "created_at": "2026-11-24T14:05:00.000Z",
}


RESULTS_POSTED = {
    "stored": 1,
    "duplicates": 0,
    "data_version": 86,
    "flags": [],
    "measured_proposals": [],
    "refit_enqueued": True,
}
BENCHMARK_JOB = {**JOB_EXAMPLE, "kind": "benchmarks", "params": {"repeats": 200}}
DONE_JOB = {**JOB_EXAMPLE, "state": "done", "result": {"batch_id": "9f1c2e7a", "proposals": 6}}
TOKEN_CREATED = {
    "id": "3f9a0c1b2d4e5f60",
    "token": "shown-once-3q2x...",
    "scope": "write",
    "name": "lims-bay-3",
    "campaign_id": None,
    "created_at": "2026-11-24T14:05:00.000Z",
}
LATEST_BATCH = {
    "batch_id": "9f1c2e7a",
    "campaign_id": "5b0e6c1d",
    "created_at": "2026-11-24T14:05:00.000Z",
    "model_version": 7,
    "data_version": 86,
    "space_version": 2,
    "acquisition": "ucb",
    "batch_method": "kriging_believer",
    "proposals": [
        {
            "id": "9f1c2e7a-0",
            "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
            "predicted_mean": 9.8e-4,
            "predicted_std": 2.1e-4,
            "acquisition_value": 0.73,
            "status": "pending",
        }
    ],
}
LATEST_PARETO_BATCH = {
    **LATEST_BATCH,
    "acquisition": "ehvi",
    "reference_point": LATP_REFERENCE_POINT,
    "proposals": [
        {
            "id": "9f1c2e7a-0",
            "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
            "predicted_mean": None,
            "predicted_std": None,
            "predicted": {
                "conductivity": {"mean": 9.8e-4, "std": 2.1e-4},
                "relative_density": {"mean": 0.95, "std": 0.01},
            },
            "probability_feasible": None,
            "acquisition_value": 0.012,
            "status": "pending",
        }
    ],
}
LATEST_BATCH_EXAMPLES = {
    "objective": {"summary": "One objective", "value": LATEST_BATCH},
    "objectives": {"summary": "Several objectives (EHVI)", "value": LATEST_PARETO_BATCH},
}
PARETO_REPORT = {
    "campaign_id": "5b0e6c1d",
    "data_version": 24,
    "objectives": LATP_OBJECTIVES,
    "reference_point": LATP_REFERENCE_POINT,
    "reference_point_derived": {"conductivity": False, "relative_density": False},
    "front": [
        {
            "sample_id": "LATP-017",
            "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
            "objectives": {"conductivity": 1.1e-3, "relative_density": 0.93},
        },
        {
            "sample_id": "LATP-021",
            "parameters": {"acid_wt_pct": -5, "temperature_c": 1050, "time_min": 240},
            "objectives": {"conductivity": 4.2e-4, "relative_density": 0.97},
        },
    ],
    "hypervolume": 0.071,
    "n_results": 24,
    "history": [
        {"data_version": 12, "n_results": 12, "hypervolume": 0.034},
        {"data_version": 24, "n_results": 24, "hypervolume": 0.071},
    ],
    "outcome_constraints": [],
}


def _rows_body(
    one: Any, key: str, examples: dict[str, Any], csv_example: str, *, single: bool
) -> dict[str, Any]:
    """A body that is a bare array, {key: [...]}, one item alone if `single`, or text/csv.

    `examples` are OpenAPI named examples ({name: {"summary", "value"}}). The schema classes in
    it become $refs (apispec's marshmallow plugin resolves them).
    """
    many = {"type": "array", "items": one, "minItems": 1}
    wrapped = {
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {key: many},
    }
    forms = ([one] if single else []) + [many, wrapped]
    return {
        "content": {
            "application/json": {"schema": {"oneOf": forms}, "examples": examples},
            "text/csv": {"schema": {"type": "string"}, "example": csv_example},
        }
    }


RESULTS_BODY = _rows_body(
    ResultIn,
    "results",
    {
        "objective": {"summary": "A single-objective campaign's result", "value": RESULT_EXAMPLE},
        "objectives": {
            "summary": "A multi-objective campaign's result (a missing objective is allowed)",
            "value": RESULT_OBJECTIVES_EXAMPLE,
        },
    },
    RESULTS_CSV_EXAMPLE,
    single=True,
)
CANDIDATES_BODY = _rows_body(
    {"type": "object", "additionalProperties": {}},
    "candidates",
    {"rows": {"summary": "Candidate rows", "value": CANDIDATES_EXAMPLE}},
    CANDIDATES_CSV_EXAMPLE,
    single=False,
)
CAMPAIGN_BODY = {
    "content": {
        "application/json": {
            "schema": {"oneOf": [CampaignDefinitionIn, CampaignObjectivesIn, CampaignPresetIn]},
            "examples": CAMPAIGN_EXAMPLES,
        }
    }
}
# The csv form of GET .../results?format=csv.
CSV_TEXT = {"type": "string"}


def links(status: int, parameter: str, *operation_ids: str) -> dict[int, Any]:
    """OpenAPI links: the later calls that take `parameter` from this response's id."""
    by_id = {"parameters": {parameter: "$response.body#/id"}}
    return {status: {"links": {op: {"operationId": op, **by_id} for op in operation_ids}}}
