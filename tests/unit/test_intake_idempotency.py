"""Idempotency records and token records in the store (fakeredis), without HTTP."""

from __future__ import annotations

from kiln_services.store import Keys, Store


def test_claim_then_replay_or_refuse(store: Store) -> None:
    assert store.idempotency.begin("k", "fp1", 60) == ("new", None)
    assert store.idempotency.begin("k", "fp1", 60) == ("in_progress", None)
    assert store.idempotency.begin("k", "fp2", 60) == ("mismatch", None)
    saved = {"status": 201, "headers": {"Location": "/x"}, "body": "{}"}
    store.idempotency.save("k", "fp1", saved, 3600)
    assert store.idempotency.begin("k", "fp1", 60) == ("replay", saved)
    assert store.idempotency.begin("k", "fp2", 60) == ("mismatch", None)
    assert 3500 < store.redis.ttl("kiln:idempotency:k") <= 3600


def test_release_frees_only_its_own_claim(store: Store) -> None:
    store.idempotency.begin("k", "fp1", 60)
    store.idempotency.release("k", "other")
    assert store.idempotency.begin("k", "fp1", 60) == ("in_progress", None)
    store.idempotency.release("k", "fp1")
    assert store.idempotency.begin("k", "fp2", 60) == ("new", None)


def test_tokens_have_ids_list_without_secret_and_revoke(store: Store) -> None:
    a = store.tokens.add("d" * 64, "write", "lims", campaign_id="c1")
    b = store.tokens.add("e" * 64, "read", "dash")
    assert a["id"] != b["id"] and a["campaign_id"] == "c1"
    assert [t["name"] for t in store.tokens.all()] == ["lims", "dash"]
    assert store.tokens.get("d" * 64)["scope"] == "write"
    assert store.tokens.revoke(a["id"]) and not store.tokens.revoke(a["id"])
    assert store.tokens.get("d" * 64) is None and store.redis.hlen(Keys.tokens) == 1


def test_records_written_before_ids_get_one(store: Store) -> None:
    store.redis.hset(
        Keys.tokens, "f" * 64, '{"digest": "' + "f" * 64 + '", "scope": "read", "name": "old"}'
    )
    [old] = store.tokens.all()
    assert old["id"] == "f" * 16 and old["campaign_id"] is None
    assert store.tokens.revoke("f" * 16)
