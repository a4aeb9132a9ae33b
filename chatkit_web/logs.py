"""Request logs: one line per request, as text or JSON; never bodies or secrets."""

from __future__ import annotations

import json
import logging
import sys
import time

logger = logging.getLogger("chatkit.server")


def log_request(
    request_type: str | None,
    thread_id: str | None,
    status: int,
    started: float,
    outcome: str | None = None,
) -> None:
    """Log one finished request: its type, thread, status and duration."""
    # Never the body: message text and secrets stay out of logs.
    fields: dict[str, object] = {
        "request": request_type or "-",
        "thread": thread_id or "-",
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if outcome:
        fields["stream"] = outcome
    logger.info("request", extra={"fields": fields})


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...`."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        text = super().format(record)
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return text


class JSONFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str, fmt: str) -> None:
    """Log to stderr as text lines or (for production) one JSON object per line."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
