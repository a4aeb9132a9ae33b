"""The HTTP limits as uvicorn gets them, and the connection cap under a descriptor limit."""

from __future__ import annotations

import resource

import pytest

from chatkit_web import connections
from chatkit_web.cli import server_config
from chatkit_web.config import Config, load_config
from chatkit_web.connections import GuardedProtocol, ServerConfig, connection_cap


def test_limit_flags_and_variables_reach_the_config() -> None:
    config = load_config(
        [
            "--header-timeout-seconds",
            "2.5",
            "--send-timeout-seconds",
            "0",
            "--max-connections",
            "50",
        ],
        {"KEEP_ALIVE_SECONDS": "3", "BODY_TIMEOUT_SECONDS": "7"},
    )
    assert (config.header_timeout_seconds, config.send_timeout_seconds) == (2.5, 0)
    assert (config.max_connections, config.keep_alive_seconds) == (50, 3)
    assert config.body_timeout_seconds == 7


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-connections", "0"],
        ["--header-timeout-seconds", "0"],
        ["--keep-alive-seconds", "0.5"],
    ],
)
def test_impossible_limits_are_refused(argv: list[str]) -> None:
    with pytest.raises(ValueError):
        load_config(argv, {})


def test_uvicorn_gets_our_protocol_and_timeouts() -> None:
    config = Config(header_timeout_seconds=4, send_timeout_seconds=0, keep_alive_seconds=2)
    options = server_config(config, object())
    assert isinstance(options, ServerConfig) and options.http is GuardedProtocol
    assert (options.header_timeout, options.send_timeout) == (4, None)
    assert options.timeout_keep_alive == 2 and options.ws == "none"
    assert options.limit_concurrency is None


@pytest.mark.parametrize(
    ("soft", "hard", "wanted", "cap", "raised_to"),
    [
        (256, 256, 1000, 256 - connections.RESERVED_DESCRIPTORS, None),
        (1024, 4096, 1000, 1000, 1000 + connections.RESERVED_DESCRIPTORS),
        (1024, resource.RLIM_INFINITY, 2000, 2000, 2000 + connections.RESERVED_DESCRIPTORS),
        (4096, 4096, 1000, 1000, None),
        (30, 30, 1000, 1, None),
    ],
)
def test_the_connection_cap_fits_the_descriptor_limit(
    monkeypatch: pytest.MonkeyPatch,
    soft: int,
    hard: int,
    wanted: int,
    cap: int,
    raised_to: int | None,
) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(connections.resource, "getrlimit", lambda _: (soft, hard))
    monkeypatch.setattr(connections.resource, "setrlimit", lambda _, limits: calls.append(limits))
    assert connection_cap(wanted) == cap
    assert calls == ([] if raised_to is None else [(raised_to, hard)])
