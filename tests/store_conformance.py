"""A reusable suite every `Store` must pass (SPEC §12); subclass it and provide a `store` fixture.

The module name does not match pytest's `test_*.py`, and the class name does not start with
`Test`, so nothing here is collected on its own.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chatkit_proto.attachments import FileAttachment, ImageAttachment, UploadDescriptor
from chatkit_proto.content import (
    AssistantMessageContent,
    InferenceOptions,
    UserMessageTextContent,
)
from chatkit_proto.context import RequestContext
from chatkit_proto.items import (
    AssistantMessageItem,
    HiddenContextItem,
    SDKHiddenContextItem,
    ThreadItem,
    UserMessageItem,
)
from chatkit_proto.store.base import NotFoundError, Store
from chatkit_proto.store.rows import THREAD
from chatkit_proto.threads import ClosedStatus, Page, Thread, ThreadMetadata

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")
T0 = datetime(2026, 11, 22, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """A fixed instant `seconds` after T0, so tests never depend on the clock."""
    return T0 + timedelta(seconds=seconds)


def thread(thread_id: str, seconds: float = 0, **fields: object) -> ThreadMetadata:
    """A thread created `seconds` after T0."""
    return ThreadMetadata(id=thread_id, created_at=at(seconds), **fields)


def message(item_id: str, thread_id: str, seconds: float = 0, text: str = "hi") -> ThreadItem:
    """An assistant message created `seconds` after T0."""
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=at(seconds),
        content=[AssistantMessageContent(text=text)],
    )


def ids(page: Page) -> list[str]:
    """The ids of a page's rows, in page order."""
    return [row.id for row in page.data]


async def all_thread_ids(store: Store, ctx: RequestContext, order: str = "asc") -> list[str]:
    """Every thread id of the user, in `order`, read through one big page."""
    return ids(await store.load_threads(1000, None, order, ctx))


async def all_item_ids(store: Store, thread_id: str, ctx: RequestContext) -> list[str]:
    """Every item id of the thread, oldest first."""
    return ids(await store.load_thread_items(thread_id, None, 1000, "asc", ctx))


async def walk(store: Store, limit: int, order: str, thread_id: str | None = None) -> list[Page]:
    """Follow `after` cursors from the first page to the last."""
    pages: list[Page] = []
    after = None
    while True:
        if thread_id is None:
            page = await store.load_threads(limit, after, order, ALICE)
        else:
            page = await store.load_thread_items(thread_id, after, limit, order, ALICE)
        pages.append(page)
        if not page.has_more:
            return pages
        after = page.after


