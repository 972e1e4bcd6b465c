"""The issue's acceptance, against a real Kadi4Mat and a real Kiln stack: 50 LATP records in, the
proposals back as records, nothing lost, duplicated or converted; a second run changes nothing;
a record edited in Kadi4Mat arrives as a correction."""

from __future__ import annotations

import secrets
import time

import pytest
from support.kadi_records import MAPPING, KadiAPI, lab_extras

from kiln_client.client import Client
from kiln_client.kadi import (
    Kadi,
    export_proposals,
    import_collection,
    mapping_from_dict,
)

pytestmark = [pytest.mark.slow, pytest.mark.kadi, pytest.mark.timeout(2400)]


def test_fifty_records_in_proposals_out_once_and_an_edit_becomes_a_correction(
    kadi_api: KadiAPI, bridge: Kadi, kiln: Client
) -> None:
    api = kadi_api
    collection = api.collection("latp-samples")
    made = [
        api.record(collection["id"], f"latp-{i:03d}-{secrets.token_hex(2)}", lab_extras(i))
        for i in range(50)
    ]
    campaign = kiln.create_campaign(preset="latp", name=f"kadi-round-trip-{secrets.token_hex(3)}")
    cid = campaign["id"]
    mapping = mapping_from_dict(MAPPING)

    started = time.monotonic()
    imported = import_collection(kiln, bridge, collection["identifier"], cid, mapping)
    assert imported.failed == {}
    assert sorted(imported.stored) == sorted(f"kadi-{r['id']}" for r in made)

    results = {r["sample_id"]: r for r in kiln.list_results(cid)}
    assert len(results) == 50
    for i, record in enumerate(made):
        extras = {e["key"]: e["value"] for e in lab_extras(i)}
        stored = results[f"kadi-{record['id']}"]
        assert stored["parameters"] == {
            "acid_wt_pct": extras["acid_excess"],
            "temperature_c": extras["sintering_temperature"],
            "time_min": extras["holding_time"],
        }
        assert stored["objective"] == extras["conductivity"]
        assert stored["measurements"] == {"density": extras["density"]}

    kiln.wait_for_proposals(cid, timeout=300)
    pending = kiln.list_proposals(cid, status="pending")
    assert len(pending) == 6
    exported = export_proposals(kiln, bridge, cid, collection["identifier"], mapping)
    round_trip = time.monotonic() - started
    assert exported.failed == {} and len(exported.created) == 6

    by_proposal = {
        extras["kiln_proposal_id"]["value"]: (record, extras)
        for record in api.records(collection["id"])
        if "kiln_proposal_id" in (extras := {e["key"]: e for e in record["extras"]})
    }
    proposals = {p["id"]: p for p in pending}
    assert set(by_proposal) == set(proposals)
    for record, extras in by_proposal.values():
        proposal = proposals[extras["kiln_proposal_id"]["value"]]
        for name, field in MAPPING["parameters"].items():
            assert extras[field["extra"]]["value"] == proposal["parameters"][name]
            assert extras[field["extra"]]["unit"] == field["unit"]
        assert extras["conductivity_predicted_mean"]["value"] == proposal["predicted_mean"]
        assert extras["conductivity_predicted_std"]["value"] == proposal["predicted_std"]
        assert extras["conductivity_predicted_mean"]["unit"] == "S/cm"
        assert extras["kiln_proposal_url"]["value"].endswith(f"/proposals/{proposal['id']}")
        assert proposal["id"] in record["title"]

    again = import_collection(kiln, bridge, collection["identifier"], cid, mapping)
    assert (again.stored, again.corrected, again.failed) == ([], [], {})
    assert len(again.unchanged) == 50 and len(again.skipped) == 6
    once_more = export_proposals(kiln, bridge, cid, collection["identifier"], mapping)
    assert (once_more.created, once_more.failed, len(once_more.existing)) == ([], {}, 6)
    assert len(kiln.list_results(cid)) == 50
    assert len(api.records(collection["id"])) == 56

    edited = made[7]
    api.edit_extra(edited["id"], "conductivity", 9.5e-4)
    corrected = import_collection(kiln, bridge, collection["identifier"], cid, mapping)
    assert corrected.corrected == [f"kadi-{edited['id']}"] and corrected.stored == []
    view = kiln.result(cid, f"kadi-{edited['id']}")
    assert view["objective"] == 9.5e-4 and view["revision"] == 1
    assert view["revisions"][0]["reason"] == "updated in Kadi4Mat, revision 2"
    assert view["revisions"][0]["changes"] == {
        "objective": {"from": lab_extras(7)[3]["value"], "to": 9.5e-4}
    }
    print(f"\nKadi4Mat round trip (50 records in, 6 proposals out): {round_trip:.1f} s")
