"""Clear errors from the bridge against a real Kadi4Mat: a wrong token, an unknown collection,
and records with a missing extra, a wrong type or a wrong unit, each reported and counted while
the good records still arrive."""

from __future__ import annotations

import secrets

import pytest
from support.kadi import KadiServer
from support.kadi_records import MAPPING, KadiAPI, lab_extras

from kiln_client.client import Client
from kiln_client.kadi import Kadi, KadiError, import_collection, mapping_from_dict

pytestmark = [pytest.mark.slow, pytest.mark.kadi, pytest.mark.timeout(2400)]


def test_a_wrong_token_is_refused_saying_so(kadi: KadiServer) -> None:
    with pytest.raises(KadiError, match="refused the token"):
        Kadi(kadi.url, "pat_not-a-token")


def test_an_unknown_collection_is_named(bridge: Kadi, kiln: Client) -> None:
    campaign = kiln.create_campaign(preset="latp", name=f"kadi-unknown-{secrets.token_hex(3)}")
    with pytest.raises(KadiError, match="unknown Kadi4Mat collection 'no-such-collection'"):
        import_collection(
            kiln, bridge, "no-such-collection", campaign["id"],
            mapping_from_dict(MAPPING),
        )  # fmt: skip


def _with(i: int, key: str, **change: object) -> list[dict[str, object]]:
    return [dict(e, **change) if e["key"] == key else e for e in lab_extras(i)]


def test_each_bad_record_is_reported_and_counted_and_the_others_arrive(
    kadi_api: KadiAPI, bridge: Kadi, kiln: Client
) -> None:
    api = kadi_api
    collection = api.collection("latp-bad")
    tag = secrets.token_hex(2)
    good = api.record(collection["id"], f"good-{tag}", lab_extras(0))
    missing = api.record(
        collection["id"], f"missing-{tag}", [e for e in lab_extras(1) if e["key"] != "density"]
    )
    wrong_type = api.record(
        collection["id"],
        f"wrong-type-{tag}",
        [
            {"key": e["key"], "type": "str", "value": "hot"}
            if e["key"] == "sintering_temperature"
            else e
            for e in lab_extras(2)
        ],
    )
    wrong_unit = api.record(
        collection["id"],
        f"wrong-unit-{tag}",
        _with(3, "sintering_temperature", value=1100, unit="K"),
    )
    also_good = api.record(collection["id"], f"also-good-{tag}", lab_extras(4))
    campaign = kiln.create_campaign(preset="latp", name=f"kadi-bad-{secrets.token_hex(3)}")

    report = import_collection(
        kiln, bridge, str(collection["id"]), campaign["id"],
        mapping_from_dict(MAPPING),
    )  # fmt: skip

    assert sorted(report.stored) == sorted([f"kadi-{good['id']}", f"kadi-{also_good['id']}"])
    assert len(report.failed) == 3
    why = {record_id: next(m for k, m in report.failed.items() if f"record {record_id} " in k)
           for record_id in (missing["id"], wrong_type["id"], wrong_unit["id"])}  # fmt: skip
    assert "extra 'density'" in why[missing["id"]] and "missing" in why[missing["id"]]
    assert "'sintering_temperature'" in why[wrong_type["id"]]
    assert "a str ('hot'), expected a number" in why[wrong_type["id"]]
    assert "unit 'K'" in why[wrong_unit["id"]] and "'degC'" in why[wrong_unit["id"]]
    assert {r["sample_id"] for r in kiln.list_results(campaign["id"])} == set(report.stored)
