"""docker-compose.yml and deploy/ describe a durable, scalable deployment (parsed, not run)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def redis_conf() -> dict[str, str]:
    settings = {}
    for line in (ROOT / "deploy" / "redis.conf").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ")
            settings[key] = value.strip()
    return settings


def test_services_are_redis_intake_worker_flower(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"redis", "intake", "worker", "flower"}


def test_redis_keeps_its_aof_in_a_named_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in redis["volumes"]}
    assert mounts["/data"] in compose["volumes"], "the data must live in a named volume"
    conf_source = mounts["/usr/local/etc/redis/redis.conf"]
    assert (ROOT / conf_source).resolve() == (ROOT / "deploy" / "redis.conf").resolve()
    assert "/usr/local/etc/redis/redis.conf" in redis["command"]
    assert "redis-cli" in " ".join(redis["healthcheck"]["test"])


def test_redis_conf_fsyncs_every_write_to_the_aof_in_data() -> None:
    conf = redis_conf()
    assert conf["appendonly"] == "yes"
    assert conf["appendfsync"] == "always"
    assert conf["dir"] == "/data"
    assert conf["maxmemory-policy"] == "noeviction"


def test_intake_is_configured_from_env_and_health_checked(compose: dict[str, Any]) -> None:
    intake = compose["services"]["intake"]
    assert intake["env_file"] == ".env"  # KILN_ADMIN_TOKEN lives there, not in this file
    assert "KILN_ADMIN_TOKEN" not in intake.get("environment", {})
    assert intake["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert "PORT" in intake["environment"]
    assert "/healthz" in " ".join(intake["healthcheck"]["test"])
    assert intake["restart"] == "unless-stopped"
    assert intake["depends_on"]["redis"]["condition"] == "service_healthy"


def test_worker_scales(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    # `--scale worker=N` fails with a fixed container name or a published port.
    assert "container_name" not in worker
    assert "ports" not in worker
    command = (
        worker["command"] if isinstance(worker["command"], str) else " ".join(worker["command"])
    )
    assert re.search(
        r"celery -A kiln_services\.worker\.app worker -Q proposals,benchmarks\b", command
    )
    assert worker["build"] == compose["services"]["intake"]["build"], "one image for both"
    assert worker["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_flower_requires_basic_auth(compose: dict[str, Any]) -> None:
    flower = compose["services"]["flower"]
    auth = flower["environment"]["FLOWER_BASIC_AUTH"]
    assert auth.startswith("${FLOWER_BASIC_AUTH:?"), "no default credentials: compose must refuse"
    assert flower["environment"]["CELERY_BROKER_URL"] == "redis://redis:6379/0"


def test_dockerfile_is_multi_stage_slim_and_not_root() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", dockerfile, flags=re.M)
    assert len(stages) >= 2
    assert stages[-1][0].endswith("-slim")
    assert re.search(r"^COPY --from=build ", dockerfile, flags=re.M)
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "build-essential" not in dockerfile.split("AS runtime")[1]


def gunicorn_settings() -> dict[str, Any]:
    settings: dict[str, Any] = {}
    exec((ROOT / "deploy" / "gunicorn.conf.py").read_text(), settings)
    return settings


def test_gunicorn_conf_outlasts_the_longest_long_poll(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("LOG_FORMAT", "text")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = gunicorn_settings()
    assert settings["bind"] == "0.0.0.0:8123"
    assert settings["workers"] == 3
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 4
    assert settings["timeout"] > 60
    assert settings["accesslog"] == "-"


def test_gunicorn_logs_json_lines_without_a_second_access_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = gunicorn_settings()
    assert settings["accesslog"] is None  # the app's intake.access line has the fields
    config = settings["logconfig_dict"]
    assert config["root"]["level"] == "WARNING" and settings["loglevel"] == "warning"
    assert config["formatters"]["kiln"]["fmt"] == "json"
    assert config["loggers"]["gunicorn.error"] == {"handlers": [], "propagate": True}


def test_gunicorn_sums_metrics_of_its_processes_in_a_fresh_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # set, then unset: monkeypatch then restores what was there before (unset), not the dir made
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    settings = gunicorn_settings()
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        assert made.is_dir() and made != tmp_path
    finally:
        made.rmdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    settings = gunicorn_settings()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_123.db").write_bytes(b"old run")
    (tmp_path / "metrics" / "keep.txt").write_text("not ours")
    settings["on_starting"](None)
    assert [p.name for p in (tmp_path / "metrics").iterdir()] == ["keep.txt"]
    # A dead process's live gauges go; its counters stay in the sum.
    (tmp_path / "metrics" / "gauge_livesum_999.db").write_bytes(b"")
    (tmp_path / "metrics" / "counter_999.db").write_bytes(b"")
    settings["child_exit"](None, SimpleNamespace(pid=999))
    left = sorted(p.name for p in (tmp_path / "metrics").iterdir())
    assert left == ["counter_999.db", "keep.txt"]
