"""The README's multi-objective example (issue 16): its campaign and results bodies are accepted
by a real intake, and GET /pareto answers what the README shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from support.intake import ADMIN

README = Path(__file__).resolve().parents[2] / "README.md"


def section() -> str:
    """The README's "Several objectives (Pareto)" section."""
    text = README.read_text(encoding="utf-8")
    return text[text.index("### Several objectives (Pareto)") : text.index("### Candidate pools")]


def test_the_readme_moo_example_runs_and_pareto_answers_as_shown(client: FlaskClient) -> None:
    bodies = [
        json.loads(b) for b in re.findall(r"curl -s .*?-d '([\[{].*?[\]}])'", section(), re.S)
    ]
    campaign, results = bodies
    created = client.post("/api/v1/campaigns", json=campaign, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    posted = client.post(f"/api/v1/campaigns/{cid}/results", json=results, headers=ADMIN)
    assert posted.status_code == 201 and posted.get_json()["stored"] == 2
    report = client.get(f"/api/v1/campaigns/{cid}/pareto", headers=ADMIN).get_json()
    shown = re.search(r'"hypervolume": ([0-9.]+), "n_results": 2', section())
    assert shown is not None
    assert report["hypervolume"] == pytest.approx(float(shown[1]), abs=5e-5)
    assert [p["sample_id"] for p in report["front"]] == ["M-1"] and report["n_results"] == 2
    assert report["reference_point"] == {"conductivity": 1e-4, "relative_density": 0.9}
