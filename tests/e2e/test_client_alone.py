"""The client distribution installed alone, as a LIMS would: a fresh virtualenv, only kiln_client.

`pip install ./shared/kiln_client` (requests and click come from the package index) must give a
working `kiln` command without scikit-learn, Celery, Flask or the domain, and that command must
talk to a live stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command of the fresh venv with a clean environment (no PYTHONPATH, no repo on path)."""
    clean = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    clean.update(env)
    return subprocess.run(args, cwd=cwd, env=clean, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv holding kiln_client (not editable) and its two dependencies only."""
    home = tmp_path_factory.mktemp("lims")
    # a copy, so pip's in-tree build leaves nothing (build/, *.egg-info) in the checkout
    source = home / "kiln_client"
    shutil.copytree(
        ROOT / "shared" / "kiln_client",
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
        ],
        cwd=home,
    )
    assert installed.returncode == 0, installed.stderr
    return venv


def test_kiln_help_works_in_the_fresh_venv(client_venv: Path) -> None:
    result = run([str(client_venv / "bin" / "kiln"), "--help"], cwd=client_venv.parent)
    assert result.returncode == 0, result.stderr
    for group in ("campaigns", "results", "candidates", "proposals", "benchmark"):
        assert group in result.stdout


@pytest.mark.parametrize("module", ["sklearn", "celery", "flask", "numpy", "kiln", "redis"])
def test_the_service_stack_is_not_installed(client_venv: Path, module: str) -> None:
    result = run(
        [str(client_venv / "bin" / "python"), "-c", f"import {module}"], cwd=client_venv.parent
    )
    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr


def test_only_the_client_and_its_dependencies_are_installed(client_venv: Path) -> None:
    result = run(
        [str(client_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        cwd=client_venv.parent,
    )
    names = {line.split("==")[0].lower() for line in result.stdout.split()}
    assert {"kiln-client", "requests", "click"} <= names
    assert not names & {"scikit-learn", "celery", "flask", "numpy", "kiln", "gunicorn"}


def test_kiln_campaigns_list_against_a_live_stack(client_venv: Path, stack: Stack) -> None:
    kiln = str(client_venv / "bin" / "kiln")
    env = {"KILN_URL": stack.base_url, "KILN_TOKEN": stack.admin_token}
    created = run(
        [kiln, "campaigns", "create", "--preset", "latp", "--name", "lims-alone"],
        cwd=client_venv.parent,
        **env,
    )
    assert created.returncode == 0, created.stderr
    listed = run([kiln, "campaigns", "list"], cwd=client_venv.parent, **env)
    assert listed.returncode == 0, listed.stderr
    assert "lims-alone" in listed.stdout


def test_the_demo_without_its_extra_says_how_to_get_it(client_venv: Path, stack: Stack) -> None:
    env = {"KILN_URL": stack.base_url, "KILN_TOKEN": stack.admin_token}
    result = run(
        [str(client_venv / "bin" / "kiln"), "demo", "--iterations", "1"],
        cwd=client_venv.parent,
        **env,
    )
    assert result.returncode == 1
    assert "demo" in result.stderr and "Traceback" not in result.stderr
