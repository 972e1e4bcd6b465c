"""Each service reads its settings from the environment once, into one frozen object."""

from __future__ import annotations

import dataclasses

import pytest

from kiln.training import DEFAULT_LIMIT
from kiln_services.intake import create_app
from kiln_services.intake.settings import IntakeSettings
from kiln_services.worker import settings as worker_settings
from kiln_services.worker.factory import make_celery
from kiln_services.worker.settings import WorkerSettings


def test_intake_settings_defaults_and_environment() -> None:
    assert IntakeSettings.from_env({}) == IntakeSettings()
    read = IntakeSettings.from_env(
        {
            "REDIS_URL": "redis://r:1/2",
            "KILN_ADMIN_TOKEN": "",
            "KILN_MAX_BODY_BYTES": "1024",
            "GUNICORN_THREADS": "16",
            "KILN_COOKIE_SECURE": "Yes",
            "KILN_SESSION_HOURS": "1.5",
        }
    )
    assert read.redis_url == "redis://r:1/2" and read.admin_token is None
    assert read.max_body_bytes == 1024 and read.session_hours == 1.5
    assert read.long_poll_slots == 8, "half of gunicorn's threads"
    assert read.cookie_secure is True
    assert IntakeSettings.from_env({"KILN_LONG_POLL_SLOTS": "3"}).long_poll_slots == 3
    assert IntakeSettings.from_env({"GUNICORN_THREADS": "1"}).long_poll_slots == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.redis_url = "x"  # type: ignore[misc]


def test_create_app_reads_the_environment_and_a_test_config_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KILN_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("KILN_LONG_POLL_SLOTS", "2")
    monkeypatch.setenv("KILN_SESSION_HOURS", "2")
    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0", "KILN_LONG_POLL_SLOTS": 5})
    assert app.config["MAX_CONTENT_LENGTH"] == 2048
    assert app.config["KILN_LONG_POLL_SLOTS"] == 5
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 7200


def test_worker_settings_defaults_environment_and_the_celery_app() -> None:
    assert WorkerSettings.from_env({}) == WorkerSettings()
    assert WorkerSettings().max_training_points == DEFAULT_LIMIT
    read = WorkerSettings.from_env(
        {
            "KILN_VISIBILITY_TIMEOUT_S": "120",
            "KILN_MAX_TRAINING_POINTS": "12",
            "KILN_HEARTBEAT_S": "1",
            "KILN_WORKER_DEAD_AFTER_S": "4",
        }
    )
    assert (read.visibility_timeout_s, read.max_training_points) == (120, 12)
    assert (read.heartbeat_s, read.dead_after_s) == (1.0, 4.0)
    app = make_celery("redis://127.0.0.1:1/0", settings=read)
    assert worker_settings.of(app) == dataclasses.replace(read, redis_url="redis://127.0.0.1:1/0")
    assert app.conf.broker_transport_options["visibility_timeout"] == 120
    app.close()
