"""What the worker-task tests share: calling a task's body in this process, the grid
campaign's conductivity peak and the points its seed results are measured at."""

from __future__ import annotations

import math
from typing import Any

from celery import Celery

from kiln_services import task_names
from kiln_services.store import Store

#: (temperature_c, time_min) of the seed results on the grid (support.campaigns.GRID_PARAMETERS).
GRID_POINTS: list[tuple[float, float]] = [
    (800, 10),
    (850, 60),
    (900, 480),
    (950, 30),
    (1000, 120),
    (1050, 10),
    (1100, 60),
    (925, 60),
]


def grid_conductivity(t: float, minutes: float) -> float:
    """A smooth conductivity (S/cm) peaking at 950 degC and about 55 min."""
    return 1e-4 * math.exp(-(((t - 950) / 120) ** 2) - ((math.log(minutes) - 4) / 2) ** 2)


def run_task(app: Celery, name: str, *args: Any) -> dict:
    """Call a registered task's body in this process (what a worker does with a message)."""
    return app.tasks[name](*args)


def first_refit(app: Celery, store: Store, cid: str, results: list[dict[str, Any]]) -> dict:
    """Store `results`, mark a refit queued (as a POST does) and run it: the refit's outcome."""
    store.results.append(cid, results)
    store.locks.mark_refit_queued(cid)
    return run_task(app, task_names.REFIT, cid)
