"""kiln_services.logs: one JSON object per line with the bound context, or text; LOG_FORMAT and LOG_LEVEL."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from support.json_logs import captured, parsed

from kiln_services import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Log to a string through the root logger; leave logging as it was afterwards."""
    with captured("DEBUG") as out:
        yield out


def test_a_json_line_has_time_level_logger_message_and_extras(stream: io.StringIO) -> None:
    logging.getLogger("kiln.test").info("stored %d results", 3, extra={"status": 201})
    (line,) = parsed(stream)
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert line["level"] == "INFO" and line["logger"] == "kiln.test"
    assert line["message"] == "stored 3 results" and line["status"] == 201
    assert line["time"].endswith("+00:00")  # ISO 8601, UTC
    assert line["request_id"] is None


def test_bound_fields_reach_every_logger_until_unbound(stream: io.StringIO) -> None:
    token = logs.bind(request_id="req-1", campaign_id="c-9", job_id=None)
    logging.getLogger("one").warning("a")
    logging.getLogger("two.deeper").error("b")
    logs.unbind(token)
    logging.getLogger("one").warning("c")
    a, b, c = parsed(stream)
    assert a["request_id"] == b["request_id"] == "req-1" and b["campaign_id"] == "c-9"
    assert "job_id" not in a  # None is not bound
    assert c["request_id"] is None and "campaign_id" not in c


def test_an_explicit_extra_wins_over_the_bound_field(stream: io.StringIO) -> None:
    token = logs.bind(request_id="outer")
    logging.getLogger("x").info("m", extra={"request_id": "inner"})
    logs.unbind(token)
    assert parsed(stream)[0]["request_id"] == "inner"


def test_a_traceback_stays_on_one_line(stream: io.StringIO) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    assert len(stream.getvalue().splitlines()) == 1
    assert "RuntimeError: boom" in parsed(stream)[0]["exc_info"]


def test_text_format_shows_the_request_id_or_a_dash() -> None:
    out = io.StringIO()
    handler = logs.configure("text", "INFO", out)
    try:
        logging.getLogger("x").info("no request")
        token = logs.bind(request_id="r-7")
        logging.getLogger("x").info("in a request")
        logs.unbind(token)
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = out.getvalue().splitlines()
    assert first.endswith("INFO x [-] no request")
    assert second.endswith("INFO x [r-7] in a request")


def test_configure_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    first = logs.configure("json", "INFO", io.StringIO())
    second = logs.configure("json", "INFO", io.StringIO())
    try:
        assert first not in root.handlers and second in root.handlers
    finally:
        root.removeHandler(second)


def test_env_is_checked() -> None:
    assert logs.log_format({}) == "json"
    assert logs.log_format({"LOG_FORMAT": "TEXT"}) == "text"
    assert logs.log_level({"LOG_LEVEL": "debug"}) == "DEBUG"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.log_format({"LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="LOG_LEVEL"):
        logs.log_level({"LOG_LEVEL": "loud"})


def test_dict_config_builds_the_same_lines() -> None:
    config = logs.dict_config("json", "INFO")
    handler = config["handlers"]["stderr"]
    assert handler["stream"] == "ext://sys.stderr" and handler["filters"] == ["context"]
    assert config["root"] == {"level": "INFO", "handlers": ["stderr"]}
    assert config["disable_existing_loggers"] is False
    factory = config["formatters"]["kiln"]
    made = factory["()"](factory["fmt"])
    record = logging.LogRecord("n", logging.INFO, __file__, 1, "hi", None, None)
    logs.ContextFilter().filter(record)
    assert json.loads(made.format(record))["message"] == "hi"
