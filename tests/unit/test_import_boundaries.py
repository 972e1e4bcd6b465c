"""The import boundaries of issue 13, read from the source (AST) and checked at run time.

``kiln`` is only the domain: it imports nothing from the services, the web, the queue, Redis or
HTTP. ``kiln_client`` is a distribution of its own that depends on requests and click only: it
imports neither the domain's numeric modules nor the services (the demo's virtual lab and the Kadi4Mat
bridge's kadi-apy are the lazy exceptions, the ``demo`` and ``kadi`` extras).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KILN = ROOT / "shared" / "kiln"
KILN_CLIENT = ROOT / "shared" / "kiln_client" / "src" / "kiln_client"

SERVICES = {"intake", "worker", "store", "devstack", "instrument", "kiln_services"}
#: What the domain must never import (top-level module names).
NOT_IN_KILN = SERVICES | {
    "flask",
    "flask_smorest",
    "marshmallow",
    "celery",
    "kombu",
    "redis",
    "gunicorn",
    "requests",
    "click",
    "kiln_client",
    # process set-up and figures live with the services and bench/, not in the domain
    "pythonjsonlogger",
    "matplotlib",
}
#: Everything the client distribution may import at module level besides the standard library.
CLIENT_MAY_IMPORT = {"requests", "click", "kiln_client"}
#: Imports inside a function that only run for an extra: the demo's (`demo`) and the Kadi4Mat
#: bridge's connection (`kadi`): (file, module).
CLIENT_LAZY_EXCEPTIONS = {
    ("demo.py", "kiln.lab"),
    ("demo.py", "numpy"),
    ("connection.py", "kadi_apy"),
}


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(absolute module name, imported at module level?) for every import statement of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, id(node) in top_level


def violations(package: Path, allowed: set[str] | None, forbidden: set[str]) -> list[str]:
    """``file: module`` for each import outside ``allowed`` (stdlib always allowed) or in ``forbidden``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for module, at_module_level in imports(path):
            top = module.split(".")[0]
            if top in forbidden:
                found.append(f"{path.relative_to(package.parent)}: {module}")
            elif allowed is not None and top not in sys.stdlib_module_names | allowed:
                if not at_module_level and (path.name, module) in CLIENT_LAZY_EXCEPTIONS:
                    continue
                found.append(f"{path.relative_to(package.parent)}: {module}")
    return found


def test_the_walk_sees_the_packages() -> None:
    assert len(list(KILN.rglob("*.py"))) > 10
    assert len(list(KILN_CLIENT.rglob("*.py"))) > 5
    seen = {module for module, _ in imports(KILN_CLIENT / "transport.py")}
    assert "requests" in seen


def test_the_domain_imports_no_service_web_queue_redis_or_http() -> None:
    assert violations(KILN, None, NOT_IN_KILN) == []


def test_the_client_imports_only_requests_click_and_the_standard_library() -> None:
    assert violations(KILN_CLIENT, CLIENT_MAY_IMPORT, SERVICES) == []


def test_a_forbidden_import_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text(
        "import json\nimport flask\n\ndef f():\n    from kiln import lab\n"
    )
    (package / "demo.py").write_text("def f():\n    import numpy\n")
    assert violations(package, CLIENT_MAY_IMPORT, SERVICES | {"flask"}) != []
    # `from kiln import lab` is an import of `kiln`: outside what the client may import
    assert any(v.endswith(": kiln") for v in violations(package, CLIENT_MAY_IMPORT, SERVICES))


@pytest.mark.parametrize(
    "package",
    [
        "kiln_client",
        "kiln_client.client",
        "kiln_client.cli",
        "kiln_client.demo",
        "kiln_client.kadi",
    ],
)
def test_importing_the_client_loads_no_scientific_or_service_module(package: str) -> None:
    heavy = ["numpy", "scipy", "sklearn", "pandas", "kiln", "flask", "celery", "redis", "kadi_apy"]
    code = f"import sys, {package}\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""
