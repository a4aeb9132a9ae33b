"""`server.py` stopped with Ctrl+C mid-stream: the client gets a last frame, nothing is lost."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.test_server import CREATE, Server

SCRIPT = Path(__file__).parent / "data" / "slow_answer_script.json"


def serve(db: Path, data_dir: Path) -> Server:
    return Server(
        "--app", "tasks", "--model-script", str(SCRIPT), "--store", str(db), data_dir=data_dir
    )


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(
        event["update"]["delta"]
        for event in events
        if event["type"] == "thread.item.updated"
        and event["update"]["type"] == "assistant_message.content_part.text_delta"
    )


def test_sigint_mid_stream_ends_it_with_an_error_event_and_keeps_the_answer(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite"
    server = serve(db, tmp_path)
    events: list[dict[str, Any]] = []
    with httpx.stream(
        "POST", f"{server.url}/chatkit", content=json.dumps(CREATE), timeout=20
    ) as response:
        assert response.status_code == 200
        stopped = False
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            events.append(json.loads(line.removeprefix("data: ")))
            if not stopped and len(text_of(events).split()) == 2:
                server.process.send_signal(signal.SIGINT)
                stopped = True
    # uvicorn re-raises the signal after its graceful shutdown, as Unix programs should.
    assert server.process.wait(timeout=20) in (0, -signal.SIGINT)
    stderr = server.process.stderr.read().decode() if server.process.stderr else ""
    assert "without completing response" not in stderr
    assert events[-1]["type"] == "error" and events[-1]["allow_retry"] is True
    assert "restarting" in events[-1]["message"]
    thread_id = events[0]["thread"]["id"]
    seen = text_of(events)
    assert seen and not seen.endswith("end.")

    restarted = serve(db, tmp_path)
    try:
        thread = httpx.post(
            f"{restarted.url}/chatkit",
            content=json.dumps({"type": "threads.get_by_id", "params": {"thread_id": thread_id}}),
            timeout=10,
        ).json()
        items = thread["items"]["data"]
        assert [item["type"] for item in items] == ["user_message", "assistant_message"]
        assert items[1]["content"][0]["text"] == seen
    finally:
        restarted.stop()
