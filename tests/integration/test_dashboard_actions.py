"""The dashboard's "exclude…"/"include…" on a real Redis (issue 15 item 7): a form post with the
session's CSRF token, forwarded as the API's PATCH with the session's token, whose scope the API
checks. A refused post stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN, ADMIN_TOKEN

from kiln_client.furnace_words import broken_flags
from kiln_services.store import Store

CSRF = "form-token-of-this-session"
SAMPLE = "S 1/a"  # a sample id is any text: the action's URL quotes it
ACTION = "/ui/campaigns/{cid}/results/S%201%2Fa/excluded"


@pytest.fixture
def cid(client: FlaskClient) -> str:
    campaign = {"name": "dash", "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY}
    created = client.post("/api/v1/campaigns", json=campaign, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    cid = str(created.get_json()["id"])
    result = {"sample_id": SAMPLE, "parameters": {"temperature_c": 900, "time_min": 30},
              "objective": 1e300}  # fmt: skip
    assert client.post(f"/api/v1/campaigns/{cid}/results", json=result, headers=ADMIN).status_code
    return cid


def signed_in(client: FlaskClient, token: str) -> FlaskClient:
    """The browser's session after sign-in: its token and its form (CSRF) token."""
    with client.session_transaction() as session:
        session["token"] = token
        session["csrf"] = CSRF
    return client


def stored(client: FlaskClient, cid: str) -> Any:
    """What the API lists for the campaign (to check that a refused action changed nothing)."""
    return client.get(f"/api/v1/campaigns/{cid}/results", headers=ADMIN).get_json()["items"]


def token_of(client: FlaskClient, scope: str) -> str:
    issued = client.post("/api/v1/tokens", json={"scope": scope, "name": f"{scope}-person"},
                         headers=ADMIN)  # fmt: skip
    return str(issued.get_json()["token"])


@pytest.mark.parametrize("csrf", [None, "", "another-sessions-token"])
def test_an_action_without_the_sessions_csrf_token_is_refused(
    client: FlaskClient, cid: str, csrf: str | None
) -> None:
    before = stored(client, cid)
    form = {"excluded": "true", "reason": "pellet cracked"}
    if csrf is not None:
        form["csrf"] = csrf
    answer = signed_in(client, ADMIN_TOKEN).post(ACTION.format(cid=cid), data=form)
    assert answer.status_code == 400 and "reload the page" in answer.get_data(as_text=True)
    assert stored(client, cid) == before


def test_an_action_needs_a_session_and_a_write_scope(client: FlaskClient, cid: str) -> None:
    before = stored(client, cid)
    form = {"csrf": CSRF, "excluded": "true", "reason": "pellet cracked"}
    assert client.post(ACTION.format(cid=cid), data=form).status_code == 401
    refused = signed_in(client, token_of(client, "read")).post(ACTION.format(cid=cid), data=form)
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert "scope" in refused.get_json()["detail"]
    assert stored(client, cid) == before


def test_a_bad_flag_is_a_422_naming_it(client: FlaskClient, cid: str) -> None:
    before = stored(client, cid)
    form = {"csrf": CSRF, "excluded": "maybe", "reason": "r"}
    answer = signed_in(client, ADMIN_TOKEN).post(ACTION.format(cid=cid), data=form)
    assert answer.status_code == 422 and "excluded" in answer.get_json()["detail"]
    assert stored(client, cid) == before


def test_exclude_then_include_through_the_dashboard(client: FlaskClient, cid: str) -> None:
    writer = signed_in(client, token_of(client, "write"))
    form = {
        "csrf": CSRF,
        "excluded": "true",
        "reason": "pellet cracked",
        "if_match": f'"{SAMPLE}:0"',
    }
    excluded = writer.post(ACTION.format(cid=cid), data=form)
    assert excluded.status_code == 200, excluded.get_data(as_text=True)
    view = excluded.get_json()
    assert view["excluded"] is True and view["revision"] == 1
    assert view["revisions"][0]["reason"] == "pellet cracked"
    assert view["revisions"][0]["by"] == "write-person"
    assert view["revisions"][0]["changes"] == {"excluded": {"from": False, "to": True}}

    # The page still showed revision 0: a stale action is refused, not applied over the other.
    stale = writer.post(ACTION.format(cid=cid), data={**form, "excluded": "false"})
    assert stale.status_code == 412
    assert stored(client, cid)[0]["excluded"] is True

    back = writer.post(ACTION.format(cid=cid), data={**form, "excluded": "false",
                                                     "if_match": f'"{SAMPLE}:1"'})  # fmt: skip
    assert back.status_code == 200 and back.get_json()["excluded"] is False
    history = client.get(f"/ui/api/campaigns/{cid}/results/S%201%2Fa")
    assert [r["revision"] for r in history.get_json()["revisions"]] == [1, 2]


