"""`python -m instrument` (`make demo`): four closed-loop iterations against a running Kiln.

Environment: KILN_URL (default http://127.0.0.1:$PORT, PORT default 8000), KILN_TOKEN (default
KILN_ADMIN_TOKEN, else the token `make run` keeps in ./var/admin_token), KILN_DEMO_ITERATIONS (4).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from instrument.client import InstrumentError, KilnClient
from instrument.demo import run_demo


def resolve_token(var_dir: Path = Path("var")) -> str:
    """KILN_TOKEN, else KILN_ADMIN_TOKEN, else the token file `make run` wrote."""
    token = os.environ.get("KILN_TOKEN") or os.environ.get("KILN_ADMIN_TOKEN")
    if token:
        return token
    path = var_dir / "admin_token"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise InstrumentError(
            f"no token: set KILN_TOKEN, or start the stack with `make run` (it writes {path})"
        ) from None


def main() -> int:
    url = os.environ.get("KILN_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    try:
        from kiln.lab import VirtualLatpLab

        client = KilnClient(url, resolve_token())
        print(f"Virtual LATP instrument -> {url}")
        run_demo(
            client,
            VirtualLatpLab(),
            iterations=int(os.environ.get("KILN_DEMO_ITERATIONS", "4")),
        )
    except InstrumentError as exc:
        print(f"instrument: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("instrument: interrupted; run it again to continue", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
