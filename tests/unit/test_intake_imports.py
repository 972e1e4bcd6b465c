"""The web process stays light: importing (and building) the intake never loads scikit-learn."""

from __future__ import annotations

from support.fresh_python import run_fresh


def test_importing_intake_does_not_load_sklearn() -> None:
    code = (
        "import sys\nfrom kiln_services import intake\n"
        "app = intake.create_app({'KILN_ADMIN_TOKEN': 't', 'REDIS_URL': 'redis://127.0.0.1:1/0'})\n"
        "heavy = [m for m in ('sklearn', 'scipy', 'kiln_services.worker', 'kiln.model.surrogate', 'kiln.propose')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    run_fresh(code)
