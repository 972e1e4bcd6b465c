"""The fixture Redis is real, persistent (AOF) and not the user's on 6379."""

from __future__ import annotations

import redis

from kiln_services.devstack.redis_server import RedisServer


def test_fixture_redis_is_real_and_appends(
    redis_client: redis.Redis, redis_server: RedisServer
) -> None:
    assert redis_server.port != 6379
    assert redis_client.config_get("appendonly")["appendonly"] == "yes"
    redis_client.set("k", "v")
    assert redis_client.get("k") == "v"


def test_acknowledged_write_survives_sigkill(tmp_path) -> None:
    server = RedisServer(tmp_path).start()
    client = redis.Redis.from_url(server.url)
    client.rpush("log", "a", "b")
    server.kill()
    restarted = RedisServer(tmp_path, port=server.port).start()
    try:
        assert redis.Redis.from_url(restarted.url).lrange("log", 0, -1) == [b"a", b"b"]
    finally:
        restarted.stop()
