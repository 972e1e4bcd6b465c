"""What `pip install` puts at the top level of site-packages: no generic names (issue 13)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_services_install_one_namespace_and_the_domain_one_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = config["tool"]["setuptools"]["packages"]["find"]
    excluded = found.get("exclude", [])
    # setuptools' find: the packages (folders with an __init__.py) under each `where`
    tops = {
        init.parent.name
        for where in found["where"]
        for init in (ROOT / where).glob("*/__init__.py")
        if not any(fnmatch.fnmatch(init.parent.name, pattern) for pattern in excluded)
    }
    assert tops == {"kiln", "kiln_services"}
