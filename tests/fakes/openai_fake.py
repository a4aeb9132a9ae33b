"""A fake OpenAI-compatible model server on loopback, for tests of the real provider path.

`OpenAIFake` is an ASGI app speaking both APIs the Agents SDK models use: the Responses API
(`POST …/responses`: `response.created` … `response.completed`) and Chat Completions
(`POST …/chat/completions`: `chat.completion.chunk`s), streamed or not. Each streamed request
plays the next step of `script`: a model-script turn, a `Failure` (an HTTP error answer) or
`STALL` (the request is never answered). Non-streamed requests (thread titles) play the
separate `completions` queue, so that their order against a concurrent streamed call does
not matter. A body the API's published request types reject is answered 400 as the real
APIs do, and every request is recorded with whether its client hung up before the end.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import uvicorn
from openai.types.chat import ChatCompletionMessageParam
from openai.types.responses import ResponseCompletedEvent
from openai.types.responses.response_input_param import ResponseInputParam
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.types import Receive, Scope, Send

from agents_layer.model_script import ModelScript, Turn, load_script
from agents_layer.scripted_model import (
    iter_turn_events,
    scripted_turn_chat_chunks,
    scripted_turn_response_frames,
)

DATA = Path(__file__).resolve().parent / "data"

_RESPONSES_INPUT = TypeAdapter(ResponseInputParam)
_CHAT_MESSAGES = TypeAdapter(list[ChatCompletionMessageParam])


class Failure(BaseModel):
    """An error answer of the provider: status, JSON body and headers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: int
    body: Any
    headers: dict[str, str] = {}


class _Stall:
    """The step that accepts a request and never answers it."""

    def __repr__(self) -> str:
        return "STALL"


STALL: Final = _Stall()

Step = Turn | Failure | _Stall


def load_fake_script(name: str) -> ModelScript:
    """A model script from tests/fakes/data."""
    return load_script(DATA / f"{name}.json")


def load_failure(name: str) -> Failure:
    """One of the provider error answers in tests/fakes/data/failures.json."""
    failures = json.loads((DATA / "failures.json").read_text(encoding="utf-8"))
    return Failure.model_validate(failures[name])


@dataclass
class RecordedRequest:
    """One request the fake received."""

    api: Literal["responses", "chat_completions"]
    path: str
    authorization: str | None
    body: dict[str, Any]
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
    """Set once the answer ended, fully sent or not."""
    disconnected: bool = False
    """The client closed the connection before the answer ended."""

    @property
    def history(self) -> list[Any]:
        """What the request sent as the conversation: `input` or `messages`."""
        key = "input" if self.api == "responses" else "messages"
        value = self.body[key]
        return [{"role": "user", "content": value}] if isinstance(value, str) else value


class OpenAIFake:
    """The fake provider; `play` gives it the steps of a test, `requests` records them."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._steps: deque[Step] = deque()
        self._completions: deque[Step] = deque()
        # Turns played so far, streamed and not: the turn index in the model's ids.
        self._played = {True: 0, False: 0}

    def play(
        self, script: ModelScript | Sequence[Step], *, completions: Sequence[Step] = ()
    ) -> None:
        """Forget earlier requests; answer streamed ones with `script`, others with `completions`."""
        steps = script.turns if isinstance(script, ModelScript) else script
        self.requests = []
        self._steps = deque(steps)
        self._completions = deque(completions)
        self._played = {True: 0, False: 0}

    def unplayed(self) -> int:
        """How many steps are left, streamed and not."""
        return len(self._steps) + len(self._completions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        api: Literal["responses", "chat_completions"]
        if scope["method"] == "POST" and path.endswith("/responses"):
            api = "responses"
        elif scope["method"] == "POST" and path.endswith("/chat/completions"):
            api = "chat_completions"
        else:
            await _send_json(send, 404, {"error": {"message": f"no route {path}"}})
            return
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        body = json.loads(await _read_body(receive))
        record = RecordedRequest(api, path, headers.get("authorization"), body)
        self.requests.append(record)
        try:
            await self._answer(record, receive, send)
        finally:
            record.finished.set()

    async def _answer(self, record: RecordedRequest, receive: Receive, send: Send) -> None:
        problem = _invalid(record)
        if problem is not None:
            error = {"message": problem, "type": "invalid_request_error", "code": None}
            await _send_json(send, 400, {"error": error})
            return
        streamed = bool(record.body.get("stream"))
        queue = self._steps if streamed else self._completions
        if not queue:
            # 400, not 5xx: a client must not retry a test's missing step.
            await _send_json(send, 400, {"error": {"message": "the fake has no step left"}})
            return
        step = queue.popleft()
        if isinstance(step, Failure):
            await _send_json(send, step.status, step.body, step.headers)
        elif isinstance(step, _Stall):
            await _until_disconnect(receive)
            record.disconnected = True
        else:
            index = self._played[streamed]
            self._played[streamed] += 1
            model = str(record.body.get("model", ""))
            if streamed:
                frames = _stream_frames(record.api, step, index, model)
                record.disconnected = not await _stream(frames, step.delay, receive, send)
            else:
                await _send_json(send, 200, _completed(record.api, step, index, model))


def check_responses_input(value: object) -> None:
    """Raise ValidationError unless the Responses API's request types accept this `input`."""
    if not isinstance(value, str):
        _exhaust(_RESPONSES_INPUT.validate_python(value))


