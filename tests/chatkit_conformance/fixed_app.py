"""A tiny deterministic ChatKit server for testing the replayer, the recorder and the client.

Each `respond` plays the next turn of a model script (only `message` outputs and `delay`
are understood); past the script's end it streams a fixed message. Run as a script it
serves `POST /chatkit` and `GET /healthz`, so that `--server-cmd` can start it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.events import StreamEvent, TextDelta, ThreadItemAddedEvent, ThreadItemDoneEvent
from chatkit_proto.events import ThreadItemUpdatedEvent as Updated
from chatkit_proto.ids import new_item_id
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from chatkit_proto.server import ChatKitServer, StreamingResult
from chatkit_proto.store import MemoryStore, Store
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import ContentPartAdded, ContentPartDone

FIXED_REPLY = ["Hello", " there."]


class ScriptedApp(ChatKitServer):
    """Answers every message with the next scripted turn's text, streamed delta by delta."""

    def __init__(self, store: Store, script: dict[str, Any] | None = None) -> None:
        super().__init__(store)
        self.turns: list[dict[str, Any]] = (script or {}).get("turns", [])
        self.calls = 0

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """Stream one assistant message."""
        spec = self.turns[self.calls] if self.calls < len(self.turns) else {}
        self.calls += 1
        outputs = [o for o in spec.get("output", []) if o.get("type") == "message"]
        deltas: list[str] = outputs[0]["text"] if outputs else FIXED_REPLY
        delay = float(spec.get("delay", 0))
        item_id = new_item_id("message")
        thread_id = thread.id
        yield ThreadItemAddedEvent(
            item=AssistantMessageItem(
                id=item_id, thread_id=thread_id, created_at=utc_now(), content=[]
            )
        )
        yield Updated(
            item_id=item_id,
            update=ContentPartAdded(content_index=0, content=AssistantMessageContent(text="")),
        )
        for delta in deltas:
            await asyncio.sleep(delay)
            yield TextDelta(item_id, 0, delta)
        text = "".join(deltas)
        yield Updated(
            item_id=item_id,
            update=ContentPartDone(content_index=0, content=AssistantMessageContent(text=text)),
        )
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=item_id,
                thread_id=thread_id,
                created_at=utc_now(),
                content=[AssistantMessageContent(text=text)],
            )
        )


def build_app(script: dict[str, Any] | None = None) -> Starlette:
    """The HTTP wiring of the documented endpoint around a fresh `ChatKitServer`."""
    server = ScriptedApp(MemoryStore(), script)

    async def chatkit(request: Request) -> Response:
        result = await server.process(await request.body(), RequestContext(user_id="tester"))
        if isinstance(result, StreamingResult):
            return StreamingResponse(result.frames, media_type="text/event-stream")
        return Response(result.body, result.status, result.headers, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/chatkit", chatkit, methods=["POST"]), Route("/healthz", healthz)]
    )


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Serve an app on a free loopback port in a background thread; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main() -> None:
    """Serve the app on `--port` with the model script `--script`."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--script")
    args = parser.parse_args()
    script = json.loads(Path(args.script).read_text()) if args.script else None
    uvicorn.run(build_app(script), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
