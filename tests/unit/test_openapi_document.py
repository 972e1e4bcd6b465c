"""The served OpenAPI document: every operation answers something, says how it is authorised,
and documents every error as the one Problem schema; every reference resolves."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from kiln_services.intake import create_app, openapi
from kiln_services.intake.base_schemas import ProblemOut
from kiln_services.store import Store

METHODS = ("get", "put", "post", "patch", "delete")
PUBLIC = {"/healthz", "/readyz", "/metrics"}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app({"TESTING": True, "KILN_ADMIN_TOKEN": "admin-token"})
    app.extensions["kiln_store"] = Store(fakeredis.FakeRedis(decode_responses=True))
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_operation_answers_and_says_how_it_is_authorised(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearerAuth": []}]
    assert len(operations(document)) >= 20
    for method, path, op in operations(document):
        assert any(code[0] in "23" for code in op["responses"]), (method, path)
        assert op["operationId"], (method, path)
        expected = [] if path in PUBLIC else [{"bearerAuth": []}]
        assert op["security"] == expected, (method, path)


def test_every_error_response_is_the_problem_schema(document: dict[str, Any]) -> None:
    errors = 0
    for method, path, op in operations(document):
        assert "default" not in op["responses"], (method, path)
        for code, response in op["responses"].items():
            if code[0] in "45":
                errors += 1
                assert set(response["content"]) == {"application/problem+json"}, (path, code)
                assert response["content"]["application/problem+json"]["schema"] == PROBLEM_REF
                assert response["description"], (method, path, code)
    assert errors > 100
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) == set(ProblemOut().fields)
    # ProblemOut is registered once, under the name the contract uses.
    assert "ProblemOut" not in document["components"]["schemas"]


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', json.dumps(document)))
    assert refs
    for section, name in refs:
        assert name in document["components"][section], (section, name)


@pytest.mark.parametrize("module", [openapi.__file__])
def test_the_document_uses_no_private_attribute(module: str) -> None:
    tree = ast.parse(Path(module).read_text())
    private = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]
    assert private == []