def check_chat_messages(value: object) -> None:
    """Raise ValidationError unless the Chat Completions request types accept `messages`."""
    _exhaust(_CHAT_MESSAGES.validate_python(value))


def _invalid(record: RecordedRequest) -> str | None:
    """Why the API would reject the request's conversation, or None."""
    try:
        if record.api == "responses":
            check_responses_input(record.body["input"])
        else:
            check_chat_messages(record.body["messages"])
    except (KeyError, ValidationError) as exc:
        return f"invalid request: {exc}"
    return None


def _exhaust(value: Any) -> None:
    """Walk a validated value, so that lazily validated iterables are validated too."""
    if isinstance(value, dict):
        for child in value.values():
            _exhaust(child)
    elif isinstance(value, list | tuple) or hasattr(value, "__next__"):
        # A ValidatorIterator validates each element only as it is taken.
        for child in value:
            _exhaust(child)


def _stream_frames(
    api: Literal["responses", "chat_completions"], turn: Turn, index: int, model: str
) -> list[bytes]:
    if api == "responses":
        return scripted_turn_response_frames(turn, index, model=model)
    chunks = scripted_turn_chat_chunks(turn, index, model=model)
    return [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks] + [b"data: [DONE]\n\n"]


def _completed(
    api: Literal["responses", "chat_completions"], turn: Turn, index: int, model: str
) -> dict[str, Any]:
    """The whole answer of a non-streamed request."""
    if api == "responses":
        *_, last = iter_turn_events(turn, index, model=model)
        assert isinstance(last, ResponseCompletedEvent)
        answer: dict[str, Any] = json.loads(last.response.to_json(warnings=False))
        return answer
    return _chat_completion(scripted_turn_chat_chunks(turn, index, model=model))


def _chat_completion(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The `chat.completion` the streamed chunks add up to."""
    text: list[str] = []
    tool_calls: dict[int, dict[str, Any]] = {}
    finish_reason = "stop"
    for chunk in chunks:
        for choice in chunk["choices"]:
            delta = choice["delta"]
            text.append(delta.get("content") or "")
            for call in delta.get("tool_calls", []):
                merged = tool_calls.setdefault(
                    call["index"],
                    {"id": call.get("id"), "type": "function", "function": {"arguments": ""}},
                )
                function = call.get("function", {})
                merged["function"].setdefault("name", function.get("name"))
                merged["function"]["arguments"] += function.get("arguments", "")
            finish_reason = choice["finish_reason"] or finish_reason
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
    if tool_calls:
        message["tool_calls"] = [tool_calls[index] for index in sorted(tool_calls)]
    return {
        "id": chunks[0]["id"],
        "object": "chat.completion",
        "created": 0,
        "model": chunks[0]["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": chunks[-1]["usage"],
    }


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        continue


async def _send_json(
    send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json")]
    raw_headers += [(key.encode(), value.encode()) for key, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


async def _stream(frames: list[bytes], delay: float, receive: Receive, send: Send) -> bool:
    """Send SSE frames, pausing `delay` before each; False if the client hung up first."""
    headers = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    gone = asyncio.ensure_future(_until_disconnect(receive))
    try:
        for frame in frames:
            await asyncio.wait({gone}, timeout=delay)
            if gone.done():
                return False
            try:
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            except OSError:
                return False
        await send({"type": "http.response.body", "body": b""})
        return True
    finally:
        gone.cancel()


@contextmanager
def serving(app: OpenAIFake) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="openai-fake", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake provider did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
