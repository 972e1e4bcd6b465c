"""make run's choices: the Redis port (never 6379, never a taken one) and the kept admin token."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kiln_client.demo import best_result, completed_iterations
from kiln_services.devstack.stack import Stack, admin_token, choose_redis_port, port_is_free


def test_redis_port_falls_back_when_the_preferred_one_is_taken() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = sock.getsockname()[1]
        assert not port_is_free(taken)
        chosen = choose_redis_port(taken)
    assert chosen not in (taken, 6379)


def test_redis_port_is_never_6379(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KILN_REDIS_PORT", "6379")
    assert choose_redis_port() != 6379


def test_admin_token_is_made_once_and_kept(tmp_path: Path) -> None:
    token, source = admin_token(tmp_path, env={})
    assert len(token) >= 32 and "new" in source
    assert (tmp_path / "admin_token").stat().st_mode & 0o777 == 0o600
    assert admin_token(tmp_path, env={}) == (token, str(tmp_path / "admin_token"))
    assert admin_token(tmp_path, env={"KILN_ADMIN_TOKEN": "from-env"})[0] == "from-env"


def test_stack_uses_redis_url_instead_of_embedding(tmp_path: Path) -> None:
    stack = Stack(tmp_path, redis_url="redis://example:6380/0", admin_token="t")
    assert stack.redis is None
    assert stack.env["REDIS_URL"] == "redis://example:6380/0"
    assert stack.env["KILN_ADMIN_TOKEN"] == "t"


def test_demo_resumes_after_its_own_samples() -> None:
    results = [
        {"sample_id": "SEED-001", "objective": 1e-4},
        {"sample_id": "DEMO-01-1", "objective": 3e-4},
        {"sample_id": "DEMO-02-6", "objective": None, "status": "failed"},
    ]
    assert completed_iterations(results) == 2
    assert best_result(results)["sample_id"] == "DEMO-01-1"
