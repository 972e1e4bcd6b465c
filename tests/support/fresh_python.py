"""Code run in a fresh interpreter: what a process imports, seen from a clean sys.modules."""

from __future__ import annotations

import subprocess
import sys


def run_fresh(code: str, timeout: float = 120) -> None:
    """Run `code` in a new Python process; fail with its stderr unless it exits with 0."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
