"""bench-constraints' and bench-moo's ``--peers``: opt-in only (BayBE and PyTorch are the `peers`
extra, which `make venv` / `make test` never install)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.bench import BENCH, load_bench

constraints = load_bench("constraints")


@pytest.mark.parametrize("module", ["constraints", "moo"])
def test_the_benchmarks_import_no_peer_until_a_peer_runs(module: str) -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(BENCH)!r}); import {module}; "
        "print(sorted(m for m in ('baybe', 'torch', 'peers_constraints', 'peers_moo') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_peers_adds_both_baybe_methods_and_writes_apart() -> None:
    args = constraints.parse(["--peers", "--methods", "kiln-shared"])
    assert args.methods == ["kiln-shared", "baybe", "baybe-all"]
    assert args.out.name == "constraints-peers.json"
    assert set(constraints.SLOW) <= set(constraints.PEERS)


def test_without_peers_the_methods_and_output_are_unchanged() -> None:
    args = constraints.parse([])
    assert args.methods == list(constraints.METHODS)
    assert args.out.name == "constraints.json"
    assert args.n_seeds == 10
