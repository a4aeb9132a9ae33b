"""Log formats (ISO-8601 UTC times, request context) and the redaction of credentials."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from chatkit_web.logs import (
    CURRENT_REQUEST,
    QUIET_LOGGERS,
    REDACTED,
    JSONFormatter,
    RequestNote,
    TextFormatter,
    configure_logging,
    redact,
)
from tests.chatkit_web.logcapture import CapturedLog

# 2025-01-31T12:34:56.789Z
MOMENT = datetime(2025, 1, 31, 12, 34, 56, 789000, tzinfo=UTC).timestamp()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz"


def record(message: str, *args: object, **fields: object) -> logging.LogRecord:
    entry = logging.LogRecord("chatkit.test", logging.INFO, __file__, 1, message, args, None)
    entry.created = MOMENT
    if fields:
        entry.fields = fields
    return entry


def test_text_lines_start_with_an_iso_utc_time() -> None:
    line = TextFormatter().format(record("hello %s", "there", status=200, path="/a b"))
    assert line == '2025-01-31T12:34:56.789Z INFO chatkit.test hello there status=200 path="/a b"'


def test_json_lines_have_an_iso_utc_time() -> None:
    entry = json.loads(JSONFormatter().format(record("hello", status=200)))
    assert entry == {
        "time": "2025-01-31T12:34:56.789Z",
        "level": "INFO",
        "logger": "chatkit.test",
        "message": "hello",
        "status": 200,
    }
    assert datetime.fromisoformat(entry["time"]).timestamp() == MOMENT


def test_text_values_cannot_forge_lines() -> None:
    line = TextFormatter().format(record("request", path="/x\n2025-01-01 INFO fake"))
    assert "\n" not in line and 'path="/x\\n2025-01-01 INFO fake"' in line


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("{'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("[(b'authorization', b'Bearer tok123')]", "tok123"),
        ("headers={'x-upload-token': 'f3c13cce3d3bd727'}", "f3c13cce3d3bd727"),
        ("(b'x-upload-token', b'f3c13cce3d3bd727')", "f3c13cce3d3bd727"),
        ("GET /chatkit/files/atc_1?owner=a&expires=9&sig=923e04ad87b8 HTTP/1.1", "923e04ad87b8"),
        ('{"sig": "923e04ad87b8"}', "923e04ad87b8"),
        ("key sk-proj-AbCdEf123456789 used", "sk-proj-AbCdEf123456789"),
        ("key AIzaSyA1234567890abcdefghijklmnop used", "AIzaSyA1234567890abcdefghijklmnop"),
        (f"token={JWT}", JWT),
    ],
)
def test_credentials_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and REDACTED in masked


@pytest.mark.parametrize(
    "text", ["task-manager design=1 risk-free", "owner=alice&expires=9", "thr_0123abcd"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_handler_masks_every_record_and_stamps_the_request(captured_log: CapturedLog) -> None:
    reset = CURRENT_REQUEST.set(RequestNote("req-1", user_id="alice"))
    try:
        logging.getLogger("some.library").debug("calling with %s", {"authorization": "Bearer x1"})
        try:
            raise RuntimeError(f"bad token {JWT}")
        except RuntimeError:
            logging.getLogger("chatkit.test").exception("failed")
    finally:
        CURRENT_REQUEST.reset(reset)
    logging.getLogger("chatkit.test").info("outside")
    first, second, third = captured_log.entries()
    assert "x1" not in str(first["message"]) and first["request_id"] == "req-1"
    assert first["user_id"] == "alice"
    assert JWT not in str(second["error"]) and "RuntimeError" in str(second["error"])
    assert "request_id" not in third


def test_chatty_libraries_stay_quiet_at_debug(captured_log: CapturedLog) -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).debug("INSERT INTO items VALUES ('my secret message')")
        logging.getLogger(f"{name}.child").info("chunk: data: hello")
    logging.getLogger("chatkit.test").debug("ours")
    assert [(e["logger"], e["message"]) for e in captured_log.entries()] == [
        ("chatkit.test", "ours")
    ]


def test_a_quieter_root_level_is_kept(captured_log: CapturedLog) -> None:
    configure_logging("ERROR", "text", stream=io.StringIO())
    assert logging.getLogger("aiosqlite").getEffectiveLevel() == logging.ERROR
