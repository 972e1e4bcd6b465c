"""Test data for the Kadi4Mat bridge: LATP records as a lab would keep them, and the mapping."""

from __future__ import annotations

import secrets
from typing import Any

import requests

from support.kadi import KadiServer

ACID = [-22.5, -18.75, -15.0, -11.25, -7.5, -3.75, 0.0, 3.75, 7.5]
TIMES = [10, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 330, 360, 390, 420]

#: The lab's extras (their own names) mapped onto the LATP preset's parameters and objective.
MAPPING: dict[str, Any] = {
    "parameters": {
        "acid_wt_pct": {"extra": "acid_excess", "unit": "wt%"},
        "temperature_c": {"extra": "sintering_temperature", "unit": "degC"},
        "time_min": {"extra": "holding_time", "unit": "min"},
    },
    "objective": {"extra": "conductivity", "unit": "S/cm"},
    "measurements": {"density": {"extra": "density", "unit": "g/cm^3"}},
}


def lab_extras(i: int) -> list[dict[str, Any]]:
    """Sample i's extras: distinct parameters on the preset's grid, a conductivity, a density."""
    return [
        {"key": "acid_excess", "type": "float", "value": ACID[i % 9], "unit": "wt%"},
        {
            "key": "sintering_temperature",
            "type": "int",
            "value": 800 + 25 * (i % 13),
            "unit": "degC",
        },
        {"key": "holding_time", "type": "int", "value": TIMES[i % 18], "unit": "min"},
        {"key": "conductivity", "type": "float", "value": 1.0e-4 * (1 + i / 7), "unit": "S/cm"},
        {"key": "density", "type": "float", "value": round(2.60 + 0.005 * i, 4), "unit": "g/cm^3"},
        {"key": "operator", "type": "str", "value": "mk"},
    ]


class KadiAPI:
    """The few raw calls the tests make to set Kadi4Mat up (not through the bridge)."""

    def __init__(self, kadi: KadiServer) -> None:
        self.url = f"{kadi.url}/api"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {kadi.token}"

    def __enter__(self) -> KadiAPI:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.session.close()

    def call(self, method: str, path: str, **options: Any) -> Any:
        response = self.session.request(method, f"{self.url}{path}", timeout=60, **options)
        assert response.status_code < 400, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def collection(self, prefix: str) -> dict[str, Any]:
        identifier = f"{prefix}-{secrets.token_hex(3)}"
        return dict(
            self.call("POST", "/collections", json={"identifier": identifier, "title": identifier})
        )

    def record(
        self, collection_id: int, identifier: str, extras: list[dict[str, Any]]
    ) -> dict[str, Any]:
        record = self.call(
            "POST",
            "/records",
            json={"identifier": identifier, "title": identifier, "extras": extras},
        )
        self.call("POST", f"/records/{record['id']}/collections", json={"id": collection_id})
        return dict(record)

    def records(self, collection_id: int) -> list[dict[str, Any]]:
        answer = self.call("GET", f"/collections/{collection_id}/records", params={"per_page": 100})
        assert answer["_pagination"]["total_pages"] == 1
        return list(answer["items"])

    def edit_extra(self, record_id: int, key: str, value: Any) -> None:
        record = self.call("GET", f"/records/{record_id}")
        extras = [dict(e, value=value) if e["key"] == key else e for e in record["extras"]]
        self.call("PATCH", f"/records/{record_id}", json={"extras": extras})
