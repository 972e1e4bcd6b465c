"""Kiln's JSON log lines captured in a string, as the gunicorn and Celery processes write them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from kiln_services import logs


@contextmanager
def captured(level: str) -> Iterator[io.StringIO]:
    """Every logger's lines at `level` and above, as JSON into a string; logging restored after."""
    root = logging.getLogger()
    before = root.level
    out = io.StringIO()
    handler = logs.configure("json", level, out)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def parsed(out: io.StringIO) -> list[dict]:
    """The captured lines, each parsed."""
    return [json.loads(line) for line in out.getvalue().splitlines()]
