"""The shipped strategies, as an app's own test suite would use them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatkit_proto.codec import decode_request, dump_json, encode_event
from chatkit_proto.events import TextDelta, ThreadStreamEvent
from chatkit_proto.items import ThreadItem
from chatkit_proto.requests import ChatKitReq
from chatkit_proto.testing import register_strategies
from tests.profiles import CODEC_SETTINGS

register_strategies()


@CODEC_SETTINGS
@given(st.from_type(ThreadStreamEvent))
def test_from_type_draws_any_stream_event_that_frames(event: ThreadStreamEvent) -> None:
    frame = encode_event(event)
    assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")


@CODEC_SETTINGS
@given(st.from_type(ChatKitReq))
def test_from_type_draws_requests_that_decode_to_themselves(request: ChatKitReq) -> None:
    assert decode_request(dump_json(request)) == request


@CODEC_SETTINGS
@given(st.from_type(ThreadItem), st.from_type(TextDelta))
def test_items_and_text_deltas_are_registered(item: ThreadItem, delta: TextDelta) -> None:
    assert item.type and isinstance(delta, TextDelta)


def test_every_event_type_is_reachable() -> None:
    seen: set[str] = set()

    @CODEC_SETTINGS
    @given(st.from_type(ThreadStreamEvent))
    def collect(event: ThreadStreamEvent) -> None:
        seen.add(event.type)

    collect()
    assert len(seen) >= 10
