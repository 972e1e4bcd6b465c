"""Seeded single-objective batches over every path of :func:`kiln.propose.propose` (grid,
sampled and polished, pool, constraints, furnace-shared groups, feasibility, space filling).

Issue 16 shares propose's candidate building with Pareto batches. Run
``cd tests && python -m support.seeded_proposals > unit/data/seeded_proposals.json`` (on main,
before a change) to record the outputs ``tests/unit/test_seeded_proposals.py`` requires to stay
bit-identical.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from kiln.campaign import campaign_definition, space_of
from kiln.feasibility import fit_feasibility
from kiln.objective import Objective
from kiln.pool import CandidatePool
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

OBJ = Objective("conductivity", unit="S/cm")


def _truth(a: float, t: float, m: float) -> float:
    log10 = -3.0 - ((a + 9) / 12) ** 2 - ((t - 1000) / 150) ** 2 - ((math.log(m) - 6) / 2) ** 2
    return 10.0**log10


def _observations(space: SearchSpace, n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i, p in enumerate(space.candidates(rng)[:n]):
        value = _truth(p["acid_wt_pct"], p["temperature_c"], p["time_min"])
        out.append(
            {"sample_id": f"S{i}", "parameters": p, "objective": value * 10 ** (0.1 * rng.normal())}
        )
    return out


def cases() -> dict[str, dict[str, Any]]:
    """Every case's batch as JSON (model excluded: its predictions are in the proposals)."""
    latp = campaign_definition({"preset": "latp"})
    furnace = campaign_definition({"preset": "latp-furnace"})
    space, fspace = space_of(latp), space_of(furnace)
    obs = _observations(space, 16, 1)
    pending = [obs[0]["parameters"], space.candidates(np.random.default_rng(9))[3]]
    failed = [
        {**o, "status": "failed", "objective": None} for o in _observations(space, 20, 2)[16:]
    ]
    cont = SearchSpace.from_dict(
        {
            "parameters": [
                {"name": "acid_wt_pct", "kind": "continuous", "low": -22.5, "high": 7.5},
                {"name": "temperature_c", "kind": "continuous", "low": 800, "high": 1100},
                {"name": "time_min", "kind": "continuous", "low": 10, "high": 540},
            ]
        }
    )
    pool = CandidatePool.from_rows(space, space.candidates(np.random.default_rng(5))[:300])
    runs = {
        "grid-ucb": lambda: propose(space, OBJ, obs, pending, Strategy(), random_state=3),
        "grid-ei-liar": lambda: propose(
            space,
            OBJ,
            obs,
            pending,
            Strategy(acquisition="ei", batch_method="constant_liar_mean"),
            random_state=4,
        ),
        "grid-random": lambda: propose(space, OBJ, obs, [], Strategy(acquisition="random")),
        "continuous-polished": lambda: propose(
            cont, OBJ, _observations(cont, 12, 6), [], Strategy(batch_size=4), random_state=2
        ),
        "pool": lambda: propose(space, OBJ, obs, pending, Strategy(), pool=pool),
        "furnace-shared": lambda: propose(
            fspace, OBJ, obs, [], Strategy.from_dict(furnace["strategy"]), random_state=1
        ),
        "feasibility": lambda: propose(
            space,
            OBJ,
            obs + failed,
            [],
            Strategy(acquisition="pi"),
            feasibility=fit_feasibility(space, obs + failed),
        ),
        "one-observation": lambda: propose(space, OBJ, obs[:1], [], Strategy(), random_state=7),
    }
    return {k: run().to_dict(include_model=False) for k, run in runs.items()}


if __name__ == "__main__":
    print(json.dumps(cases(), indent=1, sort_keys=True))
