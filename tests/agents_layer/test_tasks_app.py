"""The tasks app offline, end to end through the dispatcher, and its task stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents_layer.apps.tasks import TasksServer, create_app, fallback_title
from agents_layer.apps.tasks_store import NAMESPACE, RecordTasks
from agents_layer.offline_model import HELP_DELTAS, plan_turn
from agents_layer.settings import AppSettings
from chatkit_proto.context import RequestContext
from chatkit_proto.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.store.records import MemoryRecords
from chatkit_stores.sqlite_records import SQLiteRecords

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


async def call(server: ChatKitServer, type_: str, ctx: RequestContext, **params: Any):
    return await server.process(json.dumps({"type": type_, "params": params}), ctx)


async def events(result: StreamingResult | NonStreamingResult) -> list[dict[str, Any]]:
    assert isinstance(result, StreamingResult), result
    return [json.loads(frame[6:]) for frame in [f async for f in result.frames]]


def assistant_texts(stream: list[dict[str, Any]]) -> list[str]:
    return [
        "".join(part["text"] for part in event["item"]["content"])
        for event in stream
        if event["type"] == "thread.item.done" and event["item"]["type"] == "assistant_message"
    ]


def widgets(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event["item"]
        for event in stream
        if event["type"] == "thread.item.done" and event["item"]["type"] == "widget"
    ]


def row_texts(widget: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (row["children"][0]["value"], bool(row["children"][0].get("lineThrough")))
        for row in widget["children"]
    ]


@pytest.fixture
def tasks() -> RecordTasks:
    return RecordTasks(MemoryRecords())


@pytest.fixture
def server(tasks: RecordTasks) -> ChatKitServer:
    return TasksServer(MemoryStore(), tasks, None)


async def say(
    server: ChatKitServer, text: str, ctx: RequestContext = ALICE, thread_id: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    if thread_id is None:
        stream = await events(await call(server, "threads.create", ctx, input=user_input(text)))
        return stream[0]["thread"]["id"], stream
    stream = await events(
        await call(
            server, "threads.add_user_message", ctx, thread_id=thread_id, input=user_input(text)
        )
    )
    return thread_id, stream


async def test_add_answers_and_titles_the_thread(server: ChatKitServer, tasks: RecordTasks) -> None:
    thread_id, stream = await say(server, "add Buy milk")
    assert assistant_texts(stream) == ["Added “Buy milk”."]
    titles = [e["thread"]["title"] for e in stream if e["type"] == "thread.updated"]
    assert titles == ["add Buy milk"]
    assert [task.title for task in await tasks.list("alice")] == ["Buy milk"]

    _, again = await say(server, "add Walk the dog", thread_id=thread_id)
    assert not [e for e in again if e["type"] == "thread.updated"]


async def test_list_done_action_and_delete(server: ChatKitServer, tasks: RecordTasks) -> None:
    thread_id, _ = await say(server, "add Buy milk")
    await say(server, "add Walk the dog", thread_id=thread_id)
    _, stream = await say(server, "list", thread_id=thread_id)
    [item] = widgets(stream)
    assert row_texts(item["widget"]) == [("Buy milk", False), ("Walk the dog", False)]
    assert assistant_texts(stream) == ["You have 2 task(s), 2 open."]
    button = item["widget"]["children"][0]["children"][1]
    action = button["onClickAction"]
    assert action["type"] == "tasks.done"

    replaced = await events(
        await call(
            server,
            "threads.custom_action",
            ALICE,
            thread_id=thread_id,
            item_id=item["id"],
            action={"type": action["type"], "payload": action["payload"]},
        )
    )
    [event] = [e for e in replaced if e["type"] == "thread.item.replaced"]
    assert event["item"]["id"] == item["id"]
    assert row_texts(event["item"]["widget"]) == [("Buy milk", True), ("Walk the dog", False)]
    assert assistant_texts(replaced) == ["Marked “Buy milk” as done."]
    assert [(t.title, t.done) for t in await tasks.list("alice")] == [
        ("Buy milk", True),
        ("Walk the dog", False),
    ]
    items = json.loads(
        (await call(server, "items.list", ALICE, thread_id=thread_id, limit=50)).body
    )["data"]
    [stored] = [i for i in items if i["id"] == item["id"]]
    assert row_texts(stored["widget"])[0] == ("Buy milk", True)

    _, deleted = await say(server, "delete 1", thread_id=thread_id)
    assert assistant_texts(deleted) == ["Deleted “Buy milk”."]
    _, done = await say(server, "done 1", thread_id=thread_id)
    assert assistant_texts(done) == ["Marked “Walk the dog” as done."]
    assert [(t.title, t.done) for t in await tasks.list("alice")] == [("Walk the dog", True)]


async def test_unknown_action_fails(server: ChatKitServer) -> None:
    thread_id, _ = await say(server, "list")
    stream = await events(
        await call(
            server,
            "threads.custom_action",
            ALICE,
            thread_id=thread_id,
            action={"type": "tasks.explode", "payload": {}},
        )
    )
    assert [e for e in stream if e["type"] == "error"]


async def test_users_see_only_their_tasks(server: ChatKitServer) -> None:
    await say(server, "add Alice's secret")
    _, stream = await say(server, "list", ctx=BOB)
    [item] = widgets(stream)
    assert row_texts(item["widget"]) == [("There are no tasks yet.", False)]
    assert assistant_texts(stream) == ["You have no tasks."]


async def test_free_text_explains_offline_mode(server: ChatKitServer) -> None:
    _, stream = await say(server, "What can you do?")
    assert assistant_texts(stream) == ["".join(HELP_DELTAS)]
    assert "OPENAI_API_KEY" in assistant_texts(stream)[0]
    assert len([e for e in stream if e["type"] == "thread.item.updated"]) > len(HELP_DELTAS)


def test_offline_plan_maps_commands_to_tools() -> None:
    turn = plan_turn([{"role": "user", "content": "done 3"}])
    [call_] = turn.output
    assert call_.type == "function_call"
    assert (call_.name, call_.arguments) == ("complete_task", {"number": 3})


def test_fallback_title_is_short() -> None:
    assert fallback_title("add Buy milk") == "add Buy milk"
    assert len(fallback_title("word " * 30)) <= 41


async def test_record_tasks_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "chatkit.db"
    records = SQLiteRecords(path)
    await records.open()
    store = RecordTasks(records)
    first = await store.add("alice", "Buy milk")
    await store.add("alice", "Walk the dog")
    await store.add("bob", "Bob's task")
    assert await store.set_done("bob", first.id) is None
    assert await store.delete("bob", first.id) is None
    assert (await store.set_done("alice", first.id)).done  # type: ignore[union-attr]
    await records.close()

    reopened = SQLiteRecords(path)
    await reopened.open()
    tasks = RecordTasks(reopened)
    assert [(t.title, t.done) for t in await tasks.list("alice")] == [
        ("Buy milk", True),
        ("Walk the dog", False),
    ]
    assert [t.title for t in await tasks.list("bob")] == ["Bob's task"]
    assert (await tasks.delete("alice", first.id)) is not None
    assert await tasks.delete("alice", first.id) is None
    assert [t.title for t in await tasks.list("alice")] == ["Walk the dog"]
    await reopened.close()


async def test_create_app_keeps_tasks_in_the_given_records(tmp_path: Path) -> None:
    records = MemoryRecords()
    settings = AppSettings(
        store=MemoryStore(), records=records, data_dir=tmp_path, env={"LLM_PROVIDER": "offline"}
    )
    app = create_app(settings)
    server = app
    await say(server, "add Buy milk")
    [record] = await records.list(NAMESPACE, "alice")
    assert record.value["title"] == "Buy milk" and record.value["done"] is False


async def test_a_stored_value_that_is_not_a_task_fails_clearly() -> None:
    records = MemoryRecords()
    await records.put(NAMESPACE, "alice", "task_1", {"title": 3})
    with pytest.raises(ValueError, match="not a stored task"):
        await RecordTasks(records).list("alice")
