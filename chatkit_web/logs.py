"""Logs: one line per request, as text or JSON, ISO-8601 UTC times; never bodies or secrets.

Every record logged while a request runs carries its request id and user id. A redacting
filter on the handler masks credentials in every record, third-party ones included, and the
loggers of libraries that write message text or URLs at DEBUG are held at WARNING.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

import orjson

logger = logging.getLogger("chatkit.request")

# Loggers that write SQL parameters, request bodies, SSE chunks or full URLs at DEBUG.
QUIET_LOGGERS = (
    "aiosqlite",
    "asyncpg",
    "httpx",
    "httpcore",
    "openai",
    "mcp",
    "multipart",
    "python_multipart",
    "sse_starlette",
    "uvicorn.access",
)
REDACTED = "[redacted]"
_VALUE = r"[^\s'\"&,;)}\]]+"
_SECRETS = (
    (re.compile(r"(?i)\b(authorization['\"]?\s*[:=,]\s*b?['\"]?)[^'\"\r\n]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(rf"(?i)\b(x-upload-token['\"]?\s*[:=,]\s*b?['\"]?){_VALUE}"), rf"\1{REDACTED}"),
    (re.compile(rf"(?i)\b(sig['\"]?\s*[:=]\s*['\"]?){_VALUE}"), rf"\1{REDACTED}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)

# Spaces, quotes, `=` and anything unprintable would let a value pass for another field or line.
_NEEDS_QUOTES = re.compile(r"[^!#-&(-<>-~]")
_TRIGGER = re.compile(r"(?i)authorization|bearer|x-upload-token|sig|sk-|aiza|eyj")


@dataclass(slots=True)
class RequestNote:
    """What the request log knows of a request, filled in by the routes as they learn it."""

    request_id: str
    method: str = "-"
    path: str = "-"
    user_id: str | None = None
    request_type: str | None = None
    thread_id: str | None = None


CURRENT_REQUEST: ContextVar[RequestNote | None] = ContextVar("chatkit_request", default=None)


def log_request(
    note: RequestNote, status: int, ms: float, outcome: str | None, level: int = logging.INFO
) -> None:
    """Log one finished request: route, type, thread, status, duration, stream outcome."""
    # Never the body or the query string: message text and signed URLs stay out of logs.
    fields: dict[str, object] = {
        "request_id": note.request_id,
        "user_id": note.user_id or "-",
        "method": note.method,
        "path": note.path,
        "status": status,
        "ms": round(ms, 1),
    }
    if note.request_type:
        fields["type"] = note.request_type
    if note.thread_id:
        fields["thread"] = note.thread_id
    if outcome:
        fields["stream"] = outcome
    logger.log(level, "request", extra={"fields": fields})


def redact(text: str) -> str:
    """The text with bearer tokens, signatures, upload tokens, API keys and JWTs masked."""
    # One cheap scan for what every pattern starts with spares most lines the full set.
    if not _TRIGGER.search(text):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class Redactor(logging.Filter):
    """Masks credentials in the message, fields and traceback of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RequestFields(logging.Filter):
    """Stamps each record with the id and user of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id` and `user_id` (None outside a request)."""
        note = CURRENT_REQUEST.get()
        record.request_id = note.request_id if note else None
        record.user_id = note.user_id if note else None
        return True


class _ISOTime(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`."""
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(_ISOTime):
    """`time LEVEL logger message id=... user=... key=value ...`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """One line; values with spaces or control characters are quoted."""
        pairs = _context_of(record) | getattr(record, "fields", {})
        text = super().format(record)
        if pairs:
            text += " " + " ".join(f"{k}={_text_value(v)}" for k, v in pairs.items())
        return text


class JSONFormatter(_ISOTime):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON: time, level, logger, message, request context and fields."""
        entry: dict[str, object] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
            **getattr(record, "fields", {}),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """Log to stderr (or `stream`) as text lines or (for production) one JSON object a line."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestFields())
    handler.addFilter(Redactor())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    floor = max(root.level, logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(floor)


def _context_of(record: logging.LogRecord) -> dict[str, object]:
    context: dict[str, object] = {}
    request_id = getattr(record, "request_id", None)
    if request_id:
        context["request_id"] = request_id
        context["user_id"] = getattr(record, "user_id", None) or "-"
    return context


def _text_value(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or _NEEDS_QUOTES.search(text) else text
