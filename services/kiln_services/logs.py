"""Log lines for the intake and the workers: one JSON object per line (or plain text), with context.

``LOG_FORMAT`` chooses ``json`` (the default) or ``text``; ``LOG_LEVEL`` the level (``INFO``).
Fields bound with `bind` (a request id, a task id, a campaign id…) are added to every line logged
in the same context (thread or task) until `unbind`. The process runner configures logging (the
gunicorn config, the Celery worker's setup signal); importing a Kiln module never does.

    {"time": "2025-05-02T09:14:03.120+00:00", "level": "INFO", "logger": "intake.access",
     "message": "POST /api/v1/campaigns/c-1/results 201", "request_id": "5f0c…", ...}
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar, Token
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

FORMATS = ("json", "text")
#: The fields every line has (None when unknown), besides time, level, logger and message.
CONTEXT_FIELDS = ("request_id",)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_context: ContextVar[Mapping[str, Any] | None] = ContextVar("kiln_log_context", default=None)


def bind(**fields: Any) -> Token[Mapping[str, Any] | None]:
    """Add fields to every line logged in the current context; `unbind` the token to drop them."""
    return _context.set({**bound(), **{k: v for k, v in fields.items() if v is not None}})


def unbind(token: Token[Mapping[str, Any] | None]) -> None:
    """Restore the context as it was before `bind` returned `token`."""
    try:
        _context.reset(token)
    except ValueError:  # made in another context (a thread handed over): start afresh
        _context.set(None)


def bound() -> Mapping[str, Any]:
    """The fields bound in the current context."""
    return _context.get() or {}


class ContextFilter(logging.Filter):
    """Copy the bound fields onto each record (a handler filter: it sees every logger's lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, None)
        for name, value in bound().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def log_format(env: Mapping[str, str] = os.environ) -> str:
    """LOG_FORMAT, checked: ``json`` unless it says ``text``."""
    value = env.get("LOG_FORMAT", "json").strip().lower() or "json"
    if value not in FORMATS:
        raise ValueError(f"LOG_FORMAT={value!r}: use one of {', '.join(FORMATS)}")
    return value


def log_level(env: Mapping[str, str] = os.environ, default: str = "INFO") -> str:
    """LOG_LEVEL as a level name logging knows (INFO when unset)."""
    value = (env.get("LOG_LEVEL") or default).strip().upper()
    if not isinstance(logging.getLevelName(value), int):
        raise ValueError(f"LOG_LEVEL={value!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return value


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, then the extras."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        defaults={"time": None},  # the key first; `timestamp` fills it in
    )


class TextFormatter(logging.Formatter):
    """A line for humans, with the request id in brackets ("-" when there is none)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = {**record.__dict__, "request_id": getattr(record, "request_id", None) or "-"}
        return self._style._fmt % fields if self._style._fmt else record.getMessage()


def text_formatter() -> logging.Formatter:
    """A line for humans, with the request id in brackets."""
    return TextFormatter()


def formatter(fmt: str) -> logging.Formatter:
    """The formatter for a LOG_FORMAT value."""
    return json_formatter() if fmt == "json" else text_formatter()


def dict_config(fmt: str | None = None, level: str | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` mapping: the root logger to stderr, in `fmt`, at `level`.

    Other loggers propagate to the root, so their lines come out in the same format; gunicorn's
    error logger is listed so its own text handler is replaced.
    """
    fmt = fmt or log_format()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"kiln": {"()": formatter, "fmt": fmt}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "kiln",
                "filters": ["context"],
            }
        },
        "root": {"level": level or log_level(), "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"handlers": [], "propagate": True}},
    }


def configure(
    fmt: str | None = None, level: str | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """Send the root logger's lines to `stream` (stderr) in `fmt`; replaces what this set before."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_kiln", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._kiln = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(fmt or log_format()))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level or log_level())
    return handler
