"""The recorder and the replayer, against the small deterministic app in `fixed_app`."""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatkit_conformance import (
    Deviations,
    load_deviations,
    load_request_script,
    load_transcript,
    record_transcript,
    replay_transcripts,
)
from chatkit_conformance.__main__ import main
from chatkit_conformance.deviations import Deviation
from chatkit_conformance.transcript import write_transcript

from .fixed_app import build_app, serving

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[2]
FIXED_APP = Path(__file__).parent / "fixed_app.py"
SERVER_CMD = f"{sys.executable} {FIXED_APP} --port {{port}} --script {{script}}"


def record(name: str, out: Path) -> Path:
    """Record a request script from `data/` against a fresh in-process server."""
    script = load_request_script(DATA / f"{name}_script.json")
    with serving(build_app(script.script)) as base:
        transcript = record_transcript(script, url=f"{base}/chatkit")
    path = out / f"{name}.json"
    write_transcript(transcript, path)
    return path


def replay(*paths: Path, deviations: Deviations | None = None) -> Any:
    """Replay transcripts against one fresh in-process server."""
    script = load_transcript(paths[0]).script
    with serving(build_app(script)) as base:
        return replay_transcripts(paths, url=f"{base}/chatkit", deviations=deviations)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("recorded")
    return {name: record(name, out) for name in ("basic", "cancel")}


