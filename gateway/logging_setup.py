"""Application logs: one JSON object per line (or plain text for the demo), with the request id,
and never a CPR number in the clear (rule 5).

The CPR redaction runs twice: CprRedactingFilter on every record's message, and the JSON
formatter over every field, extra fields and tracebacks included. Code does not log
CPR numbers; these are the last line of defence if one ever slips into a message.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

# Ten digits, with or without the hyphen, not part of a longer number. Deliberately `\d`, wider
# than a CPR's ASCII digits: a redaction that hides too much costs nothing.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")

LogFormat = Literal["json", "text"]

# The request being served by this task (and the threads it hands work to, which copy it).
request_id_var: ContextVar[str | None] = ContextVar("helhed_request_id", default=None)


def looks_like_cpr(text: str) -> bool:
    return _CPR_LIKE.search(text) is not None


def redacted(value: Any) -> Any:
    """A log field with every CPR-like number in it replaced, however deeply nested."""
    if isinstance(value, str):
        return _CPR_LIKE.sub("[CPR]", value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return "[CPR]" if _CPR_LIKE.fullmatch(str(value)) else value
    if isinstance(value, dict):
        return {redacted(str(key)): redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redacted(item) for item in value]
    return redacted(str(value))


class CprRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _CPR_LIKE.sub("[CPR]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


# What every LogRecord has; anything else on a record came as `extra=` and becomes a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn's coloured copy of the message
}


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, then the record's extra fields; every field
    but the request id (which the middleware vetted) redacted."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"message": record.getMessage()}
        fields.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")
        )
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            **redacted(fields),
        }
        return json.dumps(line, ensure_ascii=False)


_TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def logging_config(log_format: LogFormat = "json", level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for the gateway's process, and uvicorn's `log_config` (uvicorn applies it in
    each worker process too). Our own request log (logger `helhed.http`: route template,
    status, duration, user) replaces uvicorn's access log, which has neither the request id
    nor the route template."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if log_format == "json" else {"format": _TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["request_id", "cpr"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}, "cpr": {"()": CprRedactingFilter}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # Two INFO lines for every run of every job (the checkpoint job runs each second);
            # helhed.scheduler logs the runs that fail, and /metrics counts them all.
            "apscheduler": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }


_FILTER = CprRedactingFilter()


def install_cpr_redaction() -> None:
    """Attach the filter to every handler of the root and uvicorn loggers (idempotent)."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "helhed"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