class StoreConformance:
    """The store contract, tested through the public `Store` methods only."""

    # -- threads -----------------------------------------------------------------------------

    async def test_thread_round_trip(self, store: Store) -> None:
        original = thread(
            "thr_1",
            title="Plans",
            status=ClosedStatus(reason="done"),
            allowed_image_domains=["example.com"],
            metadata={"secret": {"nested": [1, None, "x"]}},
        )
        await store.save_thread(original, ALICE)
        loaded = await store.load_thread("thr_1", ALICE)
        assert loaded == original
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)

    async def test_load_unknown_thread_raises(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_missing", ALICE)

    async def test_save_thread_updates_in_place(self, store: Store) -> None:
        for n in range(3):
            await store.save_thread(thread(f"thr_{n}", n), ALICE)
        await store.save_thread(thread("thr_1", 1, title="renamed"), ALICE)
        assert (await store.load_thread("thr_1", ALICE)).title == "renamed"
        assert await all_thread_ids(store, ALICE) == ["thr_0", "thr_1", "thr_2"]

    async def test_saving_a_wire_thread_keeps_only_metadata(self, store: Store) -> None:
        await store.save_thread(Thread(id="thr_1", created_at=at(0), title="t"), ALICE)
        loaded = await store.load_thread("thr_1", ALICE)
        assert loaded == thread("thr_1", title="t")
        assert type(loaded) is ThreadMetadata

    async def test_returned_models_are_copies(self, store: Store) -> None:
        original = thread("thr_1", title="a")
        await store.save_thread(original, ALICE)
        original.title = "mutated after save"
        loaded = await store.load_thread("thr_1", ALICE)
        loaded.title = "mutated after load"
        assert (await store.load_thread("thr_1", ALICE)).title == "a"

    async def test_delete_thread(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.delete_thread("thr_1", ALICE)
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_1", ALICE)
        assert await all_thread_ids(store, ALICE) == []

    async def test_delete_unknown_thread_does_nothing(self, store: Store) -> None:
        await store.delete_thread("thr_missing", ALICE)

    async def test_delete_thread_removes_its_items(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
        await store.delete_thread("thr_1", ALICE)
        # A new thread with the same id must start empty, not inherit the old items.
        await store.save_thread(thread("thr_1"), ALICE)
        assert await all_item_ids(store, "thr_1", ALICE) == []
        with pytest.raises(NotFoundError):
            await store.load_item("thr_1", "msg_1", ALICE)

    # -- thread pagination (SPEC §12.3) ------------------------------------------------------

    async def test_threads_spec_example_desc(self, store: Store) -> None:
        for n in range(25):
            await store.save_thread(thread(f"thr_{n:02}", n), ALICE)
        first = await store.load_threads(20, None, "desc", ALICE)
        assert ids(first) == [f"thr_{n:02}" for n in range(24, 4, -1)]
        assert first.has_more is True
        assert first.after == "thr_05"
        second = await store.load_threads(20, first.after, "desc", ALICE)
        assert ids(second) == ["thr_04", "thr_03", "thr_02", "thr_01", "thr_00"]
        assert second.has_more is False
        assert second.after is None

    async def test_threads_pagination_asc(self, store: Store) -> None:
        for n in range(25):
            await store.save_thread(thread(f"thr_{n:02}", n), ALICE)
        first = await store.load_threads(20, None, "asc", ALICE)
        assert ids(first) == [f"thr_{n:02}" for n in range(20)]
        assert (first.has_more, first.after) == (True, "thr_19")
        second = await store.load_threads(20, first.after, "asc", ALICE)
        assert ids(second) == [f"thr_{n:02}" for n in range(20, 25)]
        assert (second.has_more, second.after) == (False, None)

    async def test_threads_exact_fit_has_no_more(self, store: Store) -> None:
        for n in range(20):
            await store.save_thread(thread(f"thr_{n:02}", n), ALICE)
        page = await store.load_threads(20, None, "desc", ALICE)
        assert len(page.data) == 20
        assert (page.has_more, page.after) == (False, None)

    async def test_threads_exact_fit_ascending_has_no_more(self, store: Store) -> None:
        for n in range(20):
            await store.save_thread(thread(f"thr_{n:02}", n), ALICE)
        page = await store.load_threads(20, None, "asc", ALICE)
        assert ids(page) == [f"thr_{n:02}" for n in range(20)]
        assert (page.has_more, page.after) == (False, None)
        rest = await store.load_threads(5, "thr_14", "asc", ALICE)
        assert ids(rest) == [f"thr_{n:02}" for n in range(15, 20)]
        assert (rest.has_more, rest.after) == (False, None)

    async def test_any_large_limit_is_a_limit(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
        for limit in (2**31, 2**63 - 1, 2**64, 10**30):
            threads = await store.load_threads(limit, None, "asc", ALICE)
            assert (ids(threads), threads.has_more) == (["thr_1"], False)
            items = await store.load_thread_items("thr_1", None, limit, "desc", ALICE)
            assert (ids(items), items.has_more) == (["msg_1"], False)

    async def test_threads_as_stored_documents_page_like_the_models(self, store: Store) -> None:
        for n in range(5):
            await store.save_thread(thread(f"thr_{n}", n, title=f"T{n}"), ALICE)
        await store.save_thread(thread("thr_bob", 9), BOB)
        for order, after in (("asc", None), ("desc", None), ("asc", "thr_1"), ("desc", "thr_3")):
            models = await store.load_threads(2, after, order, ALICE)
            docs = await store.load_threads_json(2, after, order, ALICE)
            assert [THREAD.validate_json(doc) for doc in docs.data] == models.data
            assert (docs.has_more, docs.after) == (models.has_more, models.after)
        with pytest.raises(NotFoundError):
            await store.load_threads_json(2, "thr_bob", "asc", ALICE)

    async def test_threads_empty_listing(self, store: Store) -> None:
        page = await store.load_threads(20, None, "desc", ALICE)
        assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_threads_cursor_at_the_end_gives_empty_page(self, store: Store) -> None:
        for n in range(3):
            await store.save_thread(thread(f"thr_{n}", n), ALICE)
        page = await store.load_threads(20, "thr_2", "asc", ALICE)
        assert (page.data, page.has_more, page.after) == ([], False, None)
        page = await store.load_threads(20, "thr_0", "desc", ALICE)
        assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_threads_order_by_created_at_not_insertion(self, store: Store) -> None:
        for thread_id, seconds in [("thr_b", 20), ("thr_c", 30), ("thr_a", 10)]:
            await store.save_thread(thread(thread_id, seconds), ALICE)
        assert await all_thread_ids(store, ALICE, "asc") == ["thr_a", "thr_b", "thr_c"]
        assert await all_thread_ids(store, ALICE, "desc") == ["thr_c", "thr_b", "thr_a"]

    async def test_threads_equal_timestamps_keep_insertion_order(self, store: Store) -> None:
        # Ids deliberately out of alphabetical order: the tie-breaker is insertion, not id.
        order = ["thr_m", "thr_z", "thr_a", "thr_k", "thr_b"]
        for thread_id in order:
            await store.save_thread(thread(thread_id, 5), ALICE)
        await store.save_thread(thread("thr_early", 1), ALICE)
        asc = ["thr_early", *order]
        for limit in (1, 2, 3, 6, 7):
            for direction, expected in [("asc", asc), ("desc", asc[::-1])]:
                pages = await walk(store, limit, direction)
                assert [i for page in pages for i in ids(page)] == expected

    async def test_threads_walk_with_ties_visits_every_row_once(self, store: Store) -> None:
        for n in range(13):
            await store.save_thread(thread(f"thr_{n:02}", n // 4), ALICE)
        asc = [f"thr_{n:02}" for n in range(13)]
        for limit in (1, 2, 3, 4, 5, 13, 14):
            for direction, expected in [("asc", asc), ("desc", asc[::-1])]:
                pages = await walk(store, limit, direction)
                assert [i for page in pages for i in ids(page)] == expected
                assert all(page.after == page.data[-1].id for page in pages[:-1])
                assert pages[-1].after is None

    async def test_threads_unknown_cursor_raises(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for direction in ("asc", "desc"):
            with pytest.raises(NotFoundError):
                await store.load_threads(20, "thr_missing", direction, ALICE)

    async def test_threads_limit_one(self, store: Store) -> None:
        for n in range(3):
            await store.save_thread(thread(f"thr_{n}", n), ALICE)
        page = await store.load_threads(1, None, "desc", ALICE)
        assert (ids(page), page.has_more, page.after) == (["thr_2"], True, "thr_2")

    # -- items -------------------------------------------------------------------------------

    async def test_item_round_trip(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        item = message("msg_1", "thr_1", text="hello")
        await store.add_thread_item("thr_1", item, ALICE)
        assert await store.load_item("thr_1", "msg_1", ALICE) == item

    async def test_load_unknown_item_raises(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_1", "msg_missing", ALICE)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_missing", "msg_missing", ALICE)

    async def test_item_is_scoped_to_its_thread(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.save_thread(thread("thr_2"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_2", "msg_1", ALICE)
        with pytest.raises(NotFoundError):
            await store.load_thread_items("thr_2", "msg_1", 20, "asc", ALICE)
        await store.delete_thread_item("thr_2", "msg_1", ALICE)
        assert await all_item_ids(store, "thr_1", ALICE) == ["msg_1"]

    async def test_items_of_unknown_thread(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            await store.load_thread_items("thr_missing", None, 20, "asc", ALICE)
        with pytest.raises(NotFoundError):
            await store.add_thread_item("thr_missing", message("msg_1", "thr_missing"), ALICE)

    async def test_add_thread_item_upsert_keeps_position(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for n in range(3):
            await store.add_thread_item("thr_1", message(f"msg_{n}", "thr_1", n), ALICE)
        # Same id again, even with a later timestamp: replaced where it stands.
        await store.add_thread_item("thr_1", message("msg_0", "thr_1", 99, "second"), ALICE)
        page = await store.load_thread_items("thr_1", None, 20, "asc", ALICE)
        assert ids(page) == ["msg_0", "msg_1", "msg_2"]
        assert page.data[0].content[0].text == "second"

    async def test_delete_thread_item(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for n in range(3):
            await store.add_thread_item("thr_1", message(f"msg_{n}", "thr_1", n), ALICE)
        await store.delete_thread_item("thr_1", "msg_1", ALICE)
        assert await all_item_ids(store, "thr_1", ALICE) == ["msg_0", "msg_2"]
        with pytest.raises(NotFoundError):
            await store.load_item("thr_1", "msg_1", ALICE)

    async def test_delete_unknown_item_does_nothing(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
        await store.delete_thread_item("thr_1", "msg_missing", ALICE)
        await store.delete_thread_item("thr_missing", "msg_1", ALICE)
        assert await all_item_ids(store, "thr_1", ALICE) == ["msg_1"]

    async def test_hidden_items_are_returned(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        hidden = HiddenContextItem(
            id="hc_1", thread_id="thr_1", created_at=at(1), content={"k": [1, None]}
        )
        sdk = SDKHiddenContextItem(
            id="shcx_1", thread_id="thr_1", created_at=at(2), content="cancelled"
        )
        await store.add_thread_item("thr_1", message("msg_0", "thr_1", 0), ALICE)
        await store.add_thread_item("thr_1", hidden, ALICE)
        await store.add_thread_item("thr_1", sdk, ALICE)
        page = await store.load_thread_items("thr_1", None, 20, "asc", ALICE)
        assert page.data[1:] == [hidden, sdk]
        last = await store.load_thread_items("thr_1", None, 1, "desc", ALICE)
        assert (last.data, last.has_more, last.after) == ([sdk], True, "shcx_1")

    async def test_user_message_attachments_keep_private_metadata(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        item = UserMessageItem(
            id="msg_1",
            thread_id="thr_1",
            created_at=at(0),
            content=[UserMessageTextContent(text="see file")],
            attachments=[
                FileAttachment(
                    id="atc_1", name="a.txt", mime_type="text/plain", metadata={"s3": "k"}
                ),
                ImageAttachment(
                    id="atc_2", name="b.png", mime_type="image/png", preview_url="https://x/b"
                ),
            ],
            inference_options=InferenceOptions(),
        )
        await store.add_thread_item("thr_1", item, ALICE)
        loaded = await store.load_item("thr_1", "msg_1", ALICE)
        assert loaded == item
        assert [a.metadata for a in loaded.attachments] == [{"s3": "k"}, None]

    async def test_items_spec_pagination_both_orders(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for n in range(25):
            await store.add_thread_item("thr_1", message(f"msg_{n:02}", "thr_1", n), ALICE)
        first = await store.load_thread_items("thr_1", None, 20, "desc", ALICE)
        assert ids(first) == [f"msg_{n:02}" for n in range(24, 4, -1)]
        assert (first.has_more, first.after) == (True, "msg_05")
        second = await store.load_thread_items("thr_1", first.after, 20, "desc", ALICE)
        assert ids(second) == [f"msg_{n:02}" for n in range(4, -1, -1)]
        assert (second.has_more, second.after) == (False, None)
        first = await store.load_thread_items("thr_1", None, 20, "asc", ALICE)
        assert ids(first) == [f"msg_{n:02}" for n in range(20)]
        assert (first.has_more, first.after) == (True, "msg_19")
        second = await store.load_thread_items("thr_1", first.after, 20, "asc", ALICE)
        assert ids(second) == [f"msg_{n:02}" for n in range(20, 25)]
        assert (second.has_more, second.after) == (False, None)

    async def test_items_equal_timestamps_keep_insertion_order(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        order = ["msg_q", "msg_c", "msg_x", "msg_a", "msg_m", "msg_b"]
        for item_id in order:
            await store.add_thread_item("thr_1", message(item_id, "thr_1", 7), ALICE)
        for limit in (1, 2, 4, 6, 7):
            for direction, expected in [("asc", order), ("desc", order[::-1])]:
                pages = await walk(store, limit, direction, thread_id="thr_1")
                assert [i for page in pages for i in ids(page)] == expected

    async def test_items_exact_fit_has_no_more_in_both_orders(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for n in range(4):
            await store.add_thread_item("thr_1", message(f"msg_{n}", "thr_1", n), ALICE)
        for direction in ("asc", "desc"):
            page = await store.load_thread_items("thr_1", None, 4, direction, ALICE)
            assert len(page.data) == 4
            assert (page.has_more, page.after) == (False, None)
        rest = await store.load_thread_items("thr_1", "msg_1", 2, "asc", ALICE)
        assert (ids(rest), rest.has_more, rest.after) == (["msg_2", "msg_3"], False, None)

    async def test_items_of_empty_thread(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for direction in ("asc", "desc"):
            page = await store.load_thread_items("thr_1", None, 20, direction, ALICE)
            assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_items_cursor_at_the_end_gives_empty_page(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        for n in range(2):
            await store.add_thread_item("thr_1", message(f"msg_{n}", "thr_1", n), ALICE)
        page = await store.load_thread_items("thr_1", "msg_1", 20, "asc", ALICE)
        assert (page.data, page.has_more, page.after) == ([], False, None)
        page = await store.load_thread_items("thr_1", "msg_0", 20, "desc", ALICE)
        assert (page.data, page.has_more, page.after) == ([], False, None)

    async def test_items_unknown_cursor_raises(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
        for direction in ("asc", "desc"):
            with pytest.raises(NotFoundError):
                await store.load_thread_items("thr_1", "msg_missing", 20, direction, ALICE)

    async def test_items_of_two_threads_do_not_mix(self, store: Store) -> None:
        await store.save_thread(thread("thr_1"), ALICE)
        await store.save_thread(thread("thr_2"), ALICE)
        await store.add_thread_item("thr_1", message("msg_1", "thr_1", 0), ALICE)
        await store.add_thread_item("thr_2", message("msg_2", "thr_2", 1), ALICE)
        await store.add_thread_item("thr_1", message("msg_3", "thr_1", 2), ALICE)
        assert await all_item_ids(store, "thr_1", ALICE) == ["msg_1", "msg_3"]
        assert await all_item_ids(store, "thr_2", ALICE) == ["msg_2"]

    # -- attachments -------------------------------------------------------------------------

    async def test_attachment_round_trip_keeps_private_metadata(self, store: Store) -> None:
        image = ImageAttachment(
            id="atc_1",
            name="cat.png",
            mime_type="image/png",
            preview_url="https://cdn.example/cat.png",
            upload_descriptor=UploadDescriptor(url="https://up.example", method="PUT"),
            metadata={"bucket": "b", "key": "k", "sizes": [1, None]},
        )
        await store.save_attachment(image, ALICE)
        loaded = await store.load_attachment("atc_1", ALICE)
        assert loaded == image
        assert isinstance(loaded, ImageAttachment)
        assert loaded.metadata == {"bucket": "b", "key": "k", "sizes": [1, None]}

    async def test_attachment_upsert(self, store: Store) -> None:
        first = FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain", metadata={"v": 1})
        await store.save_attachment(first, ALICE)
        second = first.model_copy(update={"thread_id": "thr_1", "metadata": {"v": 2}})
        await store.save_attachment(second, ALICE)
        loaded = await store.load_attachment("atc_1", ALICE)
        assert (loaded.thread_id, loaded.metadata) == ("thr_1", {"v": 2})

    async def test_attachment_without_metadata(self, store: Store) -> None:
        plain = FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain")
        await store.save_attachment(plain, ALICE)
        assert (await store.load_attachment("atc_1", ALICE)).metadata is None

    async def test_delete_attachment(self, store: Store) -> None:
        await store.save_attachment(
            FileAttachment(id="atc_1", name="a", mime_type="text/plain"), ALICE
        )
        await store.delete_attachment("atc_1", ALICE)
        with pytest.raises(NotFoundError):
            await store.load_attachment("atc_1", ALICE)
        await store.delete_attachment("atc_1", ALICE)

    # -- owner isolation ---------------------------------------------------------------------

    async def seed_alice(self, store: Store) -> None:
        """Alice owns thr_a with one visible and one hidden item, and atc_a."""
        await store.save_thread(thread("thr_a", 0, title="alice"), ALICE)
        await store.add_thread_item("thr_a", message("msg_a", "thr_a", 0, "alice"), ALICE)
        await store.add_thread_item(
            "thr_a",
            HiddenContextItem(id="hc_a", thread_id="thr_a", created_at=at(1), content="x"),
            ALICE,
        )
        await store.save_attachment(
            FileAttachment(id="atc_a", name="a", mime_type="text/plain", metadata={"o": "a"}),
            ALICE,
        )

    async def assert_alice_intact(self, store: Store) -> None:
        """Alice still sees exactly what `seed_alice` wrote."""
        assert (await store.load_thread("thr_a", ALICE)).title == "alice"
        assert await all_thread_ids(store, ALICE) == ["thr_a"]
        assert await all_item_ids(store, "thr_a", ALICE) == ["msg_a", "hc_a"]
        item = await store.load_item("thr_a", "msg_a", ALICE)
        assert item.content[0].text == "alice"
        assert (await store.load_attachment("atc_a", ALICE)).metadata == {"o": "a"}

    async def test_other_user_cannot_read(self, store: Store) -> None:
        await self.seed_alice(store)
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_a", BOB)
        assert await all_thread_ids(store, BOB) == []
        with pytest.raises(NotFoundError):
            await store.load_thread_items("thr_a", None, 20, "asc", BOB)
        with pytest.raises(NotFoundError):
            await store.load_item("thr_a", "msg_a", BOB)
        with pytest.raises(NotFoundError):
            await store.load_attachment("atc_a", BOB)

    async def test_other_users_cursor_is_unknown(self, store: Store) -> None:
        await self.seed_alice(store)
        await store.save_thread(thread("thr_b", 5), BOB)
        with pytest.raises(NotFoundError):
            await store.load_threads(20, "thr_a", "asc", BOB)
        await store.add_thread_item("thr_b", message("msg_b", "thr_b"), BOB)
        with pytest.raises(NotFoundError):
            await store.load_thread_items("thr_b", "msg_a", 20, "asc", BOB)

    async def test_other_user_cannot_delete(self, store: Store) -> None:
        await self.seed_alice(store)
        await store.delete_thread_item("thr_a", "msg_a", BOB)
        await store.delete_thread("thr_a", BOB)
        await store.delete_attachment("atc_a", BOB)
        await self.assert_alice_intact(store)

    async def test_other_user_cannot_write_into_thread(self, store: Store) -> None:
        await self.seed_alice(store)
        with pytest.raises(NotFoundError):
            await store.add_thread_item("thr_a", message("msg_a", "thr_a", 0, "bob"), BOB)
        await self.assert_alice_intact(store)

    async def test_same_ids_for_another_user_are_separate_rows(self, store: Store) -> None:
        await self.seed_alice(store)
        # Bob choosing ids Alice already uses gets his own rows; Alice's are untouched.
        await store.save_thread(thread("thr_a", 9, title="bob"), BOB)
        await store.add_thread_item("thr_a", message("msg_a", "thr_a", 9, "bob"), BOB)
        await store.save_attachment(
            FileAttachment(id="atc_a", name="b", mime_type="text/plain", metadata={"o": "b"}), BOB
        )
        await self.assert_alice_intact(store)
        assert (await store.load_thread("thr_a", BOB)).title == "bob"
        assert await all_item_ids(store, "thr_a", BOB) == ["msg_a"]
        assert (await store.load_attachment("atc_a", BOB)).metadata == {"o": "b"}
        await store.delete_thread("thr_a", BOB)
        await self.assert_alice_intact(store)

    async def test_listing_only_shows_own_threads(self, store: Store) -> None:
        for n in range(5):
            await store.save_thread(thread(f"thr_a{n}", n), ALICE)
            await store.save_thread(thread(f"thr_b{n}", n), BOB)
        pages = await walk(store, 2, "desc")
        assert [i for page in pages for i in ids(page)] == [f"thr_a{n}" for n in range(4, -1, -1)]
        assert await all_thread_ids(store, BOB) == [f"thr_b{n}" for n in range(5)]

    # -- stream leases -----------------------------------------------------------------------

    async def test_lease_is_exclusive_while_live(self, store: Store) -> None:
        assert await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is False
        assert await store.acquire_stream_lease("thr_2", "tok_b", 60, ALICE) is True

    async def test_same_token_renews(self, store: Store) -> None:
        assert await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is False

    async def test_renewal_extends_the_lease(self, store: Store) -> None:
        assert await store.acquire_stream_lease("thr_1", "tok_a", 0.05, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE) is True
        await asyncio.sleep(0.1)
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is False

    async def test_expired_lease_can_be_taken(self, store: Store) -> None:
        assert await store.acquire_stream_lease("thr_1", "tok_a", 0.05, ALICE) is True
        await asyncio.sleep(0.1)
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE) is False

    async def test_release_frees_the_thread(self, store: Store) -> None:
        await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE)
        await store.release_stream_lease("thr_1", "tok_a", ALICE)
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is True

    async def test_release_with_wrong_token_does_nothing(self, store: Store) -> None:
        await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE)
        await store.release_stream_lease("thr_1", "tok_b", ALICE)
        await store.release_stream_lease("thr_1", "tok_a", BOB)
        assert await store.acquire_stream_lease("thr_1", "tok_b", 60, ALICE) is False
        await store.release_stream_lease("thr_missing", "tok_a", ALICE)

    async def test_leases_are_scoped_to_the_user(self, store: Store) -> None:
        # Another user's thread id is an unknown id to Bob: he can neither see nor block it.
        assert await store.acquire_stream_lease("thr_1", "tok_bob", 60, BOB) is True
        assert await store.acquire_stream_lease("thr_1", "tok_alice", 60, ALICE) is True
        assert await store.acquire_stream_lease("thr_1", "tok_bob2", 60, BOB) is False

    async def test_remaining_lease_time(self, store: Store) -> None:
        assert await store.stream_lease_remaining("thr_1", ALICE) is None
        await store.acquire_stream_lease("thr_1", "tok_a", 60, ALICE)
        remaining = await store.stream_lease_remaining("thr_1", ALICE)
        assert remaining is not None and 50 < remaining <= 60
        assert await store.stream_lease_remaining("thr_1", BOB) is None
        await store.release_stream_lease("thr_1", "tok_a", ALICE)
        assert await store.stream_lease_remaining("thr_1", ALICE) is None

    async def test_an_expired_lease_has_no_time_left(self, store: Store) -> None:
        await store.acquire_stream_lease("thr_1", "tok_a", 0.05, ALICE)
        await asyncio.sleep(0.1)
        assert await store.stream_lease_remaining("thr_1", ALICE) is None

    async def test_start_thread_saves_the_thread_its_item_and_lease(self, store: Store) -> None:
        new = thread("thr_new", 5, title="New")
        assert await store.start_thread(new, message("msg_1", "thr_new", 5), "tok_a", 60, ALICE)
        assert (await store.load_thread("thr_new", ALICE)).title == "New"
        assert await all_item_ids(store, "thr_new", ALICE) == ["msg_1"]
        assert await store.acquire_stream_lease("thr_new", "tok_b", 60, ALICE) is False
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_new", BOB)

    async def test_start_thread_on_a_leased_id_saves_nothing(self, store: Store) -> None:
        assert await store.acquire_stream_lease("thr_new", "tok_a", 60, ALICE) is True
        new = thread("thr_new")
        assert not await store.start_thread(new, message("msg_1", "thr_new"), "tok_b", 60, ALICE)
        with pytest.raises(NotFoundError):
            await store.load_thread("thr_new", ALICE)
        assert await store.acquire_stream_lease("thr_new", "tok_a", 60, ALICE) is True

    async def test_concurrent_acquires_have_one_winner(self, store: Store) -> None:
        results = await asyncio.gather(
            *(store.acquire_stream_lease("thr_1", f"tok_{n}", 60, ALICE) for n in range(10))
        )
        assert results.count(True) == 1
