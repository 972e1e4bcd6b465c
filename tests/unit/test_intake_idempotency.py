"""Idempotency records and token records in the store (fakeredis), without HTTP."""

from __future__ import annotations

from kiln_services.store import Keys, Store


def test_claim_then_replay_or_refuse(store: Store) -> None:
    assert store.idempotency_begin("k", "fp1", 60) == ("new", None)
    assert store.idempotency_begin("k", "fp1", 60) == ("in_progress", None)
    assert store.idempotency_begin("k", "fp2", 60) == ("mismatch", None)
    saved = {"status": 201, "headers": {"Location": "/x"}, "body": "{}"}
    store.idempotency_save("k", "fp1", saved, 3600)
    assert store.idempotency_begin("k", "fp1", 60) == ("replay", saved)
    assert store.idempotency_begin("k", "fp2", 60) == ("mismatch", None)
    assert 3500 < store.redis.ttl("kiln:idempotency:k") <= 3600


def test_release_frees_only_its_own_claim(store: Store) -> None:
    store.idempotency_begin("k", "fp1", 60)
    store.idempotency_release("k", "other")
    assert store.idempotency_begin("k", "fp1", 60) == ("in_progress", None)
    store.idempotency_release("k", "fp1")
    assert store.idempotency_begin("k", "fp2", 60) == ("new", None)


def test_tokens_have_ids_list_without_secret_and_revoke(store: Store) -> None:
    a = store.add_token("d" * 64, "write", "lims", campaign_id="c1")
    b = store.add_token("e" * 64, "read", "dash")
    assert a["id"] != b["id"] and a["campaign_id"] == "c1"
    assert [t["name"] for t in store.list_tokens()] == ["lims", "dash"]
    assert store.get_token("d" * 64)["scope"] == "write"
    assert store.revoke_token(a["id"]) and not store.revoke_token(a["id"])
    assert store.get_token("d" * 64) is None and store.redis.hlen(Keys.tokens) == 1


def test_records_written_before_ids_get_one(store: Store) -> None:
    store.redis.hset(
        Keys.tokens, "f" * 64, '{"digest": "' + "f" * 64 + '", "scope": "read", "name": "old"}'
    )
    [old] = store.list_tokens()
    assert old["id"] == "f" * 16 and old["campaign_id"] is None
    assert store.revoke_token("f" * 16)
