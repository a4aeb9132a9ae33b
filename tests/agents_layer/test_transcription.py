"""Dictation: OpenAI transcription against a loopback server, and the 400 without OpenAI."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openai import AsyncOpenAI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agents_layer.apps.tasks import create_app
from agents_layer.settings import AppSettings
from agents_layer.transcription import DEFAULT_TRANSCRIBE_MODEL, OpenAITranscriber
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import InvalidRequest, ProtocolError
from chatkit_proto.server import NonStreamingResult
from chatkit_proto.store.memory import MemoryStore

API_KEY = "sk-test-0123456789abcdef"
AUDIO = b"\x1aE\xdf\xa3 not really webm"
CTX = RequestContext(user_id="alice")

# What the fake endpoint answers for a given `model` field.
FAILURES: dict[str, tuple[int, dict[str, Any]]] = {
    "bad-audio": (
        400,
        {"error": {"message": f"Audio file is invalid (key {API_KEY})", "code": "bad_audio"}},
    ),
    "bad-key": (
        401,
        {"error": {"message": "Incorrect API key provided: sk-tes****cdef", "code": "invalid"}},
    ),
    "busy": (429, {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}),
    "broken": (500, {"error": {"message": "boom", "code": None}}),
}


@dataclass
class FakeOpenAI:
    """A loopback `/v1/audio/transcriptions` that records what it was sent."""

    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


async def _transcriptions(request: Request) -> JSONResponse:
    form = await request.form()
    upload = form["file"]
    assert not isinstance(upload, str)
    received = {
        "authorization": request.headers.get("authorization"),
        "content_type": request.headers.get("content-type", ""),
        "model": form.get("model"),
        "filename": upload.filename,
        "file_type": upload.content_type,
        "audio": await upload.read(),
    }
    request.app.state.requests.append(received)
    status, body = FAILURES.get(str(received["model"]), (200, {"text": "hello world"}))
    headers = {"retry-after": "7"} if status == 429 else None
    return JSONResponse(body, status_code=status, headers=headers)


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    app = Starlette(routes=[Route("/v1/audio/transcriptions", _transcriptions, methods=["POST"])])
    app.state.requests = []
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake OpenAI server did not start"
        time.sleep(0.01)
    try:
        yield FakeOpenAI(f"http://127.0.0.1:{port}/v1", app.state.requests)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def fake(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.requests.clear()
    return fake_openai


def client(fake: FakeOpenAI) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=fake.base_url, api_key=API_KEY, max_retries=0)


async def test_transcribes_through_the_audio_endpoint(fake: FakeOpenAI) -> None:
    transcriber = OpenAITranscriber(client(fake))
    assert await transcriber.transcribe(AUDIO, "audio/webm;codecs=opus") == "hello world"
    (sent,) = fake.requests
    assert sent["content_type"].startswith("multipart/form-data")
    assert sent["authorization"] == f"Bearer {API_KEY}"
    assert sent["model"] == DEFAULT_TRANSCRIBE_MODEL
    assert (sent["filename"], sent["file_type"], sent["audio"]) == (
        "audio.webm",
        "audio/webm",
        AUDIO,
    )


@pytest.mark.parametrize(
    ("mime_type", "filename"),
    [
        ("audio/mp4", "audio.mp4"),
        ("audio/ogg", "audio.ogg"),
        ("audio/wav", "audio.wav"),
        ("audio/mpeg", "audio.mpeg"),
    ],
)
async def test_file_extension_follows_the_media_type(
    fake: FakeOpenAI, mime_type: str, filename: str
) -> None:
    await OpenAITranscriber(client(fake)).transcribe(AUDIO, mime_type)
    assert fake.requests[0]["filename"] == filename


async def test_tasks_app_transcribes_with_the_openai_provider(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    env = {
        "LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_TRANSCRIBE_MODEL": "whisper-1",
    }
    app = create_app(AppSettings(store=MemoryStore(), data_dir=tmp_path, env=env))
    assert app.transcriber is not None
    app.transcriber.client = app.transcriber.client.with_options(max_retries=0)
    server = app
    request = {
        "type": "input.transcribe",
        "params": {"audio_base64": base64.b64encode(AUDIO).decode(), "mime_type": "audio/ogg"},
    }
    result = await server.process(json.dumps(request), CTX)
    assert isinstance(result, NonStreamingResult) and result.status == 200
    assert json.loads(result.body) == {"text": "hello world"}
    assert fake.requests[0]["model"] == "whisper-1"


async def test_without_openai_the_tasks_app_answers_400(tmp_path: Path) -> None:
    app = create_app(AppSettings(store=MemoryStore(), data_dir=tmp_path, env={}))
    assert app.transcriber is None
    server = app
    request = {
        "type": "input.transcribe",
        "params": {"audio_base64": base64.b64encode(AUDIO).decode(), "mime_type": "audio/webm"},
    }
    result = await server.process(json.dumps(request), CTX)
    assert isinstance(result, NonStreamingResult) and result.status == 400
    body = json.loads(result.body)
    assert body["code"] == "invalid_request"
    assert "Dictation is not available" in body["message"]


async def test_unsupported_or_empty_audio_is_refused_before_calling_openai(
    fake: FakeOpenAI,
) -> None:
    transcriber = OpenAITranscriber(client(fake))
    with pytest.raises(InvalidRequest, match="Cannot transcribe text/plain"):
        await transcriber.transcribe(AUDIO, "text/plain")
    with pytest.raises(InvalidRequest, match="empty"):
        await transcriber.transcribe(b"", "audio/webm")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("model", "code", "message"),
    [
        (
            "bad-audio",
            "invalid_request",
            "The audio could not be transcribed: Audio file is invalid",
        ),
        ("bad-key", "internal", "rejected this server"),
        ("busy", "rate_limited", "Too many transcriptions"),
        ("broken", "internal", "failed (status 500)"),
    ],
)
async def test_openai_errors_become_protocol_errors_without_the_key(
    fake: FakeOpenAI, model: str, code: str, message: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        await OpenAITranscriber(client(fake), model).transcribe(AUDIO, "audio/webm")
    error = caught.value
    assert error.code == code
    assert message in error.message
    assert API_KEY not in error.message and "sk-tes" not in error.message
    if model == "busy":
        assert error.retry_after == 7


async def test_unreachable_service_is_a_clear_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(ProtocolError, match="could not be reached"):
        await OpenAITranscriber(dead).transcribe(AUDIO, "audio/webm")
