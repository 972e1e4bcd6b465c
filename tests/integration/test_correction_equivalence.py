"""Issue 15 item 2: after corrections, the next model and batch equal those of a new campaign
built from the corrected data (same seeds), to 1e-8.

Both campaigns run the worker's own code in this process (refit_campaign, then propose_for_job),
each on its own Redis database, so the batch job (and with it the batch's seed) has the same id.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN
from support.worker import GRID_POINTS, grid_conductivity

from kiln_services.store import Store
from kiln_services.store.jobs import PROPOSALS_JOB
from kiln_services.worker import refits
from kiln_services.worker.batches import propose_for_job
from kiln_services.worker.refits import refit_campaign

CAMPAIGN = {
    "name": "grid",
    "parameters": GRID_PARAMETERS,
    "objective": CONDUCTIVITY,
    "strategy": {"acquisition": "ucb", "batch_size": 3, "batch_method": "kriging_believer",
                 "auto_batch": False},
}  # fmt: skip
#: Fields a client posts; the rest of a current result is the server's.
POSTED = ("sample_id", "parameters", "objective", "measurements", "status")
TOLERANCE = 1e-8


def row(sid: str, t: float, minutes: float, **extra: Any) -> dict[str, Any]:
    return {"sample_id": sid, "parameters": {"temperature_c": t, "time_min": minutes},
            "objective": grid_conductivity(t, minutes), **extra}  # fmt: skip


FIRST = [row(f"s{i}", t, m) for i, (t, m) in enumerate(GRID_POINTS[:7])]
# A typo (1e300), a wrong furnace reading (1075 for 925) and a cracked pellet to set aside.
LATER = [
    row("typo", 925, 60, objective=1e300),
    row("furnace", 1075, 30),
    row("cracked", 975, 10, objective=5e-3),
]
CORRECTIONS = [
    ("typo", {"objective": grid_conductivity(925, 60), "reason": "typed 1e300 for the value"}),
    ("furnace", {"parameters": {"temperature_c": 925}, "reason": "furnace log: 925 degC"}),
    ("cracked", {"excluded": True, "reason": "pellet cracked"}),
]


def _nothing(*args: object) -> None:
    return None


@pytest.fixture
def fresh(redis_url: str) -> Iterator[Store]:
    """A store on another database of the same Redis, emptied."""
    store = Store.from_url(redis_url.rsplit("/", 1)[0] + "/1")
    store.redis.flushdb()
    yield store
    store.redis.flushdb()
    store.redis.close()


def next_model_and_batch(store: Store, cid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    refit_campaign(store, cid, _nothing)
    store.jobs.create(PROPOSALS_JOB, cid, {"overrides": {}}, job_id="equivalence")
    batch = propose_for_job(store, "equivalence")
    model = store.models.get(cid)
    assert model is not None
    return model["summary"], batch


def numbers(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a JSON document by its path (the data hash left out: sample records differ
    in received_at)."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() if key != "data_sha256"
                for k, v in numbers(item, f"{path}.{key}").items()}  # fmt: skip
    if isinstance(value, list):
        return {
            k: v for i, item in enumerate(value) for k, v in numbers(item, f"{path}.{i}").items()
        }
    return {path: value}


def assert_close(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Equal leaves (numbers to TOLERANCE relative); returns the largest relative difference."""
    left, right = numbers(a), numbers(b)
    assert left.keys() == right.keys()
    worst = 0.0
    for path, x in left.items():
        y = right[path]
        if isinstance(x, float | int) and not isinstance(x, bool):
            assert math.isclose(x, y, rel_tol=TOLERANCE, abs_tol=1e-300), (path, x, y)
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
        else:
            assert x == y, (path, x, y)
    return worst


def test_corrected_campaign_proposes_what_a_new_one_on_the_corrected_data_does(
    client: FlaskClient, store: Store, fresh: Store
) -> None:
    cid = store.campaigns.create(CAMPAIGN)["id"]
    store.results.append(cid, FIRST)
    refit_campaign(
        store, cid, _nothing
    )  # a model on the first results: later refits may warm-start
    store.results.append(cid, LATER)
    refit_campaign(store, cid, _nothing)  # fails on the typo, recorded
    for sid, body in CORRECTIONS:
        response = client.patch(f"/api/v1/campaigns/{cid}/results/{sid}", json=body, headers=ADMIN)
        assert response.status_code == 200, response.get_json()
    corrected = [
        {k: r[k] for k in POSTED if k in r} for r in store.results.current(cid, excluded=False)
    ]
    assert len(corrected) == len(FIRST) + 2

    new_cid = fresh.campaigns.create(CAMPAIGN)["id"]
    fresh.results.append(new_cid, corrected)

    model, batch = next_model_and_batch(store, cid)
    new_model, new_batch = next_model_and_batch(fresh, new_cid)
    assert model["n_observations"] == new_model["n_observations"] == len(corrected)
    worst_model = assert_close(model, new_model)
    keep = ("parameters", "predicted_mean", "predicted_std", "acquisition_value")
    proposals = [{k: p[k] for k in keep} for p in batch["proposals"]]
    new_proposals = [{k: p[k] for k in keep} for p in new_batch["proposals"]]
    assert batch["fallback"] is None and len(proposals) == 3
    worst_batch = assert_close({"p": proposals}, {"p": new_proposals})
    print(f"largest relative difference: model {worst_model:.1e}, batch {worst_batch:.1e}")


def test_a_refit_after_a_correction_fits_cold_as_a_new_campaign_would(
    client: FlaskClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = store.campaigns.create(CAMPAIGN)["id"]
    store.results.append(cid, FIRST)
    refit_campaign(store, cid, _nothing)
    starts: list[object] = []
    original = refits.fit

    def spy(*args: Any, **kwargs: Any) -> Any:
        starts.append(args[3])
        return original(*args, **kwargs)

    monkeypatch.setattr(refits, "fit", spy)
    store.results.append(cid, [LATER[1]])
    refit_campaign(store, cid, _nothing)
    assert starts[-1] is not None  # one more result: warm from the stored model
    body = {"objective": 2e-5, "reason": "misread"}
    assert (
        client.patch(f"/api/v1/campaigns/{cid}/results/s1", json=body, headers=ADMIN).status_code
        == 200
    )
    refit_campaign(store, cid, _nothing)
    assert starts[-1] is None  # a correction: cold
