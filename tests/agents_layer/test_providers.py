"""Provider selection, secret hygiene, and both real HTTP model paths against a loopback replay."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, Runner, function_tool
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai.types.responses.response_output_text_annotation_added_event import (
    AnnotationURLCitation,
)

from agents_layer import providers
from agents_layer.model_script import parse_script
from agents_layer.providers import (
    DEFAULT_GEMINI_MODEL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_TIMEOUT_SECONDS,
    GEMINI_OPENAI_BASE_URL,
    KEYLESS_API_KEY,
    ModelChoice,
    ProviderConfigError,
    create_model,
)
from agents_layer.scripted_model import ScriptedModel, iter_turn_events
from tests.fakes.openai_fake import OpenAIFake, serving

ROOT = Path(__file__).resolve().parents[2]
DEMO_SCRIPT = ROOT / "fixtures" / "scripts" / "demo.json"
OPENAI_KEY = "sk-test-OPENAI-5ecret-value"
GEMINI_KEY = "AIza-test-GEMINI-5ecret-value"


@pytest.fixture
def tracing_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    monkeypatch.setattr(providers, "set_tracing_disabled", calls.append)
    return calls


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert OPENAI_KEY not in text
        assert GEMINI_KEY not in text
        assert "5ecret" not in text


def test_no_provider_and_no_key_is_offline(tracing_calls: list[bool]) -> None:
    choice = create_model({})
    assert choice.offline
    assert choice.model is None
    assert choice.openai_client is None
    assert choice.provider == "offline"
    assert "offline" in choice.describe()
    assert tracing_calls == [True]


def test_explicit_offline_wins_over_keys() -> None:
    choice = create_model({"LLM_PROVIDER": "offline", "OPENAI_API_KEY": OPENAI_KEY})
    assert choice.offline
    assert "LLM_PROVIDER=offline" in choice.describe()


def test_openai_key_selects_the_responses_model(tracing_calls: list[bool]) -> None:
    choice = create_model({"OPENAI_API_KEY": OPENAI_KEY})
    assert (choice.provider, choice.model_name, choice.offline) == (
        "openai",
        DEFAULT_OPENAI_MODEL,
        False,
    )
    assert isinstance(choice.model, OpenAIResponsesModel)
    assert choice.model.model == DEFAULT_OPENAI_MODEL
    assert choice.openai_client is not None
    assert choice.openai_client.api_key == OPENAI_KEY
    assert str(choice.openai_client.base_url) == "https://api.openai.com/v1/"
    assert choice.describe() == (
        f"model provider: openai, model {DEFAULT_OPENAI_MODEL}, responses API at api.openai.com"
    )
    assert choice.api == "responses"
    # Talking to OpenAI itself: tracing is left as the SDK (and its env switch) has it.
    assert tracing_calls == []


def test_openai_model_and_base_url_are_honoured(tracing_calls: list[bool]) -> None:
    choice = create_model(
        {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": OPENAI_KEY,
            "OPENAI_DEFAULT_MODEL": "gpt-test",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    assert choice.model_name == "gpt-test"
    assert choice.openai_client is not None
    assert str(choice.openai_client.base_url) == "http://127.0.0.1:9/v1/"
    assert choice.source == "http://127.0.0.1:9/v1"
    assert tracing_calls == [True]


def test_gemini_key_selects_the_chat_completions_model(tracing_calls: list[bool]) -> None:
    choice = create_model({"GEMINI_API_KEY": GEMINI_KEY})
    assert (choice.provider, choice.model_name) == ("gemini", DEFAULT_GEMINI_MODEL)
    assert isinstance(choice.model, OpenAIChatCompletionsModel)
    assert choice.model.model == DEFAULT_GEMINI_MODEL
    assert choice.openai_client is not None
    assert choice.openai_client.api_key == GEMINI_KEY
    assert str(choice.openai_client.base_url) == GEMINI_OPENAI_BASE_URL
    assert tracing_calls == [True]
    assert choice.describe() == (
        f"model provider: gemini, model {DEFAULT_GEMINI_MODEL}, "
        "chat_completions API at generativelanguage.googleapis.com"
    )


def test_gemini_model_and_base_url_are_honoured() -> None:
    choice = create_model(
        {
            "GEMINI_API_KEY": GEMINI_KEY,
            "GEMINI_DEFAULT_MODEL": "gemini-test",
            "GEMINI_BASE_URL": "http://127.0.0.1:9/v1beta/openai/",
        }
    )
    assert choice.model_name == "gemini-test"
    assert choice.openai_client is not None
    assert str(choice.openai_client.base_url) == "http://127.0.0.1:9/v1beta/openai/"


def test_openai_is_preferred_when_both_keys_are_set() -> None:
    both = {"OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY}
    assert create_model(both).provider == "openai"
    assert create_model({**both, "LLM_PROVIDER": " Gemini "}).provider == "gemini"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_PROVIDER": "openai"}, "LLM_PROVIDER=openai needs OPENAI_API_KEY"),
        (
            {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "  ", "GEMINI_API_KEY": GEMINI_KEY},
            "LLM_PROVIDER=openai needs OPENAI_API_KEY",
        ),
        (
            {"LLM_PROVIDER": "gemini", "OPENAI_API_KEY": OPENAI_KEY},
            "LLM_PROVIDER=gemini needs GEMINI_API_KEY",
        ),
        (
            {"LLM_PROVIDER": "scripted", "OPENAI_API_KEY": OPENAI_KEY},
            "LLM_PROVIDER=scripted needs MODEL_SCRIPT",
        ),
        (
            {"LLM_PROVIDER": "claude", "OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY},
            "LLM_PROVIDER='claude' is not one of: openai, gemini, openai-compatible, scripted, "
            "offline",
        ),
    ],
)
def test_configuration_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderConfigError) as info:
        create_model(env)
    assert str(info.value).startswith(message)
    _assert_no_secret(str(info.value), repr(info.value))


def test_openai_compatible_server_defaults_to_chat_completions(
    tracing_calls: list[bool],
) -> None:
    choice = create_model(
        {
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": "http://llm.internal:8000/v1",
            "LLM_MODEL": "llama-3.1-8b",
        }
    )
    assert (choice.provider, choice.model_name, choice.api) == (
        "openai-compatible",
        "llama-3.1-8b",
        "chat_completions",
    )
    assert isinstance(choice.model, OpenAIChatCompletionsModel)
    assert choice.openai_client is not None
    assert choice.openai_client.api_key == KEYLESS_API_KEY
    assert str(choice.openai_client.base_url) == "http://llm.internal:8000/v1/"
    assert choice.describe() == (
        "model provider: openai-compatible, model llama-3.1-8b, "
        "chat_completions API at llm.internal:8000"
    )
    assert tracing_calls == [True]


def test_openai_compatible_server_on_the_responses_api_with_a_key() -> None:
    choice = create_model(
        {
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": "https://proxy.example/v1",
            "LLM_MODEL": "m",
            "LLM_API": " Responses ",
            "LLM_API_KEY": OPENAI_KEY,
        }
    )
    assert isinstance(choice.model, OpenAIResponsesModel)
    assert choice.openai_client is not None and choice.openai_client.api_key == OPENAI_KEY
    _assert_no_secret(choice.describe(), repr(choice))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LLM_MODEL": "m"}, "LLM_PROVIDER=openai-compatible needs LLM_BASE_URL"),
        ({"LLM_BASE_URL": "http://h/v1"}, "LLM_PROVIDER=openai-compatible needs LLM_MODEL"),
        (
            {"LLM_BASE_URL": "http://h/v1", "LLM_MODEL": "m", "LLM_API": "completions"},
            "LLM_API='completions' is not one of: responses, chat_completions",
        ),
    ],
)
def test_openai_compatible_configuration_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=f"^{message}$"):
        create_model({"LLM_PROVIDER": "openai-compatible", **env})


def test_timeout_and_retries_default_and_come_from_the_env() -> None:
    for env in ({"OPENAI_API_KEY": OPENAI_KEY}, {"GEMINI_API_KEY": GEMINI_KEY}):
        client = create_model(env).openai_client
        assert client is not None
        assert (
            (client.timeout, client.max_retries)
            == (
                DEFAULT_TIMEOUT_SECONDS,
                DEFAULT_MAX_RETRIES,
            )
            == (60.0, 2)
        )
        tuned = create_model({**env, "MODEL_TIMEOUT_SECONDS": "2.5", "MODEL_MAX_RETRIES": "0"})
        assert tuned.openai_client is not None
        assert (tuned.openai_client.timeout, tuned.openai_client.max_retries) == (2.5, 0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MODEL_TIMEOUT_SECONDS", "0", "MODEL_TIMEOUT_SECONDS must be a positive number"),
        ("MODEL_TIMEOUT_SECONDS", "-1", "MODEL_TIMEOUT_SECONDS must be a positive number"),
        ("MODEL_TIMEOUT_SECONDS", "soon", "MODEL_TIMEOUT_SECONDS must be a positive number"),
        ("MODEL_TIMEOUT_SECONDS", "inf", "MODEL_TIMEOUT_SECONDS must be a positive number"),
        ("MODEL_MAX_RETRIES", "-1", "MODEL_MAX_RETRIES must be a whole number"),
        ("MODEL_MAX_RETRIES", "two", "MODEL_MAX_RETRIES must be a whole number"),
    ],
)
def test_bad_timeout_or_retries_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=f"^{message}.*{value!r}$"):
        create_model({"OPENAI_API_KEY": OPENAI_KEY, name: value})


def test_model_script_env_selects_the_scripted_model(tracing_calls: list[bool]) -> None:
    choice = create_model({"MODEL_SCRIPT": str(DEMO_SCRIPT)})
    assert choice.provider == "scripted"
    assert choice.model_name == "demo.json"
    assert isinstance(choice.model, ScriptedModel)
    assert len(choice.model.script.turns) == 3
    assert choice.openai_client is None
    assert choice.describe() == f"model provider: scripted, model script {DEMO_SCRIPT}"
    assert tracing_calls == [True]


def test_a_script_path_always_wins() -> None:
    env = {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": OPENAI_KEY, "MODEL_SCRIPT": "/nope.json"}
    choice = create_model(env, script_path=str(DEMO_SCRIPT))
    assert isinstance(choice.model, ScriptedModel)
    assert choice.source == str(DEMO_SCRIPT)
    assert create_model({**env, "MODEL_SCRIPT": str(DEMO_SCRIPT)}).provider == "scripted"


def test_a_bad_script_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"turns": [{"output": [{"type": "foo"}]}]}', encoding="utf-8")
    with pytest.raises(ProviderConfigError, match=r"bad\.json: turns\[0\]\.output\[0\]\.type"):
        create_model({}, script_path=str(bad))
    with pytest.raises(ProviderConfigError, match=r"missing\.json: cannot read"):
        create_model({"MODEL_SCRIPT": str(tmp_path / "missing.json")})


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLM_PROVIDER", "MODEL_SCRIPT", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    assert create_model().provider == "gemini"


def test_keys_never_appear_in_reprs_descriptions_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    choices = [
        create_model(
            {
                "OPENAI_API_KEY": OPENAI_KEY,
                "OPENAI_BASE_URL": f"https://user:{OPENAI_KEY}@proxy.example:8443/v1?key={OPENAI_KEY}",
            }
        ),
        create_model({"LLM_PROVIDER": "gemini", "GEMINI_API_KEY": GEMINI_KEY}),
    ]
    for choice in choices:
        _assert_no_secret(repr(choice), str(choice), choice.describe(), str(choice.source))
        _assert_no_secret(repr(choice.model), repr(choice.openai_client))
    assert choices[0].source == "https://proxy.example:8443/v1"
    _assert_no_secret(caplog.text)


def test_model_choice_is_frozen() -> None:
    choice = create_model({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.offline = False  # type: ignore[misc]
    assert isinstance(choice, ModelChoice)


# --- End to end: the real OpenAI client and SDK models against the loopback fake ---------

WEATHER_SCRIPT = {
    "turns": [
        {
            "output": [
                {"type": "reasoning", "summary": ["Checking", " the weather."]},
                {"type": "function_call", "name": "get_weather", "arguments": {"city": "Paris"}},
            ]
        },
        {
            "output": [
                {
                    "type": "message",
                    "text": ["It is ", "sunny in ", "Paris."],
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://weather.example/paris",
                            "title": "Paris weather",
                            "start_index": 16,
                            "end_index": 21,
                        }
                    ],
                }
            ]
        },
    ]
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OpenAIFake, str]]:
    fake = OpenAIFake()
    with serving(fake) as base:
        yield fake, base


@pytest.fixture
def replay(served: tuple[OpenAIFake, str]) -> tuple[OpenAIFake, str]:
    fake, base = served
    fake.play(parse_script(WEATHER_SCRIPT))
    return fake, base


async def _run_weather_agent(choice: ModelChoice) -> tuple[list[Any], list[str], str]:
    seen: list[str] = []

    @function_tool
    async def get_weather(city: str) -> str:
        """Report the weather in a city."""
        seen.append(city)
        return f"Sunny, 21C in {city}"

    agent = Agent(
        name="Assistant", instructions="Be brief.", model=choice.model, tools=[get_weather]
    )
    result = Runner.run_streamed(agent, "Weather in Paris?")
    try:
        raw = [e.data async for e in result.stream_events() if e.type == "raw_response_event"]
    finally:
        await choice.aclose()
    return raw, seen, str(result.final_output)


async def test_openai_responses_path_over_loopback(replay: tuple[OpenAIFake, str]) -> None:
    server, base = replay
    choice = create_model(
        {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{base}/v1"}
    )
    raw, seen, final_output = await _run_weather_agent(choice)

    assert seen == ["Paris"]
    assert final_output == "It is sunny in Paris."
    text = "".join(event.delta for event in raw if event.type == "response.output_text.delta")
    assert text == "It is sunny in Paris."
    # The real client delivers exactly the stream the in-process model yields.
    expected = [
        event.type
        for index, turn in enumerate(parse_script(WEATHER_SCRIPT).turns)
        for event in iter_turn_events(turn, index)
    ]
    assert [event.type for event in raw] == expected
    (annotation_event,) = [e for e in raw if e.type == "response.output_text.annotation.added"]
    # Over HTTP openai 3.x parses the annotation into its event-module class (not a dict).
    assert isinstance(annotation_event.annotation, AnnotationURLCitation)
    assert annotation_event.annotation.url == "https://weather.example/paris"

    assert [(r.path, r.authorization) for r in server.requests] == [
        ("/v1/responses", f"Bearer {OPENAI_KEY}"),
        ("/v1/responses", f"Bearer {OPENAI_KEY}"),
    ]
    first, second = (r.body for r in server.requests)
    assert first["stream"] is True
    assert first["model"] == DEFAULT_OPENAI_MODEL
    assert [tool["name"] for tool in first["tools"]] == ["get_weather"]
    call, output = second["input"][-2:]
    assert (call["type"], call["call_id"], call["arguments"]) == (
        "function_call",
        "call_t0_1",
        '{"city":"Paris"}',
    )
    assert output == {
        "call_id": "call_t0_1",
        "output": "Sunny, 21C in Paris",
        "type": "function_call_output",
    }


async def test_gemini_chat_completions_path_over_loopback(replay: tuple[OpenAIFake, str]) -> None:
    server, base = replay
    choice = create_model(
        {
            "LLM_PROVIDER": "gemini",
            "GEMINI_API_KEY": GEMINI_KEY,
            "GEMINI_BASE_URL": f"{base}/v1beta/openai/",
        }
    )
    raw, seen, final_output = await _run_weather_agent(choice)

    assert seen == ["Paris"]
    assert final_output == "It is sunny in Paris."
    types = [event.type for event in raw]
    text = "".join(event.delta for event in raw if event.type == "response.output_text.delta")
    assert text == "It is sunny in Paris."
    thought = "".join(
        event.delta for event in raw if event.type == "response.reasoning_summary_text.delta"
    )
    assert thought == "Checking the weather."
    # The SDK's Chat Completions → Responses synthesis: fake item ids, no output_text.done and
    # no annotation events; the citation only shows on the final message.
    assert "response.output_text.done" not in types
    assert "response.output_text.annotation.added" not in types
    (message,) = [
        event.item
        for event in raw
        if event.type == "response.output_item.done" and event.item.type == "message"
    ]
    assert message.id == "__fake_id__"
    assert [annotation.url for annotation in message.content[0].annotations] == [
        "https://weather.example/paris"
    ]

    assert [(r.path, r.authorization) for r in server.requests] == [
        ("/v1beta/openai/chat/completions", f"Bearer {GEMINI_KEY}"),
        ("/v1beta/openai/chat/completions", f"Bearer {GEMINI_KEY}"),
    ]
    first, second = (r.body for r in server.requests)
    assert first["model"] == DEFAULT_GEMINI_MODEL
    assert [message["role"] for message in second["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
    ]
    assistant, tool = second["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == "call_t0_1"
    assert assistant["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    assert (tool["tool_call_id"], tool["content"]) == ("call_t0_1", "Sunny, 21C in Paris")


async def test_demo_script_runs_through_the_factory_model() -> None:
    choice = create_model({"MODEL_SCRIPT": str(DEMO_SCRIPT)})
    added: list[str] = []

    @function_tool
    def add_task(title: str) -> str:
        """Add a task."""
        added.append(title)
        return f"Added task: {title}"

    agent = Agent(name="Assistant", model=choice.model, tools=[add_task])
    result = await Runner.run(agent, "Add buy milk")
    assert added == ["Buy milk"]
    assert result.final_output == 'Done: "Buy milk" is on your list. See the docs for more.'


async def test_aclose_closes_the_client_and_is_harmless_offline() -> None:
    await create_model({}).aclose()
    choice = create_model({"OPENAI_API_KEY": OPENAI_KEY})
    assert choice.openai_client is not None
    await choice.aclose()
    assert choice.openai_client.is_closed()
