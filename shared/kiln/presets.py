"""Ready-made campaigns: the LATP sol-gel study (search spaces of its Table 1).

The values come from the study's Table 1, shipped as ``kiln/data/latp_table1_search_space.json``.
Iterations 1-2 chose among 5 acid levels, 50 °C temperature steps and 12 holding times; iterations
3-4 refined the acid levels to 3.75 wt% steps, the temperature to 25 °C steps and the holding times
to 22 values. The hard limits bound how far a later PATCH may widen each range.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

__all__ = [
    "FURNACE_FORBIDDEN",
    "HARD_LIMITS",
    "PRESETS",
    "latp_campaign",
    "latp_furnace_campaign",
    "latp_moo_campaign",
    "latp_objectives",
    "latp_seed_grid_space",
    "latp_space",
    "load_table1",
    "preset_campaign",
]

#: The presets a campaign may name ({"preset": "latp"}); :func:`preset_campaign` builds them.
PRESETS = ("latp", "latp-furnace", "latp-moo")
#: How far a campaign may be widened later (wt%, °C, min): chemically sensible, furnace-safe.
HARD_LIMITS: dict[str, tuple[float, float]] = {
    "acid_wt_pct": (-30.0, 15.0),
    "temperature_c": (700.0, 1200.0),
    "time_min": (1.0, 1440.0),
}

_ITERATION_KEYS = {"1-2": "iterations_1_2", "3-4": "iterations_3_4"}


def load_table1() -> dict[str, Any]:
    """Load the study's Table 1 (search space per iteration and the seed-grid layout).

    Returns:
        The parsed JSON document.
    """
    text = resources.files("kiln").joinpath("data/latp_table1_search_space.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def latp_space(iterations: Literal["1-2", "3-4"] = "3-4") -> dict[str, Any]:
    """The LATP search space of the study's iterations 1-2 or 3-4.

    Args:
        iterations: ``"1-2"`` or ``"3-4"``.

    Returns:
        A dict in the ``SearchSpace.from_dict`` shape: acid as a discrete list (wt%),
        temperature continuous with a step (°C), time as a discrete list (min), each with hard
        limits; ``version`` 1.

    Raises:
        ValueError: For an unknown ``iterations`` label.
    """
    try:
        table = load_table1()[_ITERATION_KEYS[iterations]]
    except KeyError:
        raise ValueError(
            f"unknown LATP iterations {iterations!r}; use one of {sorted(_ITERATION_KEYS)}"
        ) from None
    temp = table["temperature_c"]
    acid_lo, acid_hi = HARD_LIMITS["acid_wt_pct"]
    temp_lo, temp_hi = HARD_LIMITS["temperature_c"]
    time_lo, time_hi = HARD_LIMITS["time_min"]
    return {
        "parameters": [
            {
                "name": "acid_wt_pct",
                "kind": "discrete",
                "values": [float(v) for v in table["acid_wt_pct"]],
                "unit": "wt%",
                "hard_low": acid_lo,
                "hard_high": acid_hi,
            },
            {
                "name": "temperature_c",
                "kind": "continuous",
                "low": float(temp["low"]),
                "high": float(temp["high"]),
                "step": float(temp["step"]),
                "unit": "degC",
                "hard_low": temp_lo,
                "hard_high": temp_hi,
            },
            {
                "name": "time_min",
                "kind": "discrete",
                "values": [float(v) for v in table["time_min"]],
                "unit": "min",
                "hard_low": time_lo,
                "hard_high": time_hi,
            },
        ],
        "version": 1,
    }


def latp_seed_grid_space() -> dict[str, Any]:
    """The space spanned by the study's 80-point seed grid (5 acid x 4 temperature x 4 time).

    All three parameters are discrete lists, so the space's grid is exactly the seed grid; it is
    the pool encoding of the virtual experiments on the seed data.

    Returns:
        A dict in the ``SearchSpace.from_dict`` shape.
    """
    grid = load_table1()["seed_grid"]
    units = {"acid_wt_pct": "wt%", "temperature_c": "degC", "time_min": "min"}
    return {
        "parameters": [
            {
                "name": name,
                "kind": "discrete",
                "values": [float(v) for v in grid[name]],
                "unit": unit,
                "hard_low": HARD_LIMITS[name][0],
                "hard_high": HARD_LIMITS[name][1],
            }
            for name, unit in units.items()
        ],
        "version": 1,
    }


def latp_campaign(name: str = "latp-solgel") -> dict[str, Any]:
    """The POST /campaigns body that ``{"preset": "latp"}`` expands to.

    Uses the iteration 3-4 space, maximises the ionic conductivity (S/cm) modelled as log10, and
    proposes batches of 6 with GP-UCB (kappa 1.96) and the Kriging believer, as in the study.

    Args:
        name: Campaign name.

    Returns:
        ``{"name", "parameters", "objective", "strategy"}``.
    """
    return {
        "name": name,
        "parameters": latp_space("3-4")["parameters"],
        "objective": {
            "name": "conductivity",
            "unit": "S/cm",
            "goal": "maximize",
            "transform": "log10",
        },
        "strategy": {
            "acquisition": "ucb",
            "kappa": 1.96,
            "xi": 0.01,
            "batch_size": 6,
            "batch_method": "kriging_believer",
            "auto_batch": True,
            "proposal_ttl_s": 604800,
        },
    }


#: The furnace preset's forbidden region. An assumption, not a measurement of the study: Li2O
#: evaporates from LATP above about 1050 °C (the virtual lab's lithium-loss term, kiln.lab), so
#: long holds at the highest temperatures are ruled out: 1075 °C or more for longer than 4 h.
FURNACE_FORBIDDEN: dict[str, Any] = {
    "kind": "forbidden",
    "when": {"temperature_c": {">=": 1075}, "time_min": {">": 240}},
}


def latp_furnace_campaign(name: str = "latp-furnace") -> dict[str, Any]:
    """The POST /campaigns body of ``{"preset": "latp-furnace"}``: the LATP campaign
    (:func:`latp_campaign`) with one furnace: each batch of 6 pellets shares one sintering
    temperature and holding time (``batch_shared``, one group), and the hottest long holds are
    forbidden (:data:`FURNACE_FORBIDDEN`).

    Returns:
        ``{"name", "parameters", "objective", "strategy", "constraints"}``.
    """
    campaign = latp_campaign(name)
    campaign["strategy"] = {
        **campaign["strategy"],
        "batch_shared": {"parameters": ["temperature_c", "time_min"], "groups": 1},
    }
    campaign["constraints"] = [FURNACE_FORBIDDEN]
    return campaign


def latp_objectives() -> list[dict[str, Any]]:
    """The two objectives of ``latp-moo`` (a fresh list each call): ionic conductivity (S/cm,
    log10, worth having from 1e-4) and relative density (worth having from 0.90).

    Returns:
        The ``objectives`` list of a POST /campaigns body.
    """
    return [
        {
            "name": "conductivity",
            "unit": "S/cm",
            "goal": "maximize",
            "transform": "log10",
            "threshold": 1e-4,
        },
        {
            "name": "relative_density",
            "unit": "1",
            "goal": "maximize",
            "transform": "none",
            "threshold": 0.90,
        },
    ]


#: Parameters of ``latp-moo`` encoded on a log scale. Sintering acts through the thermal dose, in
#: which the holding time enters as its logarithm (a decade of time is worth about 50 °C near
#: 1000 °C; the study's own grid is 10, 30, 60, 480 min). Encoded linearly, 10-60 min fill a tenth
#: of the unit cube the models work on. On the virtual lab (bench-moo, 40 seeds) the log scale
#: lifted EHVI's mean hypervolume at every budget from 12 to 48 experiments (README, "The
#: virtual LATP lab"). The single-objective presets keep a linear time: for conductivity alone a
#: log time gained nothing (bench-quality latp, 40 seeds: final regret 0.0239 decades against
#: 0.0219 through the service).
LOG_SCALE_PARAMETERS = ("time_min",)


def latp_moo_campaign(name: str = "latp-moo") -> dict[str, Any]:
    """The POST /campaigns body of ``{"preset": "latp-moo"}``: the LATP space (iterations 3-4,
    holding time on a log scale: :data:`LOG_SCALE_PARAMETERS`) with two objectives, the study's
    named next step: ionic conductivity (S/cm, log10, worth having from 1e-4) and relative
    density (worth having from 0.90), by exact EHVI in batches of 6 (Kriging believer). The virtual lab measures both (:func:`kiln.lab.measure_objectives`).

    Returns:
        ``{"name", "parameters", "objectives", "strategy"}``.
    """
    campaign = latp_campaign(name)
    del campaign["objective"]
    campaign["parameters"] = [
        {**p, "scale": "log"} if p["name"] in LOG_SCALE_PARAMETERS else p
        for p in campaign["parameters"]
    ]
    campaign["objectives"] = latp_objectives()
    campaign["strategy"] = {**campaign["strategy"], "acquisition": "ehvi"}
    return campaign


def preset_campaign(preset: str) -> dict[str, Any]:
    """The POST /campaigns body a preset of :data:`PRESETS` expands to.

    Raises:
        ValueError: For a name not in :data:`PRESETS`.
    """
    builders = {
        "latp": latp_campaign,
        "latp-furnace": latp_furnace_campaign,
        "latp-moo": latp_moo_campaign,
    }
    if preset not in builders:
        raise ValueError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
    return builders[preset]()
