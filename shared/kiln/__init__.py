"""Kiln's domain library: search spaces, the GP surrogate, acquisitions, batches, the virtual lab.

Nothing in here knows about HTTP, Celery or Redis; both services import it.
"""

from __future__ import annotations

__version__ = "0.1.0"
