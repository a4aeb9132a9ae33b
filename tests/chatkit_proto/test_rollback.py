"""A streaming request that fails before its stream starts leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import pytest

from chatkit_proto.attachments import Attachment, FileAttachment
from chatkit_proto.base import utc_now
from chatkit_proto.context import RequestContext
from chatkit_proto.items import ClientToolCallItem, ThreadItem
from chatkit_proto.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from tests.apps import ScriptedApp

CTX = RequestContext(user_id="u")


class FailingStore(MemoryStore):
    """A memory store whose `fail` method raises on its `nth` call from now on (1-based)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: str | None = None
        self.nth = 1
        self.blocked: asyncio.Event | None = None
        self.slow_deletes = False
        self.leases: set[tuple[str, str]] = set()

    def _maybe_fail(self, method: str) -> None:
        if method == self.fail:
            self.nth -= 1
            if self.nth == 0:
                raise RuntimeError(f"{method} failed")

    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        self._maybe_fail("save_thread")
        await super().save_thread(thread, ctx)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        self._maybe_fail("add_thread_item")
        if self.blocked is not None:
            await self.blocked.wait()
        await super().add_thread_item(thread_id, item, ctx)

    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        self._maybe_fail("delete_thread_item")
        if self.slow_deletes:
            await asyncio.sleep(0.001)
        await super().delete_thread_item(thread_id, item_id, ctx)

    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        if self.slow_deletes:
            await asyncio.sleep(0.001)
        await super().delete_thread(thread_id, ctx)

    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        self._maybe_fail("save_attachment")
        await super().save_attachment(attachment, ctx)

    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        held = await super().acquire_stream_lease(thread_id, token, ttl_seconds, ctx)
        if held:
            self.leases.add((thread_id, token))
        return held

    async def release_stream_lease(self, thread_id: str, token: str, ctx: RequestContext) -> None:
        self.leases.discard((thread_id, token))
        await super().release_stream_lease(thread_id, token, ctx)


def user_input(text: str, attachments: list[str] | None = None) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": attachments or [],
        "inference_options": {},
    }


async def call(
    server: ChatKitServer, type_: str, params: dict[str, Any] | None = None, **more: Any
) -> NonStreamingResult | StreamingResult:
    body = {"type": type_, "params": {**(params or {}), **more}}
    return await server.process(json.dumps(body), CTX)


async def items_of(store: MemoryStore, thread_id: str) -> list[ThreadItem]:
    return (await store.load_thread_items(thread_id, None, 100, "asc", CTX)).data


async def saved_file(store: MemoryStore) -> FileAttachment:
    attachment = FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain")
    await store.save_attachment(attachment, CTX)
    return attachment


async def answered_thread(server: ChatKitServer, text: str = "hello") -> str:
    result = await call(server, "threads.create", input=user_input(text))
    assert isinstance(result, StreamingResult)
    _ = [frame async for frame in result.frames]
    return result.thread_id


def assert_failed(result: NonStreamingResult | StreamingResult) -> None:
    assert isinstance(result, NonStreamingResult) and result.status == 500, result


@pytest.mark.parametrize("fail", ["add_thread_item", "save_attachment"])
async def test_a_failed_create_leaves_no_thread_and_no_lease(fail: str) -> None:
    store = FailingStore()
    server = ScriptedApp(store)
    await saved_file(store)
    store.fail = fail
    assert_failed(await call(server, "threads.create", input=user_input("hi", ["atc_1"])))
    assert (await store.load_threads(100, None, "desc", CTX)).data == []
    assert store.leases == set()
    assert (await store.load_attachment("atc_1", CTX)).thread_id is None


async def test_a_failed_user_message_leaves_the_thread_as_it_was() -> None:
    store = FailingStore()
    server = ScriptedApp(store)
    thread_id = await answered_thread(server)
    await saved_file(store)
    before = await items_of(store, thread_id)
    store.fail = "add_thread_item"
    failed = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("x", ["atc_1"])
    )
    assert_failed(failed)
    assert await items_of(store, thread_id) == before
    assert (await store.load_attachment("atc_1", CTX)).thread_id is None
    assert await store.stream_lease_remaining(thread_id, CTX) is None


async def test_a_failed_tool_output_leaves_the_calls_pending() -> None:
    store = FailingStore()
    server = ScriptedApp(store)
    thread_id = await answered_thread(server)
    for n in range(2):
        call_item = ClientToolCallItem(
            id=f"tc_{n}",
            thread_id=thread_id,
            created_at=utc_now(),
            call_id=f"call_{n}",
            name="get_selection",
            arguments={},
        )
        await store.add_thread_item(thread_id, call_item, CTX)
    before = await items_of(store, thread_id)
    store.fail = "delete_thread_item"
    failed = await call(server, "threads.add_client_tool_output", thread_id=thread_id, result=1)
    assert_failed(failed)
    assert await items_of(store, thread_id) == before
    assert await store.stream_lease_remaining(thread_id, CTX) is None


async def test_a_failed_retry_puts_back_what_it_deleted() -> None:
    store = FailingStore()
    server = ScriptedApp(store)
    thread_id = await answered_thread(server)
    second = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("b")
    )
    assert isinstance(second, StreamingResult)
    _ = [frame async for frame in second.frames]
    before = await items_of(store, thread_id)
    store.fail, store.nth = "delete_thread_item", 2
    failed = await call(
        server, "threads.retry_after_item", thread_id=thread_id, item_id=before[0].id
    )
    assert_failed(failed)
    assert [item.id for item in await items_of(store, thread_id)] == [item.id for item in before]
    assert await store.stream_lease_remaining(thread_id, CTX) is None


async def test_a_cancelled_create_leaves_nothing() -> None:
    # The request is cancelled (client gone) while the user message is being saved, and the
    # store really waits while undoing: the undo must survive the cancellation.
    store = FailingStore()
    store.blocked = asyncio.Event()
    store.slow_deletes = True
    server = ScriptedApp(store)
    async with anyio.create_task_group() as group:
        group.start_soon(call, server, "threads.create", {"input": user_input("hi")})
        while not store.leases:
            await asyncio.sleep(0)
        group.cancel_scope.cancel()
    store.blocked = None
    assert (await store.load_threads(100, None, "desc", CTX)).data == []
    assert store.leases == set()


async def test_a_refused_request_on_a_busy_thread_leaves_its_lease() -> None:
    store = FailingStore()
    server = ScriptedApp(store)
    thread_id = await answered_thread(server)
    assert await store.acquire_stream_lease(thread_id, "running", 60, CTX)
    refused = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("b")
    )
    assert isinstance(refused, NonStreamingResult) and refused.status == 409
    assert store.leases == {(thread_id, "running")}
