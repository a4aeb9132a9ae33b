"""Client-facing threads: the fast plain form equals the model form."""

from __future__ import annotations

import orjson
from hypothesis import given

from chatkit_proto.codec import dump_json
from chatkit_proto.testing.strategies import thread_metadata
from chatkit_proto.threads import ThreadMetadata, to_wire_thread, wire_thread_plain


@given(thread_metadata)
def test_plain_wire_thread_equals_the_model(thread: ThreadMetadata) -> None:
    assert wire_thread_plain(thread) == orjson.loads(dump_json(to_wire_thread(thread)))
