"""A stream closed mid-way (sse-starlette closes it when a send fails) persists at once."""

from __future__ import annotations

import json

from chatkit_proto.context import RequestContext
from chatkit_proto.pipeline import CANCELLED_NOTE
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore
from chatkit_web.streaming import event_stream
from tests.apps import ScriptedApp

CTX = RequestContext(user_id="u")
CREATE = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hi"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
)


async def test_closing_the_response_body_closes_the_pipeline_at_once() -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three four five")
    result = await app.process(CREATE, CTX)
    assert isinstance(result, StreamingResult)
    body = event_stream(result, 0).body_iterator
    async for frame in body:  # type: ignore[union-attr]
        if b"text_delta" in frame:
            break
    await body.aclose()  # type: ignore[union-attr]
    # `result` still holds the pipeline: nothing but the explicit close could have run it.
    items = (await store.load_thread_items(result.thread_id, None, 100, "asc", CTX)).data
    assert [item.type for item in items] == [
        "user_message",
        "assistant_message",
        "sdk_hidden_context",
    ]
    assert items[1].content[0].text == "one" and items[-1].content == CANCELLED_NOTE
    assert app.running == 0
