"""The README's furnace example (issue 17): every JSON body of its curl commands is accepted, in
order, by a real intake (creates answer 201, PATCHes 200 on the campaign created first)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask.testing import FlaskClient
from support.intake import ADMIN

README = Path(__file__).resolve().parents[2] / "README.md"


def furnace_bodies() -> list[tuple[str, dict]]:
    """(method, body) of each curl in the README's "Furnace runs and constraints" section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Furnace runs and constraints") : text.index("## Correcting")]
    calls = re.findall(r"curl -s( -X PATCH)? .*?-d '(\{.*?\})'", section, re.S)
    return [("PATCH" if patch else "POST", json.loads(body)) for patch, body in calls]


def test_the_readme_furnace_example_runs(client: FlaskClient) -> None:
    calls = furnace_bodies()
    assert [method for method, _ in calls] == ["POST", "PATCH", "POST", "PATCH"]
    cid = None
    for method, body in calls:
        if method == "POST":
            answer = client.post("/api/v1/campaigns", json=body, headers=ADMIN)
            assert answer.status_code == 201, answer.get_json()
            cid = cid or answer.get_json()["id"]
        else:
            answer = client.patch(f"/api/v1/campaigns/{cid}", json=body, headers=ADMIN)
            assert answer.status_code == 200, answer.get_json()
    shown = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()
    assert len(shown["constraints"]) == 2 and shown["strategy"]["batch_shared"]["groups"] == 2
