"""Client-facing threads: the fast form built from a stored document equals the model form."""

from __future__ import annotations

import orjson
from hypothesis import given

from chatkit_proto.codec import dump_json
from chatkit_proto.store.rows import thread_json
from chatkit_proto.testing.strategies import thread_metadata
from chatkit_proto.threads import ThreadMetadata, to_wire_thread, wire_thread_from_stored


@given(thread_metadata)
def test_wire_thread_from_stored_equals_the_model(thread: ThreadMetadata) -> None:
    wire = orjson.loads(dump_json(to_wire_thread(thread)))
    assert wire_thread_from_stored(thread_json(thread)) == wire
    assert wire_thread_from_stored(thread_json(thread).decode()) == wire
