"""Fixtures of the web-side tests: a captured log, a PostgreSQL schema of their own."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from chatkit_web.logs import QUIET_LOGGERS, configure_logging
from tests.chatkit_web.logcapture import CapturedLog
from tests.pg import pg_dsn, pg_schema

__all__ = ["captured_log", "pg_dsn", "pg_schema"]


@pytest.fixture
def captured_log() -> Iterator[CapturedLog]:
    """`configure_logging("DEBUG", "json")` into memory, undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    log = CapturedLog()
    configure_logging("DEBUG", "json", stream=log.stream)
    try:
        yield log
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
