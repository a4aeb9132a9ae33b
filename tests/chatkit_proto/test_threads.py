"""Client-facing threads: the fast form built from a stored document equals the model form."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import given

from chatkit_proto.codec import dump_json
from chatkit_proto.store.rows import thread_json
from chatkit_proto.testing.strategies import thread_metadata
from chatkit_proto.threads import (
    ClosedStatus,
    ThreadMetadata,
    to_wire_thread,
    wire_thread_from_stored,
)


@given(thread_metadata)
def test_wire_thread_from_stored_equals_the_model(thread: ThreadMetadata) -> None:
    wire = orjson.loads(dump_json(to_wire_thread(thread)))
    assert orjson.loads(wire_thread_from_stored(thread_json(thread))) == wire
    assert orjson.loads(wire_thread_from_stored(thread_json(thread).decode())) == wire


def test_wire_thread_from_stored_is_not_fooled_by_key_lookalikes_in_strings() -> None:
    title = 'x,"metadata":{},"title":null,"reason":null}'
    thread = ThreadMetadata(
        id='thr_,"metadata":',
        title=title,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=ClosedStatus(reason=',"reason":null'),
        allowed_image_domains=[',"allowed_image_domains":null'],
        metadata={"secret": ',"metadata":', "none": None},
    )
    wire = orjson.loads(wire_thread_from_stored(thread_json(thread)))
    assert wire == orjson.loads(dump_json(to_wire_thread(thread)))
    assert wire["metadata"] == {} and wire["title"] == title
