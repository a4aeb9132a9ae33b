"""A transcript recorded from an app replays against that app, given the app's id rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chatkit_conformance import load_request_script, record_transcript, replay_transcripts
from chatkit_conformance.launcher import server_argv
from chatkit_conformance.normalise import Normaliser
from chatkit_conformance.transcript import NormaliseRules, write_transcript

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[2]


def _command(data_dir: Path) -> str:
    # A bare `python`: the launcher runs it with this interpreter.
    return (
        f"python {ROOT / 'server.py'} --app tasks --store memory --port {{port}} "
        f"--data-dir {data_dir}"
    )


def test_a_bare_python_is_the_running_interpreter() -> None:
    assert server_argv("python s.py --port {port}", 5, "x")[:1] == [sys.executable]
    assert server_argv("{python} s.py", 5, "x")[:1] == [sys.executable]
    assert server_argv("/usr/bin/env python", 5, "x")[0] == "/usr/bin/env"


def test_id_patterns_number_ids_inside_widgets_and_text() -> None:
    rules = NormaliseRules(id_patterns=["task_[0-9a-f]{4}"], id_keys=["ref"])
    normaliser = Normaliser(rules=rules)
    document = {
        "widget": {"payload": {"task_id": "task_ab12", "ref": "r-1"}},
        "text": "Marked task_ab12 as done",
    }
    normaliser.collect(document)
    assert normaliser.apply(document) == {
        "widget": {"payload": {"task_id": "<id:1>", "ref": "<id:2>"}},
        "text": "Marked <id:1> as done",
    }


def test_bad_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        NormaliseRules(id_patterns=["task_("])


def test_a_tasks_app_transcript_replays_against_the_tasks_app(tmp_path: Path) -> None:
    script = load_request_script(DATA / "tasks_app_script.json")
    transcript = record_transcript(script, server_cmd=_command(tmp_path / "record"))
    assert transcript.normalise == script.normalise
    recorded = tmp_path / "tasks_app.json"
    write_transcript(transcript, recorded)

    report = replay_transcripts([recorded], server_cmd=_command(tmp_path / "replay"))
    assert report.lines()[-1] == "1 passed, 0 failed"

    document = json.loads(recorded.read_text())
    del document["normalise"]
    without_rules = tmp_path / "without_rules.json"
    without_rules.write_text(json.dumps(document))
    report = replay_transcripts([without_rules], server_cmd=_command(tmp_path / "again"))
    assert report.lines()[-1] == "0 passed, 1 failed"
