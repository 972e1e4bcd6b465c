"""A per-process cap on waiting long-polls, so waiting clients never hold every request thread.

A long-poll (GET …/proposals/latest?wait=S) holds a gunicorn thread while it waits. With gthread,
2 processes x 8 threads, sixteen patient clients would take every thread and a lab's result post
would queue behind them for up to a minute. So each process lets at most KILN_LONG_POLL_SLOTS
requests wait at once (default: half of GUNICORN_THREADS, at least one); the others get a 429
with Retry-After at once, and the remaining threads stay free for writes, reads and health
checks. A poll that needs no waiting (a new batch is there, or wait=0) takes no slot.

Why a cap and not gevent: the intake also does CPU work (validating a 10,000-row CSV, drawing a
model slice with numpy) that would stall every greenlet of its process, and a lab has a handful
of pollers, not thousands; the cap keeps the threaded server predictable. Raise GUNICORN_THREADS
(and with it the slots) if more pollers must wait at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from kiln_services.intake.errors import ApiProblem

_KEY = "kiln_long_poll_slots"
_create = threading.Lock()


def slots() -> threading.BoundedSemaphore:
    """This process's semaphore of long-poll slots (made on first use, one per app)."""
    extensions = current_app.extensions
    with _create:
        if _KEY not in extensions:
            size = max(1, int(current_app.config["KILN_LONG_POLL_SLOTS"]))
            extensions[_KEY] = threading.BoundedSemaphore(size)
        semaphore: threading.BoundedSemaphore = extensions[_KEY]
    return semaphore


@contextmanager
def waiting_slot() -> Iterator[None]:
    """Hold a long-poll slot while waiting, or answer 429 with Retry-After when none is free."""
    held = slots()
    if not held.acquire(blocking=False):
        retry = str(current_app.config.get("KILN_RETRY_AFTER_S", 5))
        raise ApiProblem(
            429,
            "Too Many Requests",
            "too many clients are long-polling this server; poll again after Retry-After, or "
            "without ?wait",
            kind="too-many-long-polls",
            headers={"Retry-After": retry},
        )
    try:
        yield
    finally:
        held.release()
