"""Logging of the long-running processes: plain text for a terminal, or one JSON object
per line for a log collector (`ORDERGRID_LOG_FORMAT=json`), each record carrying the id
of the request it was written for."""

from __future__ import annotations

import json
import logging
import logging.config
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ordergrid.settings import Settings

#: The id of the HTTP request being answered in this context (set by the API's edge
#: middleware; thread-pool routes run in a copy of the request's context).
request_id: ContextVar[str | None] = ContextVar("ordergrid_request_id", default=None)

#: Attributes every LogRecord has, and what uvicorn adds for its coloured console;
#: anything else on a record came as `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
    "request_tag",
}


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written for (None outside
    a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger> [<request id>]: <message>`, the id only inside a request."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `ts` (UTC, ISO 8601), `level`, `logger`, `message`,
    `pid`, the fields given as `extra=`, `request_id` inside a request, and `error` with
    the traceback when an exception is logged."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if entry.get("request_id") is None:
            entry.pop("request_id", None)  # written outside any request
        if record.exc_info:
            entry["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` document for the process: ordergrid's and uvicorn's
    loggers to standard error, in the chosen format, at the chosen level. uvicorn's own
    access log stays off: the API writes its own (`ordergrid.access`), with the route,
    the duration and the request id."""
    formatter = {"()": JsonFormatter if settings.log_format == "json" else TextFormatter}
    level = settings.log_level.upper()
    logger = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"ordergrid": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "ordergrid",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "ordergrid": logger,
            "uvicorn": logger,
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def configure_logging(settings: Settings) -> None:
    """Apply `logging_config` to this process (`serve` hands it to uvicorn instead, which
    applies it in every API process it starts)."""
    logging.config.dictConfig(logging_config(settings))