@pytest.fixture
def basic(recorded: dict[str, Path], tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A private copy of the basic transcript, to alter."""
    path = tmp_path / "basic.json"
    path.write_text(recorded["basic"].read_text())
    return json.loads(path.read_text()), path


def save(document: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_recorded_transcript_has_the_reference_shape(recorded: dict[str, Path]) -> None:
    document = json.loads(recorded["basic"].read_text())
    assert document["format"] == 1
    assert document["scenario"] == "basic"
    assert "chatkit-backend" in document["sdk"]
    assert document["script"]["turns"][1]["output"][0]["text"] == ["Second", " answer."]
    first, second = document["exchanges"][:2]
    assert list(first) == [
        "note",
        "request_template",
        "request",
        "status",
        "content_type",
        "headers",
        "events",
        "raw",
        "captures",
    ]
    assert "raw" not in second, "raw only on the first streaming exchange"
    assert second["request"]["params"]["thread_id"] == first["events"][0]["thread"]["id"]
    assert all("date" not in e["headers"] for e in document["exchanges"])
    malformed = document["exchanges"][7]
    assert malformed["request_template"] is None and malformed["request"] is None
    assert malformed["request_raw"].startswith('{"type": "threads.list"')
    assert malformed["status"] == 400
    renamed = document["exchanges"][5]["response"]["title"]
    assert renamed == f"Thread {first['events'][0]['thread']['id']}"


def test_record_then_replay_passes(recorded: dict[str, Path]) -> None:
    report = replay(recorded["basic"])
    assert report.lines() == ["PASS basic", "0 deviations", "1 passed, 0 failed"]
    assert report.ok


def test_disconnect_is_recorded_and_replayed(recorded: dict[str, Path]) -> None:
    transcript = load_transcript(recorded["cancel"])
    created, reloaded, _ = transcript.exchanges
    assert created.client_disconnected is True
    deltas = [
        e
        for e in created.events or []
        if e.get("update", {}).get("type", "").endswith("text_delta")
    ]
    assert [d["update"]["delta"] for d in deltas] == ["Once", " upon", " a"]
    assert created.raw is not None and created.raw.endswith('"delta":" a"}}\n\n')
    items = reloaded.response["items"]["data"]
    assert items[-1]["content"][0]["text"] == "Once upon a"
    assert replay(recorded["cancel"]).ok


def test_an_altered_delta_fails_with_exchange_and_path(basic: tuple[dict[str, Any], Path]) -> None:
    transcript, path = basic
    event = transcript["exchanges"][1]["events"][4]
    assert event["update"]["delta"] == "Second"
    event["update"]["delta"] = "Sec0nd"
    report = replay(save(transcript, path))
    assert not report.ok
    assert report.results[0].summary() == (
        'FAIL basic: exchange 1 (add a message): events[4].update.delta: expected "Sec0nd", got "Second"'
    )
    verbose = report.results[0].lines(verbose=True)
    assert '    -        "delta": "Sec0nd"' in verbose
    assert '    +        "delta": "Second"' in verbose
    assert report.lines()[-1] == "0 passed, 1 failed"


def test_a_declared_deviation_is_reported_and_checked(basic: tuple[dict[str, Any], Path]) -> None:
    transcript, path = basic
    # What the reference SDK answers for an unknown thread.
    unknown = transcript["exchanges"][8]
    unknown.update(status=500, content_type="text/plain; charset=utf-8")
    del unknown["response"]
    unknown["response_text"] = "Internal Server Error"
    save(transcript, path)
    declared = Deviation(
        id="D2",
        scenario="basic",
        exchange="unknown thread",
        reason="404 instead of 500",
        expect={
            "status": 404,
            "content_type": "application/json",
            "response": {"code": "not_found"},
        },
    )
    report = replay(path, deviations=Deviations([declared]))
    assert report.lines() == [
        "DEVIATION D2 basic#8 (unknown thread)",
        "PASS basic",
        "1 deviations",
        "1 passed, 0 failed",
    ]
    declared.expect.status = 400
    report = replay(path, deviations=Deviations([declared]))
    assert report.results[0].summary() == (
        "FAIL basic: exchange 8 (unknown thread): deviation D2: status: expected 400, got 404"
    )


def test_a_deviation_that_matches_the_reference_is_stale(
    basic: tuple[dict[str, Any], Path],
) -> None:
    _, path = basic
    declared = Deviation(id="D9", scenario="basic", exchange=9, reason="x", expect={"status": 204})
    report = replay(path, deviations=Deviations([declared]))
    assert report.results[0].summary() == (
        "FAIL basic: exchange 9 (delete the thread): "
        "matches the reference, not deviation D9 (stale deviation?)"
    )


def test_a_loose_deviation_that_also_matches_the_reference_is_reported(
    basic: tuple[dict[str, Any], Path],
) -> None:
    _, path = basic
    declared = Deviation(id="D0", scenario="basic", exchange=9, reason="x", expect={"status": 200})
    report = replay(path, deviations=Deviations([declared]))
    assert report.results[0].lines()[0] == (
        "DEVIATION D0 basic#9 (delete the thread); also matches the reference"
    )
    assert report.ok


def test_a_deviation_naming_no_exchange_fails_the_transcript(
    basic: tuple[dict[str, Any], Path],
) -> None:
    _, path = basic
    declared = Deviation(id="D1", scenario="basic", exchange=42, reason="x", expect={})
    report = replay(path, deviations=Deviations([declared]))
    assert report.results[0].summary() == "FAIL basic: deviation D1 names no exchange of basic: 42"


def test_a_capture_that_fails_stops_the_transcript(basic: tuple[dict[str, Any], Path]) -> None:
    transcript, path = basic
    transcript["exchanges"][3]["captures"] = {"cursor": ["response", "cursor"]}
    report = replay(save(transcript, path))
    assert report.results[0].summary() == (
        "FAIL basic: exchange 3 (items page 1): capture cursor: "
        '["response","cursor"]: no key \'cursor\' in an object'
    )
    assert [r.index for r in report.results[0].exchanges] == [0, 1, 2, 3]


def test_command_line_with_a_fresh_server_per_transcript(
    recorded: dict[str, Path], tmp_path: Path
) -> None:
    # The server runs as a child of a shell, so only killing the process group stops it.
    pid_file = tmp_path / "server.pid"
    command = f"sh -c '{SERVER_CMD} & echo $! > {pid_file}; wait'"
    out = io.StringIO()
    status = main(["replay", str(recorded["basic"]), "--server-cmd", command], out)
    assert (status, out.getvalue()) == (0, "PASS basic\n0 deviations\n1 passed, 0 failed\n")
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the server outlived the replay"


def test_command_line_failure_and_a_server_that_does_not_start(
    recorded: dict[str, Path], tmp_path: Path
) -> None:
    out = io.StringIO()
    command = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    status = main(["replay", str(recorded["basic"]), "--server-cmd", command], out)
    lines = out.getvalue().splitlines()
    assert status == 1
    assert lines[0].startswith("FAIL basic: the server exited with status 3 before answering")
    assert lines[-1] == "0 passed, 1 failed"


def test_command_line_record(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    model_script = tmp_path / "model.json"
    model_script.write_text(
        json.dumps({"turns": [{"output": [{"type": "message", "text": ["A", "B"]}]}]})
    )
    script = DATA / "basic_script.json"
    with serving(build_app(json.loads(model_script.read_text()))) as base:
        argv = ["record", str(script), "--url", f"{base}/chatkit", "--out", str(out)]
        assert main([*argv, "--model-script", str(model_script)], io.StringIO()) == 0
    transcript = load_transcript(out)
    assert transcript.script == json.loads(model_script.read_text())
    deltas = [
        e["update"]["delta"]
        for e in transcript.exchanges[0].events or []
        if "delta" in e.get("update", {})
    ]
    assert deltas == ["A", "B"]


def test_project_deviations_fit_the_reference_transcripts() -> None:
    deviations = load_deviations(ROOT / "fixtures" / "deviations.json")
    assert deviations.entries
    for scenario in {entry.scenario for entry in deviations.entries}:
        transcript = load_transcript(ROOT / "fixtures" / "reference" / f"{scenario}.json")
        notes = [None if e.is_observation else e.note for e in transcript.exchanges]
        assigned = deviations.assign(scenario, notes)
        for index, entry in assigned.items():
            reference = transcript.exchanges[index]
            assert (
                entry.expect.status != reference.status
                or entry.expect.response != reference.response
            )


def test_every_reference_transcript_loads_and_round_trips() -> None:
    for path in sorted((ROOT / "fixtures" / "reference").glob("*.json")):
        assert load_transcript(path).dump() == json.loads(path.read_text()), path.name


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting to be reaped does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
