"""What the OpenAPI document shows beside the schemas: examples, the bodies marshmallow cannot
describe (one result or many, JSON or CSV), and links from a response to the calls that use its id.

The views pass these to flask-smorest's decorators (`example=`, `@blp.doc(...)`).
"""

from __future__ import annotations

from typing import Any

from kiln_services.intake.campaigns.schemas import CampaignDefinitionIn, CampaignPresetIn
from kiln_services.intake.results.schemas import ResultIn

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
    "preset": {"summary": "The LATP study's campaign", "value": {"preset": "latp"}},
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


def _rows_body(
    one: Any, key: str, example: Any, csv_example: str, *, single: bool
) -> dict[str, Any]:
    """A body that is a bare array, {key: [...]}, one item alone if `single`, or text/csv.

    The schema classes in it become $refs (apispec's marshmallow plugin resolves them).
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
            "application/json": {"schema": {"oneOf": forms}, "example": example},
            "text/csv": {"schema": {"type": "string"}, "example": csv_example},
        }
    }


RESULTS_BODY = _rows_body(ResultIn, "results", RESULT_EXAMPLE, RESULTS_CSV_EXAMPLE, single=True)
CANDIDATES_BODY = _rows_body(
    {"type": "object", "additionalProperties": {}},
    "candidates",
    CANDIDATES_EXAMPLE,
    CANDIDATES_CSV_EXAMPLE,
    single=False,
)
CAMPAIGN_BODY = {
    "content": {
        "application/json": {
            "schema": {"oneOf": [CampaignDefinitionIn, CampaignPresetIn]},
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
