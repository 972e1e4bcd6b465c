"""kiln_client against the live stack: the calls a LIMS integration makes, end to end."""

from __future__ import annotations

import csv
import io

import pytest

from kiln.lab import VirtualLatpLab
from kiln_client.client import AuthError, Client, KilnAPIError
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def kiln(stack: Stack) -> Client:
    return Client(stack.base_url, stack.admin_token, timeout=30)


def seed_csv(count: int) -> str:
    rows = VirtualLatpLab().seed_grid()[:count]
    names = list(rows[0]["parameters"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sample_id", *names, "conductivity"])
    for r in rows:
        writer.writerow([r["sample_id"], *[r["parameters"][n] for n in names], r["objective"]])
    return out.getvalue()


def test_a_lims_loop_with_the_client(kiln: Client, unique_name: str) -> None:
    campaign = kiln.create_campaign(preset="latp", name=unique_name)
    cid = campaign["id"]
    assert kiln.get_campaign(cid)["name"] == unique_name
    assert cid in {c["id"] for c in kiln.list_campaigns()}

    posted = kiln.post_results_csv(cid, seed_csv(40))
    assert posted["stored"] == 40
    rest = VirtualLatpLab().seed_grid()[40:]
    assert kiln.post_results(cid, rest)["stored"] == 40
    assert kiln.post_results(cid, rest[0])["duplicates"] == 1  # one dict, already stored
    assert len(kiln.list_results(cid)) == 80
    exported = list(csv.DictReader(io.StringIO(kiln.export_results_csv(cid))))
    assert len(exported) == 80

    batch = kiln.wait_for_proposals(cid, timeout=180)
    assert batch["proposals"] and all(p["status"] == "pending" for p in batch["proposals"])
    latest = kiln.poll_proposals(cid)
    assert latest.etag and latest.batch is not None
    unchanged = kiln.poll_proposals(cid, etag=latest.etag, wait=1)
    assert unchanged.batch is None and unchanged.etag == latest.etag

    withdrawn = kiln.withdraw_proposal(cid, batch["proposals"][0]["id"])
    assert withdrawn["status"] == "withdrawn"
    info = kiln.model(cid)
    assert info["summary"]["n_observations"] >= 40
    sliced = kiln.model_slice(cid, "acid_wt_pct", "temperature_c", fixed={"time_min": 480})
    assert sliced["fixed"] == {"time_min": 480}
    assert len(sliced["mean"]) == len(sliced["y"]["values"])
    assert len(sliced["acquisition"][0]) == len(sliced["x"]["values"])
    predicted = kiln.predict(cid, [batch["proposals"][1]["parameters"]])["predictions"]
    assert predicted[0]["mean"] > 0 and predicted[0]["std"] >= 0

    job = kiln.request_proposals(cid, batch_size=2, acquisition="ei")
    done = kiln.wait_for_job(job["id"], timeout=180)
    assert done["state"] == "done"
    newest = kiln.latest_proposals(cid)
    assert newest is not None and newest["batch_id"] != batch["batch_id"]


def test_field_errors_and_auth_errors_from_the_real_server(kiln: Client, stack: Stack) -> None:
    with pytest.raises(KilnAPIError) as info:
        kiln.create_campaign({"name": "bad", "parameters": [], "objective": {"name": "y"}})
    assert info.value.status == 422
    assert any(field.startswith("parameters") for field in info.value.errors)

    with pytest.raises(AuthError) as refused:
        Client(stack.base_url, "wrong-token").list_campaigns()
    assert refused.value.status == 401 and "KILN_TOKEN" in str(refused.value)


def test_benchmark_through_the_client(kiln: Client, unique_name: str) -> None:
    cid = kiln.create_campaign(preset="latp", name=unique_name)["id"]
    kiln.post_results_csv(cid, seed_csv(25))
    job = kiln.start_benchmark(cid, strategies=["ucb"], n_inits=[5], repeats=2)
    finished = kiln.wait_for_job(job["id"], timeout=300)
    cell = finished["result"]["table"]["ucb"]["5"]
    assert cell["runs"] == 2


def test_a_repeated_post_with_its_key_is_answered_once(kiln: Client, unique_name: str) -> None:
    first = kiln.create_campaign(preset="latp", name=unique_name, idempotency_key=unique_name)
    again = kiln.create_campaign(preset="latp", name=unique_name, idempotency_key=unique_name)
    assert again["id"] == first["id"]
    assert [c["id"] for c in kiln.list_campaigns() if c["name"] == unique_name] == [first["id"]]
