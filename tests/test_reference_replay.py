"""Every reference transcript replayed against our server: in this process, and as `server.py`."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from chatkit_conformance.replay import replay, replay_transcripts
from chatkit_web import Config, create_app

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = sorted((ROOT / "fixtures" / "reference").glob("*.json"))
DEVIATIONS = ROOT / "fixtures" / "deviations.json"


@contextmanager
def in_process_server(script: dict, tmp_path: Path) -> Iterator[str]:
    """The conformance app under uvicorn on a thread of this process, on a free port."""
    script_path = tmp_path / "script.json"
    script_path.write_text(json.dumps(script))
    config = Config(
        app="conformance",
        store="memory",
        model_script=str(script_path),
        data_dir=str(tmp_path / "data"),
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config, env={}),
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server did not start")
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}/chatkit"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("path", REFERENCE, ids=[p.stem for p in REFERENCE])
def test_reference_transcript_in_process(path: Path, tmp_path: Path) -> None:
    script = json.loads(path.read_text())["script"]
    with in_process_server(script, tmp_path) as url:
        report = asyncio.run(replay([path], url=url, deviations=DEVIATIONS))
    assert report.ok, "\n".join(report.lines(verbose=True))


def test_reference_transcripts_against_server_py() -> None:
    command = (
        f"{sys.executable} {ROOT / 'server.py'} --app conformance --store memory "
        "--model-script {script} --port {port} --log-level WARNING"
    )
    report = replay_transcripts(REFERENCE, server_cmd=command, deviations=DEVIATIONS)
    assert report.ok, "\n".join(report.lines(verbose=True))
    assert report.passed == len(REFERENCE)
