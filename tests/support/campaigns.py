"""Campaign parts several test modules share: a two-parameter grid, a furnace space with an
atmosphere, and the conductivity objective."""

from __future__ import annotations

from typing import Any

#: Temperature on 25 K steps and five annealing times: a small, fast space.
GRID_PARAMETERS: list[dict[str, Any]] = [
    {"name": "temperature_c", "kind": "continuous", "low": 800.0, "high": 1100.0, "step": 25.0},
    {"name": "time_min", "kind": "discrete", "values": [10.0, 30.0, 60.0, 120.0, 480.0]},
]
#: The study's objective: ionic conductivity (S/cm), maximised, modelled as log10.
CONDUCTIVITY = {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"}
#: Temperature (with hard limits), four holding times and a categorical atmosphere.
FURNACE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100, "step": 25,
     "hard_low": 700, "hard_high": 1200, "unit": "degC"},
    {"name": "time_min", "kind": "discrete", "values": [10, 30, 60, 480], "unit": "min"},
    {"name": "atmosphere", "kind": "categorical", "values": ["air", "argon"]},
]  # fmt: skip
