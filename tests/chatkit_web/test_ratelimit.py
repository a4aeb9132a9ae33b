"""Per-user limits: requests per window (memory or Redis), and concurrent streams."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from chatkit_proto.errors import ConfigError, ProtocolError
from chatkit_proto.server import StreamingResult
from chatkit_web import Config, create_app
from chatkit_web.config import load_config
from chatkit_web.ratelimit import StreamSlot, StreamSlots, parse_rate
from tests.chatkit_web.apps import GATE
from tests.chatkit_web.serving import ThreadedServer

SECRET = "a-shared-secret-of-at-least-32-bytes!"
LIST = json.dumps({"type": "threads.list", "params": {}})
CREATE = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hi"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
)
REDIS = ("127.0.0.1", 6379)


def auth(user: str) -> dict[str, str]:
    token = jwt.encode({"sub": user, "exp": int(time.time()) + 600}, SECRET, "HS256")
    return {"authorization": f"Bearer {token}"}


def app_for(tmp_path: Path, **settings: object) -> TestClient:
    base = {
        "app": "tests.chatkit_web.apps:claims_app",
        "store": "memory",
        "data_dir": str(tmp_path),
        "auth": "jwt",
        "jwt_secret": SECRET,
    }
    return TestClient(create_app(Config.model_validate(base | settings), env={}))


def redis_is_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(REDIS) == 0


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "amount", "seconds"),
    [("60/min", 60, 60), ("5/s", 5, 1), ("1000/hour", 1000, 3600), ("10000/day", 10000, 86400)],
)
def test_rates_parse_to_an_amount_per_window(spec: str, amount: int, seconds: int) -> None:
    item = parse_rate(spec)
    assert item is not None
    assert (item.amount, item.get_expiry()) == (amount, seconds)


@pytest.mark.parametrize("spec", ["", "0"])
def test_no_rate_means_no_limit(spec: str) -> None:
    assert parse_rate(spec) is None


@pytest.mark.parametrize("spec", ["ten/min", "10/fortnight", "1.5/s", "-1/s", "0/min", "10"])
def test_a_bad_rate_names_the_allowed_units(spec: str) -> None:
    with pytest.raises(ConfigError, match="a whole number per s, min, hour or day"):
        load_config([], {"RATE_LIMIT": spec})


def test_the_storage_must_be_memory_or_redis_and_is_never_echoed() -> None:
    assert load_config([], {"RATE_LIMIT_STORAGE": "redis://10.0.0.1:6379"}).rate_limit_storage
    with pytest.raises(ConfigError) as caught:
        load_config(["--rate-limit-storage", "mysql://user:hunter2@db"], {})
    assert caught.value.message.startswith("--rate-limit-storage / RATE_LIMIT_STORAGE: the rate")
    assert "hunter2" not in caught.value.message


# -- requests per window -----------------------------------------------------------------------


@pytest.mark.parametrize("window", ["moving", "fixed"])
def test_over_the_rate_is_429_with_retry_after(tmp_path: Path, window: str) -> None:
    client = app_for(tmp_path, rate_limit="3/min", rate_limit_window=window)
    statuses = [client.post("/chatkit", content=LIST, headers=auth("carol")) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert client.post("/chatkit", content=LIST, headers=auth("dave")).status_code == 200


def test_refused_credentials_do_not_count_against_a_user(tmp_path: Path) -> None:
    client = app_for(tmp_path, rate_limit="1/min")
    for _ in range(3):
        assert client.post("/chatkit", content=LIST).status_code == 401
    assert client.post("/chatkit", content=LIST, headers=auth("erin")).status_code == 200


@pytest.mark.skipif(not redis_is_up(), reason="needs Redis on 127.0.0.1:6379")
def test_redis_storage_shares_counts_between_processes(tmp_path: Path) -> None:
    settings = {"rate_limit": "3/min", "rate_limit_storage": "redis://127.0.0.1:6379/0"}
    user = f"user-{uuid.uuid4().hex}"
    # Each client keeps one event loop, as a server process does, for its Redis connections.
    with app_for(tmp_path, **settings) as first, app_for(tmp_path, **settings) as second:
        statuses = [
            client.post("/chatkit", content=LIST, headers=auth(user)).status_code
            for client in (first, second, first, second)
        ]
    assert statuses == [200, 200, 200, 429]


def test_an_unreachable_storage_lets_requests_through_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = app_for(
        tmp_path, rate_limit="1/min", rate_limit_storage=f"redis://:hunter2@127.0.0.1:{port}"
    )
    with caplog.at_level(logging.WARNING, "chatkit.ratelimit"), client:
        statuses = [client.post("/chatkit", content=LIST, headers=auth("f")) for _ in range(2)]
    assert [r.status_code for r in statuses] == [200, 200]
    assert "rate-limit storage unavailable" in caplog.text and "hunter2" not in caplog.text


# -- concurrent streams per user ----------------------------------------------------------------


@pytest.fixture
def gated_server(tmp_path: Path) -> Iterator[str]:
    config = Config(
        app="tests.chatkit_web.apps:gated_app",
        store="memory",
        data_dir=str(tmp_path),
        auth="jwt",
        jwt_secret=SecretStr(SECRET),
        max_streams_per_user=1,
    )
    GATE.clear()
    with ThreadedServer(create_app(config, env={})) as server:
        try:
            yield server.url + "/chatkit"
        finally:
            GATE.set()


def first_event(lines: Iterator[str]) -> dict[str, object]:
    for line in lines:
        if line.startswith("data: "):
            event: dict[str, object] = json.loads(line.removeprefix("data: "))
            return event
    raise AssertionError("the stream ended without an event")


def test_streams_per_user_are_limited_while_open(gated_server: str) -> None:
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", gated_server, content=CREATE, headers=auth("gail")) as open_one:
            lines = open_one.iter_lines()
            assert first_event(lines)["type"] == "thread.created"
            refused = http.post(gated_server, content=CREATE, headers=auth("gail"))
            assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
            assert refused.headers["retry-after"] == "1"
            # Other requests of the same user, and streams of other users, go on.
            listed = http.post(gated_server, content=LIST, headers=auth("gail"))
            assert len(listed.json()["data"]) == 1
            with http.stream("POST", gated_server, content=CREATE, headers=auth("hugo")) as other:
                assert other.status_code == 200
                assert first_event(other.iter_lines())["type"] == "thread.created"
            GATE.set()
            rest = "\n".join(lines)
            assert rest.count('"assistant_message"') == 1
        again = http.post(gated_server, content=CREATE, headers=auth("gail"))
        assert again.status_code == 200


async def test_a_slot_is_released_when_its_stream_is_abandoned() -> None:
    closed: list[bool] = []

    async def frames() -> AsyncIterator[bytes]:
        try:
            for n in range(10):
                yield b"frame %d" % n
        finally:
            closed.append(True)

    slots = StreamSlots(per_user=1)
    slots.claim("ida")
    held = StreamSlot(slots, "ida").holding(StreamingResult(frames(), "thr_1"))
    iterator = held.frames.__aiter__()
    assert await iterator.__anext__() == b"frame 0"
    assert slots.open_streams("ida") == 1
    await iterator.aclose()  # type: ignore[attr-defined]
    assert slots.open_streams("ida") == 0 and closed == [True]


def test_slots_are_counted_per_user_and_idle_users_are_forgotten() -> None:
    slots = StreamSlots(per_user=2)
    slots.claim("jo")
    slots.claim("jo")
    with pytest.raises(ProtocolError) as caught:
        slots.claim("jo")
    assert caught.value.status == 429 and caught.value.retry_after == 1
    slots.claim("kim")
    slot = StreamSlot(slots, "jo")
    slot.release()
    slot.release()
    assert slots.open_streams("jo") == 1
    slots.release("jo")
    slots.release("kim")
    assert slots._open == {}
