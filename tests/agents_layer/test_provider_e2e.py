"""The provider path end to end: apps in-process, real openai client and SDK models, HTTP fake.

Every test builds its model with `create_model` from an environment that points the provider's
base URL at `OpenAIFake` on loopback, drives an app through `ChatKitServer.process`, and checks
both the ChatKit events and what the fake received: the history each model call sent, which
the fake also checks against the API's published request types (answering 400 otherwise).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, RunConfig, Runner
from openai import BadRequestError
from pydantic import TypeAdapter

from agents_layer.apps import tasks as tasks_app
from agents_layer.apps.conformance import ConformanceServer
from agents_layer.apps.tasks import TITLE_INSTRUCTIONS, create_app
from agents_layer.history import TAG_INSTRUCTIONS
from agents_layer.model_script import ModelScript
from agents_layer.providers import ModelChoice, create_model
from agents_layer.scripted_model import ScriptedModel
from agents_layer.settings import AppSettings
from chatkit_proto.base import utc_now
from chatkit_proto.context import RequestContext
from chatkit_proto.items import ThreadItem
from chatkit_proto.server import ChatKitServer, StreamingResult
from chatkit_proto.store.base import Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from chatkit_stores.sqlite import SQLiteStore
from tests.fakes.openai_fake import (
    DATA,
    STALL,
    OpenAIFake,
    RecordedRequest,
    load_failure,
    load_fake_script,
    serving,
)

CTX = RequestContext(user_id="alice")
OPENAI_KEY = "sk-test-OPENAI-5ecret-value"
GEMINI_KEY = "AIzaTestGEMINI5ecretValue"
SECRETS = ("5ecret", "EchoedKEY", "EchoedGeminiKey")
ITEM = TypeAdapter(ThreadItem)


@dataclass(frozen=True)
class Provider:
    """One way of reaching a model: the env that selects it, and the API it speaks."""

    name: str
    api: str
    key: str

    def env(self, base: str, **extra: str) -> dict[str, str]:
        """The environment pointing this provider at the fake; no retries unless asked."""
        common = {"MODEL_MAX_RETRIES": "0", **extra}
        if self.name == "openai":
            return {
                "LLM_PROVIDER": "openai",
                "OPENAI_API_KEY": self.key,
                "OPENAI_BASE_URL": f"{base}/v1",
                **common,
            }
        if self.name == "gemini":
            return {
                "LLM_PROVIDER": "gemini",
                "GEMINI_API_KEY": self.key,
                "GEMINI_BASE_URL": f"{base}/v1beta/openai/",
                **common,
            }
        return {
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": f"{base}/compat/v1",
            "LLM_MODEL": "local-model",
            "LLM_API": self.api,
            **common,
        }


OPENAI = Provider("openai", "responses", OPENAI_KEY)
GEMINI = Provider("gemini", "chat_completions", GEMINI_KEY)
PROVIDERS = [OPENAI, GEMINI]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OpenAIFake, str]]:
    fake = OpenAIFake()
    with serving(fake) as base:
        yield fake, base


@pytest.fixture
def fake(served: tuple[OpenAIFake, str]) -> OpenAIFake:
    served[0].play([])
    return served[0]


@pytest.fixture
def base(served: tuple[OpenAIFake, str]) -> str:
    return served[1]


@pytest.fixture(params=PROVIDERS, ids=lambda provider: provider.name)
def provider(request: pytest.FixtureRequest) -> Provider:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def choices() -> AsyncIterator[list[ModelChoice]]:
    """Model choices made by a test; their HTTP clients are closed afterwards."""
    made: list[ModelChoice] = []
    yield made
    for choice in made:
        await choice.aclose()


class Client:
    """Sends ChatKit requests to an in-process server; streams come back as event dicts."""

    def __init__(self, server: ChatKitServer) -> None:
        self.server = server

    async def call(self, type_: str, **params: Any) -> Any:
        result = await self.server.process(json.dumps({"type": type_, "params": params}), CTX)
        if isinstance(result, StreamingResult):
            return [json.loads(frame[6:]) async for frame in result.frames]
        return json.loads(result.body)

    async def say(self, text: str, thread_id: str | None = None, **extra: Any) -> Any:
        content = [{"type": "input_text", "text": text}, *extra.pop("tags", [])]
        message = {"content": content, "attachments": [], "inference_options": {}, **extra}
        if thread_id is None:
            return await self.call("threads.create", input=message)
        return await self.call("threads.add_user_message", thread_id=thread_id, input=message)


def conformance_client(choices: list[ModelChoice], env: dict[str, str]) -> Client:
    choice = create_model(env)
    choices.append(choice)
    return Client(ConformanceServer(MemoryStore(), choice.model))


def done_items(stream: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        event["item"]
        for event in stream
        if event["type"] == "thread.item.done" and event["item"]["type"] == kind
    ]


def answers(stream: list[dict[str, Any]]) -> list[str]:
    return ["".join(p["text"] for p in item["content"]) for item in done_items(stream, "assistant_message")]  # fmt: skip


def errors(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for event in stream if event["type"] == "error"]


def _text(part: dict[str, Any]) -> str:
    if part["type"] in ("input_text", "output_text", "text"):
        return str(part["text"])
    return "<image>" if part["type"] in ("input_image", "image_url") else f"<{part['type']}>"


def conversation(record: RecordedRequest) -> list[tuple[str, str]]:
    """What a request sent as the conversation, API-neutral: (who, text) per entry."""
    entries: list[tuple[str, str]] = []
    if record.api == "responses" and record.body.get("instructions"):
        entries.append(("system", record.body["instructions"]))
    for entry in record.history:
        kind = entry.get("type", "message")
        if kind == "function_call":
            entries.append(("call", f"{entry['name']} {entry['arguments']}"))
        elif kind == "function_call_output":
            entries.append(("output", entry["output"]))
        elif kind == "reasoning":
            entries.append(("reasoning", "".join(part["text"] for part in entry["summary"])))
        elif entry["role"] == "tool":
            entries.append(("output", entry["content"]))
        else:
            for call in entry.get("tool_calls") or []:
                function = call["function"]
                entries.append(("call", f"{function['name']} {function['arguments']}"))
            content = entry.get("content")
            if isinstance(content, list):
                content = " | ".join(_text(part) for part in content)
            if content is not None:
                entries.append((entry["role"], content))
    return entries


# --- Multi-turn conversations ----------------------------------------------------------------


async def test_three_turns_with_tools_widget_reasoning_citation_client_tool_and_attachments(
    provider: Provider, fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    fake.play(load_fake_script("conformance_three_turns"))
    client = conformance_client(choices, provider.env(base))
    image = await client.call("attachments.create", name="map.png", size=3, mime_type="image/png")
    doc = await client.call(
        "attachments.create", name="notes.pdf", size=3, mime_type="application/pdf"
    )
    ana = {"type": "input_tag", "id": "p_ana", "text": "Ana", "data": {}, "group": "people"}

    first = await client.say(
        "Add milk and show me the list, ", tags=[ana], attachments=[image["id"], doc["id"]]
    )
    thread_id = first[0]["thread"]["id"]
    assert errors(first) == []
    (workflow,) = done_items(first, "workflow")
    assert workflow["workflow"]["type"] == "reasoning"
    assert [task["content"] for task in workflow["workflow"]["tasks"]] == ["Adding the task first."]
    (widget,) = done_items(first, "widget")
    assert [row["children"][0]["value"] for row in widget["widget"]["children"]] == [
        "Buy milk",
        "Walk the dog",
    ]
    assert answers(first) == ["Added Buy milk. See the guide."]
    (answer,) = done_items(first, "assistant_message")
    assert answer["content"][0]["annotations"] == [
        {
            "type": "annotation",
            "source": {"type": "url", "url": "https://tasks.example/guide", "title": "Task guide"},
            "index": 28,
        }
    ]

    second = await client.say("Where am I?", thread_id)
    (call,) = done_items(second, "client_tool_call")
    assert (call["name"], call["arguments"], call["status"]) == (
        "get_location",
        {"precision": "city"},
        "pending",
    )
    assert call["id"].startswith("tc_") and call["call_id"] == "call_t3_0"
    resumed = await client.call(
        "threads.add_client_tool_output", thread_id=thread_id, result={"city": "Paris"}
    )
    assert answers(resumed) == ["You are in Paris."]

    third = await client.say("Thanks!", thread_id, quoted_text="You are in Paris.")
    assert answers(third) == ["You're welcome."]
    assert fake.unplayed() == 0

    # What the model was sent. Within the first run: the server tool call and its output.
    assert len(fake.requests) == 6
    assert {record.authorization for record in fake.requests} == {f"Bearer {provider.key}"}
    within_run = conversation(fake.requests[1])
    assert within_run[-2:] == [("call", 'add_task {"title":"Buy milk"}'), ("output", "Added task: Buy milk")]  # fmt: skip
    if provider.api == "responses":
        assert within_run[-3] == ("reasoning", "Adding the task first.")
    # The third user turn: the whole thread as history, in both APIs alike.
    history = conversation(fake.requests[5])
    widget_entry = history.pop(3)
    assert history == [
        ("system", "You are a helpful task assistant."),
        (
            "user",
            "Add milk and show me the list, @Ana"
            f" | <ATTACHMENT id={image['id']} name=map.png mime_type=image/png/>"
            f" | <ATTACHMENT id={doc['id']} name=notes.pdf mime_type=application/pdf/>",
        ),
        ("user", f"{TAG_INSTRUCTIONS} | <TAG id=p_ana group=people>Ana</TAG>"),
        ("assistant", "Added Buy milk. See the guide."),
        ("user", "Where am I?"),
        ("call", 'get_location {"precision": "city"}'),
        ("output", '{"city": "Paris"}'),
        ("assistant", "You are in Paris."),
        ("user", "Thanks!"),
        (
            "user",
            "The user is referring specifically to this earlier text:\n"
            "<QuotedText>\nYou are in Paris.\n</QuotedText>",
        ),
    ]
    who, text = widget_entry
    intro = f"A widget (id {widget['id']}) was shown to the user:\n"
    assert who == "user" and text.startswith(intro)
    assert json.loads(text.removeprefix(intro)) == widget["widget"]

    # Every item has an id of ours, though the fake repeats msg_t…/fc_t…/__fake_id__ ids.
    items = await client.call("items.list", thread_id=thread_id, limit=50, order="asc")
    ids = [item["id"] for item in items["data"]]
    assert len(set(ids)) == len(ids) == 9
    assert not [item_id for item_id in ids if "_t" in item_id or "fake" in item_id]


def seeded_items(thread_id: str) -> list[ThreadItem]:
    data = json.loads((DATA / "every_item_kind.json").read_text(encoding="utf-8"))
    return [ITEM.validate_python({**item, "thread_id": thread_id}) for item in data["items"]]


async def test_every_stored_item_kind_is_history_the_api_accepts(
    provider: Provider, fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    fake.play(load_fake_script("one_answer"))
    client = conformance_client(choices, provider.env(base))
    store = client.server.store
    thread = ThreadMetadata(id="thr_seeded", created_at=utc_now())
    await store.save_thread(thread, CTX)
    for item in seeded_items(thread.id):
        await store.add_thread_item(thread.id, item, CTX)

    stream = await client.say("And now?", thread.id)
    assert errors(stream) == []
    assert answers(stream) == ["Here you are."]
    (record,) = fake.requests
    history = conversation(record)
    assert [who for who, _ in history] == [
        "system", "user", "user", "user", "assistant", "user", "call", "output", "assistant",
        "user", "user", "user", "user", "user", "user",
    ]  # fmt: skip
    assert history[4] == ("assistant", "Lisbon is lovely in spring.\nPorto too.")
    assert history[6:8] == [("call", 'get_location {"precision": "city"}'), ("output", '{"city": "Paris"}')]  # fmt: skip
    assert history[-2] == ("user", "The assistant generated this image: | <image>")
    assert history[-1] == ("user", "And now?")


async def test_tasks_app_titles_and_tools_through_each_provider(
    provider: Provider,
    fake: OpenAIFake,
    base: str,
    tmp_path: Path,
    choices: list[ModelChoice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def recorded_create_model(env: Mapping[str, str], *, script_path: str | None) -> ModelChoice:
        choice = create_model(env, script_path=script_path)
        choices.append(choice)
        return choice

    # The app keeps no handle on its client: record the choice so that it gets closed.
    monkeypatch.setattr(tasks_app, "create_model", recorded_create_model)
    fake.play(load_fake_script("tasks_three_turns"), completions=load_fake_script("title").turns)
    store = MemoryStore()
    app = create_app(AppSettings(store=store, data_dir=tmp_path, env=provider.env(base)))
    client = Client(app)
    first = await client.say("Add buy milk")
    thread_id = first[0]["thread"]["id"]
    second = await client.say("Show my list", thread_id)
    third = await client.say("Complete the first one", thread_id)
    assert [answers(stream) for stream in (first, second, third)] == [
        ["Added Buy milk."],
        ["That is your list."],
        ["Done: Buy milk."],
    ]
    titles = [event["thread"]["title"] for event in first if event["type"] == "thread.updated"]
    assert titles == ["Groceries this week"]
    (widget,) = done_items(second, "widget")
    assert widget["widget"]["children"][0]["children"][0]["value"] == "Buy milk"
    tasks = await app.tasks.list(CTX.user_id)
    assert [(task.title, task.done) for task in tasks] == [("Buy milk", True)]

    title_calls = [record for record in fake.requests if not record.body.get("stream")]
    (title_call,) = title_calls
    assert conversation(title_call) == [("system", TITLE_INSTRUCTIONS), ("user", "Add buy milk")]
    streamed = [record for record in fake.requests if record.body.get("stream")]
    assert len(streamed) == 6
    last = conversation(streamed[-1])
    assert last[-2:] == [("call", 'complete_task {"number":1}'), ("output", "Marked “Buy milk” as done.")]  # fmt: skip
    assert ("assistant", "That is your list.") in last
    assert any(who == "user" and text.startswith("A widget (id ") for who, text in last)


async def test_an_openai_compatible_server_on_either_api(
    fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    for api in ("chat_completions", "responses"):
        fake.play(load_fake_script("one_answer"))
        local = Provider("openai-compatible", api, "")
        client = conformance_client(choices, local.env(base))
        stream = await client.say("Hello")
        assert answers(stream) == ["Here you are."]
        (record,) = fake.requests
        assert record.api == api and record.path.startswith("/compat/v1/")
        assert record.body["model"] == "local-model"
        # No key configured: the placeholder keyless servers ignore.
        assert record.authorization == "Bearer not-needed"
    keyed = conformance_client(
        choices, {**Provider("openai-compatible", "responses", "").env(base), "LLM_API_KEY": "k1"}
    )
    fake.play(load_fake_script("one_answer"))
    await keyed.say("Hello")
    assert fake.requests[0].authorization == "Bearer k1"


# --- Provider failures -----------------------------------------------------------------------

FAILURES = [
    ("openai_invalid_key", "credentials", False),
    ("proxy_echoing_the_key", "credentials", False),
    ("gemini_invalid_key", "credentials", False),
    ("permission_denied", "credentials", False),
    ("rate_limited", "rate_limit", True),
    ("quota_exhausted", "quota", False),
    ("overloaded", "overloaded", True),
    ("unknown_model", "unknown_model", False),
    ("bad_request", "rejected", False),
]
MESSAGES = {
    "credentials": "The model provider rejected this server's model credentials. "
    "The server's administrator needs to check its API key.",
    "rate_limit": "The model provider is rate-limiting this server. Try again in a moment.",
    "quota": "This server's model provider account has run out of quota.",
    "overloaded": "The model provider is overloaded or failing. Try again in a moment.",
    "unknown_model": "The model provider does not know the model this server is configured to use.",
    "rejected": "The model provider rejected the request.",
    "timeout": "The model provider did not answer in time. Try again in a moment.",
    "connection": "The server could not reach its model provider. Try again in a moment.",
}


def warnings_and_worse(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in (*SECRETS, OPENAI_KEY, GEMINI_KEY):
            assert secret not in text


@pytest.mark.parametrize(("failure", "cause", "allow_retry"), FAILURES)
async def test_a_provider_failure_is_one_clear_error_and_one_masked_log_line(
    provider: Provider,
    fake: OpenAIFake,
    base: str,
    choices: list[ModelChoice],
    caplog: pytest.LogCaptureFixture,
    failure: str,
    cause: str,
    allow_retry: bool,
) -> None:
    caplog.set_level(logging.INFO)
    fake.play([load_failure(failure)])
    client = conformance_client(choices, provider.env(base))
    stream = await client.say("Hello")
    assert stream[-1] == {
        "type": "error",
        "code": "custom",
        "message": MESSAGES[cause],
        "allow_retry": allow_retry,
    }
    assert len(errors(stream)) == 1
    (line,) = warnings_and_worse(caplog)
    assert line.levelno == logging.WARNING and line.exc_info is None
    assert f"model call failed ({cause}): HTTP {load_failure(failure).status}" in line.getMessage()
    assert_no_secret(caplog.text, json.dumps(stream))
    # The user's message stays; nothing else was stored.
    items = await client.call("items.list", thread_id=stream[0]["thread"]["id"], limit=10)
    assert [item["type"] for item in items["data"]] == ["user_message"]


async def test_masked_upstream_text_is_logged_and_the_traceback_only_at_debug(
    fake: OpenAIFake, base: str, choices: list[ModelChoice], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="agents_layer")
    fake.play([load_failure("proxy_echoing_the_key")])
    stream = await conformance_client(choices, OPENAI.env(base)).say("Hello")
    assert errors(stream)[0]["allow_retry"] is False
    (warning,) = warnings_and_worse(caplog)
    assert warning.getMessage().endswith(
        "Authorization: Bearer *** rejected; upstream said key AIza*** is invalid "
        "(https://proxy.example/v1?key=***)"
    )
    (debug,) = [r for r in caplog.records if r.name == "agents_layer.provider_errors" and r.levelno == logging.DEBUG]  # fmt: skip
    assert debug.getMessage().startswith("model call failure traceback:\n  File ")
    assert_no_secret(caplog.text)


async def test_retries_follow_model_max_retries(
    provider: Provider, fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    busy = load_failure("overloaded_retry_soon")
    fake.play([busy, busy, *load_fake_script("one_answer").turns])
    client = conformance_client(choices, provider.env(base, MODEL_MAX_RETRIES="2"))
    assert answers(await client.say("Hello")) == ["Here you are."]
    assert len(fake.requests) == 3

    fake.play([busy, *load_fake_script("one_answer").turns])
    client = conformance_client(choices, provider.env(base, MODEL_MAX_RETRIES="0"))
    assert errors(await client.say("Hello"))[0]["message"] == MESSAGES["overloaded"]
    assert len(fake.requests) == 1


@pytest.mark.parametrize("where", ["before_headers", "mid_stream"])
async def test_a_stalled_provider_ends_the_stream_with_a_timeout_error(
    provider: Provider, fake: OpenAIFake, base: str, choices: list[ModelChoice], where: str
) -> None:
    # Mid-stream: the headers come at once, then 60 s of silence before the first event.
    fake.play([STALL] if where == "before_headers" else load_fake_script("stall_mid_stream"))
    client = conformance_client(choices, provider.env(base, MODEL_TIMEOUT_SECONDS="0.5"))
    stream = await client.say("Hello")
    assert stream[-1] == {
        "type": "error",
        "code": "custom",
        "message": MESSAGES["timeout"],
        "allow_retry": True,
    }
    (record,) = fake.requests
    # The client gave up and closed the connection (a deadlock guard, not a timing check).
    assert await asyncio.to_thread(record.finished.wait, 30)
    assert record.disconnected


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_a_retryable_error(
    provider: Provider, choices: list[ModelChoice], caplog: pytest.LogCaptureFixture
) -> None:
    client = conformance_client(choices, provider.env(f"http://127.0.0.1:{closed_port()}"))
    stream = await client.say("Hello")
    assert stream[-1] == {
        "type": "error",
        "code": "custom",
        "message": MESSAGES["connection"],
        "allow_retry": True,
    }
    (line,) = warnings_and_worse(caplog)
    assert "(connection): Connection error." in line.getMessage()


async def test_a_client_disconnect_closes_the_upstream_request(
    provider: Provider, fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    fake.play(load_fake_script("slow_answer"))
    client = conformance_client(choices, provider.env(base))
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "Count"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    result = await client.server.process(json.dumps(body), CTX)
    assert isinstance(result, StreamingResult)
    frames = result.frames
    async for frame in frames:
        if b"text_delta" in frame:
            break
    await frames.aclose()  # type: ignore[attr-defined]
    (record,) = fake.requests
    assert await asyncio.to_thread(record.finished.wait, 30)
    assert record.disconnected


async def test_the_fake_rejects_history_the_api_types_reject(
    fake: OpenAIFake, base: str, choices: list[ModelChoice]
) -> None:
    # The reference SDK's earlier-answer form: output_text parts without an item id.
    reference_form: Any = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
    }
    choice = create_model(OPENAI.env(base))
    choices.append(choice)
    fake.play(load_fake_script("one_answer"))
    result = Runner.run_streamed(
        Agent(name="A"),
        [{"role": "user", "content": "Hi"}, reference_form, {"role": "user", "content": "Again"}],
        run_config=RunConfig(model=choice.model, tracing_disabled=True),
    )
    with pytest.raises(BadRequestError, match="invalid request"):
        _ = [event async for event in result.stream_events()]
    assert len(fake.requests) == 1 and fake.unplayed() == 1


# --- No answer overwrites another --------------------------------------------------------------


async def open_sqlite(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    return store


def restarted_server(store: Store, script: ModelScript) -> ChatKitServer:
    """A fresh process's server: its own store connection and a new scripted model.

    `id_tag=""`: the model's ids are msg_t0_0 … in every process, as a replaying or
    Chat Completions model's are.
    """
    return ConformanceServer(store, ScriptedModel(script, id_tag=""))


async def test_two_processes_on_one_database_keep_every_answer(tmp_path: Path) -> None:
    script = load_fake_script("one_answer")
    first, second = [await open_sqlite(tmp_path / "chat.db") for _ in range(2)]
    try:
        stream = await Client(restarted_server(first, script)).say("One")
        thread_id = stream[0]["thread"]["id"]
        await Client(restarted_server(second, script)).say("Two", thread_id)
        await Client(restarted_server(first, script)).say("Three", thread_id)
        page = await first.load_thread_items(thread_id, None, 20, "asc", CTX)
    finally:
        await first.close()
        await second.close()
    texts = [
        (item.type, "".join(part.text for part in item.content))  # type: ignore[union-attr]
        for item in page.data
    ]
    assert texts == [
        ("user_message", "One"),
        ("assistant_message", "Here you are."),
        ("user_message", "Two"),
        ("assistant_message", "Here you are."),
        ("user_message", "Three"),
        ("assistant_message", "Here you are."),
    ]
    assert len({item.id for item in page.data}) == 6