# -- a multi-objective campaign's pages (issue 16) -------------------------------------------------

DENSITY = {"name": "relative_density", "unit": "1", "goal": "maximize", "transform": "none"}


def test_a_multi_objective_campaign_shows_its_front_not_a_convergence_chart(
    client: FlaskClient,
) -> None:
    campaign = {"name": "dash-moo", "parameters": GRID_PARAMETERS,
                "objectives": [{**CONDUCTIVITY, "threshold": 1e-5}, DENSITY],
                "outcome_constraints": [{"name": "relative_density", "op": ">=", "value": 0.9}]}  # fmt: skip
    created = client.post("/api/v1/campaigns", json=campaign, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    cid = str(created.get_json()["id"])
    results = [
        {"sample_id": f"M-{i}", "parameters": {"temperature_c": 900 + 50 * i, "time_min": 30},
         "objectives": {"conductivity": c, "relative_density": d}}
        for i, (c, d) in enumerate([(1e-4, 0.97), (1e-3, 0.90), (5e-5, 0.85)])
    ]  # fmt: skip
    posted = client.post(f"/api/v1/campaigns/{cid}/results", json=results, headers=ADMIN)
    assert posted.status_code in (200, 201), posted.get_json()
    session = signed_in(client, ADMIN_TOKEN)

    page = session.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "maximize conductivity (S/cm), maximize relative_density (1)" in page
    assert 'id="chart-pareto"' in page and 'id="chart-hypervolume"' in page
    assert "pareto.js" in page and "Hypervolume" in page
    assert 'id="chart-convergence"' not in page and 'id="slices"' in page
    # One objective's slice at a time (the first by default), without an acquisition map.
    assert '<select id="slice-objective"><option value="conductivity">' in page
    assert '<option value="relative_density">' in page and 'id="chart-slice-acq"' not in page
    assert 'id="bench"' not in page  # virtual experiments replay one objective (a 409 here)
    assert "<code>conductivity</code>, <code>relative_density</code>" in page  # CSV advice
    assert "<dt>Outcome constraints</dt><dd>relative_density &gt;= 0.9</dd>" in page
    index = session.get("/").get_data(as_text=True)
    assert "maximize conductivity (S/cm), maximize relative_density (1)" in index

    # The page reads the report through the relay: M-2 is dominated by M-0.
    report = session.get(f"/ui/api/campaigns/{cid}/pareto")
    assert report.status_code == 200, report.get_data(as_text=True)
    assert sorted(p["sample_id"] for p in report.get_json()["front"]) == ["M-0", "M-1"]
    assert report.get_json()["hypervolume"] > 0

    # A single-objective campaign's page is as before.
    single = {"name": "dash-one", "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY}
    one = client.post("/api/v1/campaigns", json=single, headers=ADMIN).get_json()["id"]
    page = session.get(f"/campaigns/{one}").get_data(as_text=True)
    assert 'id="chart-convergence"' in page and 'id="slices"' in page and 'id="bench"' in page
    assert 'id="chart-slice-acq"' in page and 'id="slice-objective"' not in page
    assert "pareto.js" not in page and "Best so far" in page


# -- constraints and furnace groups (issue 17) ----------------------------------------------------

#: Two furnace runs of the latp-furnace space: the pellets of a run share temperature and time.
FURNACE_BATCH = [
    {"acid_wt_pct": a, "temperature_c": t, "time_min": m, "group": g}
    for g, (t, m) in enumerate([(1050.0, 120.0), (975.0, 480.0)])
    for a in (-7.5, -3.75, 0.0)
]


def furnace_campaign(client: FlaskClient, store: Store) -> str:
    """A latp-furnace campaign with two groups in its latest batch (as the worker stores them)."""
    created = client.post("/api/v1/campaigns", json={"preset": "latp-furnace"}, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    cid = str(created.get_json()["id"])
    sharing = {"strategy": {"batch_shared": {"parameters": ["temperature_c", "time_min"],
                                             "groups": 2}}}  # fmt: skip
    assert client.patch(f"/api/v1/campaigns/{cid}", json=sharing, headers=ADMIN).status_code == 200
    proposals = [
        {"parameters": {k: v for k, v in point.items() if k != "group"}, "group": point["group"],
         "predicted_mean": 1e-4, "predicted_std": 1e-5, "acquisition_value": 0.5}
        for point in FURNACE_BATCH
    ]  # fmt: skip
    header = {"model_version": 1, "data_version": 0, "space_version": 2, "acquisition": "ucb",
              "batch_method": "kriging_believer", "job_id": "b1"}  # fmt: skip
    store.proposals.save_batch(cid, "b1", header, proposals)
    return cid


def test_the_page_says_the_constraints_and_the_state_heads_each_furnace_run(
    client: FlaskClient, store: Store
) -> None:
    cid = furnace_campaign(client, store)
    signed_in(client, ADMIN_TOKEN)
    page = client.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "<code>not (temperature_c &gt;= 1075 and time_min &gt; 240)</code>" in page
    assert "at most 2 furnace runs: the pellets of a run share temperature_c and time_min" in page
    assert 'id="constraints" hidden' not in page and "groups.js" in page

    state = client.get(f"/ui/campaigns/{cid}/state").get_json()
    assert state["words"]["groups"] == {
        "0": "Furnace run 1: 1050 °C, 120 min",
        "1": "Furnace run 2: 975 °C, 480 min",
    }
    assert [p["group"] for p in state["latest"]["proposals"]] == [0, 0, 0, 1, 1, 1]
    assert state["words"]["shared"] == ["temperature_c", "time_min"]

    # A PATCH withdraws the pending pellets that break the new constraint, with the reason, and
    # the state says the new constraint in words; a result breaking it is stored and flagged.
    linear = {"kind": "linear", "terms": {"temperature_c": 1, "time_min": 2}, "op": "<=",
              "rhs": 1500}  # fmt: skip
    changed = client.patch(f"/api/v1/campaigns/{cid}", json={"constraints": [linear]},
                           headers=ADMIN)  # fmt: skip
    assert changed.status_code == 200, changed.get_json()
    state = client.get(f"/ui/campaigns/{cid}/state").get_json()
    assert state["words"]["constraints"] == ["temperature_c + 2 time_min <= 1500"]
    withdrawn = [p for p in state["latest"]["proposals"] if p["status"] == "withdrawn"]
    assert [p["group"] for p in withdrawn] == [1, 1, 1]
    assert all("breaks constraints.0" in p["reason"] for p in withdrawn)
    result = {"sample_id": "hot", "parameters": {"acid_wt_pct": 0, "temperature_c": 1000,
              "time_min": 480}, "objective": 1e-4}  # fmt: skip
    assert client.post(f"/api/v1/campaigns/{cid}/results", json=result, headers=ADMIN).status_code
    relayed = client.get(f"/ui/api/campaigns/{cid}/results").get_json()["items"]
    assert broken_flags(relayed[0]) == [
        "breaks constraints.0 (1*temperature_c + 2*time_min <= 1500)"
    ]


def test_words_from_the_campaign_are_escaped(client: FlaskClient, store: Store) -> None:
    labels = ["<img src=x onerror=alert(1)>", "</script><b>x</b>"]
    campaign = {
        "name": "escape",
        "parameters": [*GRID_PARAMETERS, {"name": "lot", "kind": "categorical", "values": labels}],
        "objective": CONDUCTIVITY,
        "constraints": [{"kind": "forbidden", "when": {"lot": {"in": labels[:1]}}}],
    }
    created = client.post("/api/v1/campaigns", json=campaign, headers=ADMIN)
    assert created.status_code == 201, created.get_json()
    signed_in(client, ADMIN_TOKEN)
    page = client.get(f"/campaigns/{created.get_json()['id']}").get_data(as_text=True)
    assert "not (lot in {&lt;img src=x onerror=alert(1)&gt;})" in page
    assert "<img" not in page and "</script><b>" not in page


def test_a_campaign_without_constraints_shows_no_constraints_card(
    client: FlaskClient, cid: str
) -> None:
    signed_in(client, ADMIN_TOKEN)
    page = client.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert 'id="constraints" hidden' in page
    state = client.get(f"/ui/campaigns/{cid}/state").get_json()
    assert state["words"] == {"constraints": [], "sharing": None, "shared": [], "groups": {}}
