"""The replayer: drive a server with reference transcripts and compare its answers."""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .client import media_type
from .compare import ABSENT, Difference, differences, mismatches
from .deviations import Deviation, DeviationError, Deviations, load_deviations
from .launcher import ServerStartError, launched_server
from .normalise import Normaliser, template_literals
from .templates import TemplateError
from .transcript import Exchange, Transcript, TranscriptError, load_transcript
from .wire import Step, perform

DEFAULT_ENDPOINT = "/chatkit"
DEFAULT_TIMEOUT = 30.0
# Frames are `data: <one line>` plus a blank line; D10 adds `: ping` comment lines.
_FRAMING = re.compile(r"(?:data: [^\r\n]*\n\n|:[^\r\n]*\n)*")
_MAX_LISTED_DIFFERENCES = 20
_MAX_DIFF_LINES = 200


@dataclass(slots=True)
class ExchangeResult:
    """How one exchange of a transcript fared."""

    index: int
    note: str
    problem: str | None = None
    """The first difference, as `path: expected X, got Y`; None when it passed."""
    deviation: Deviation | None = None
    matches_reference: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the answer was as expected (the reference, or a declared deviation)."""
        return self.problem is None


@dataclass(slots=True)
class TranscriptResult:
    """How one transcript fared."""

    name: str
    path: str
    exchanges: list[ExchangeResult] = field(default_factory=list)
    error: str | None = None
    """A failure that belongs to no exchange: unreadable file, server that did not start."""

    @property
    def passed(self) -> bool:
        """True when every exchange passed."""
        return self.error is None and all(result.passed for result in self.exchanges)

    @property
    def deviations(self) -> list[ExchangeResult]:
        """The exchanges that matched their declared deviation."""
        return [r for r in self.exchanges if r.deviation is not None and r.passed]

    def summary(self) -> str:
        """`PASS name`, or `FAIL name: exchange N (note): <first difference>`."""
        if self.passed:
            return f"PASS {self.name}"
        if self.error is not None:
            return f"FAIL {self.name}: {self.error}"
        first = next(r for r in self.exchanges if not r.passed)
        return f"FAIL {self.name}: exchange {first.index} ({first.note}): {first.problem}"

    def lines(self, *, verbose: bool = False) -> list[str]:
        """The report lines of this transcript: its deviations, then PASS/FAIL."""
        lines = []
        for result in self.deviations:
            assert result.deviation is not None
            also = "; also matches the reference" if result.matches_reference else ""
            label = result.deviation.label(result.index)
            lines.append(f"DEVIATION {label} ({result.note}){also}")
        lines.append(self.summary())
        if verbose:
            for result in self.exchanges:
                if not result.passed:
                    lines.append(f"  exchange {result.index} ({result.note}): {result.problem}")
                    lines.extend(f"    {line}" for line in result.details)
        return lines


@dataclass(slots=True)
class ReplayReport:
    """The outcome of a replay run."""

    results: list[TranscriptResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many transcripts passed."""
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        """How many transcripts failed."""
        return len(self.results) - self.passed

    @property
    def deviations(self) -> int:
        """How many exchanges matched a declared deviation."""
        return sum(len(result.deviations) for result in self.results)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.failed == 0

    def totals(self) -> list[str]:
        """The closing lines: the deviation count, then `N passed, N failed` on its own."""
        return [f"{self.deviations} deviations", f"{self.passed} passed, {self.failed} failed"]

    def lines(self, *, verbose: bool = False) -> list[str]:
        """The whole report as printed by the command line."""
        lines = [line for result in self.results for line in result.lines(verbose=verbose)]
        return lines + self.totals()


ResultHook = Callable[[TranscriptResult], None]
ProgressHook = Callable[[str], None]


def transcript_files(paths: Iterable[str | Path]) -> list[Path]:
    """The transcript files named: files as given, directories as their sorted `*.json`."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def replay_transcripts(
    paths: Iterable[str | Path],
    *,
    url: str | None = None,
    server_cmd: str | None = None,
    deviations: str | Path | Deviations | None = None,
    endpoint: str = DEFAULT_ENDPOINT,
    timeout: float = DEFAULT_TIMEOUT,
) -> ReplayReport:
    """Replay transcripts against `url`, or against a fresh `server_cmd` server for each."""
    return asyncio.run(
        replay(
            paths,
            url=url,
            server_cmd=server_cmd,
            deviations=deviations,
            endpoint=endpoint,
            timeout=timeout,
        )
    )


async def replay(
    paths: Iterable[str | Path],
    *,
    url: str | None = None,
    server_cmd: str | None = None,
    deviations: str | Path | Deviations | None = None,
    endpoint: str = DEFAULT_ENDPOINT,
    timeout: float = DEFAULT_TIMEOUT,
    on_result: ResultHook | None = None,
    on_progress: ProgressHook | None = None,
) -> ReplayReport:
    """The async form of `replay_transcripts`, with hooks for streaming output."""
    if (url is None) == (server_cmd is None):
        raise ValueError("give exactly one of url and server_cmd")
    declared = (
        deviations
        if isinstance(deviations, Deviations)
        else load_deviations(deviations)
        if deviations is not None
        else Deviations()
    )
    files = transcript_files(paths)
    report = ReplayReport()
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
        for number, path in enumerate(files, 1):

            def progress(text: str, number: int = number) -> None:
                if on_progress is not None:
                    on_progress(f"[{number}/{len(files)}] {text}")

            result = await _replay_file(path, http, url, server_cmd, endpoint, declared, progress)
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    return report


async def _replay_file(
    path: Path,
    http: httpx.AsyncClient,
    url: str | None,
    server_cmd: str | None,
    endpoint: str,
    declared: Deviations,
    progress: ProgressHook,
) -> TranscriptResult:
    try:
        transcript = load_transcript(path)
    except TranscriptError as exc:
        return TranscriptResult(path.stem, str(path), error=str(exc))
    result = TranscriptResult(transcript.scenario, str(path))
    notes = [None if e.is_observation else e.note for e in transcript.exchanges]
    try:
        assigned = declared.assign(transcript.scenario, notes)
    except DeviationError as exc:
        result.error = str(exc)
        return result
    server: AbstractAsyncContextManager[str] = (
        launched_server(server_cmd, transcript.script, endpoint=endpoint)
        if server_cmd is not None
        else nullcontext(url or "")
    )
    try:
        async with server as target:
            steps, failure = await _run(http, target, transcript, progress)
    except ServerStartError as exc:
        result.error = str(exc)
        return result
    result.exchanges = _judge(transcript, steps, assigned)
    if failure is not None:
        index, message = failure
        result.exchanges.append(ExchangeResult(index, transcript.exchanges[index].note, message))
    return result


async def _run(
    http: httpx.AsyncClient, url: str, transcript: Transcript, progress: ProgressHook
) -> tuple[dict[int, Step], tuple[int, str] | None]:
    """Perform the exchanges in order; stop at the first one that cannot be performed."""
    variables: dict[str, Any] = {}
    steps: dict[int, Step] = {}
    total = len(transcript.exchanges)
    for index, exchange in enumerate(transcript.exchanges):
        if exchange.is_observation:
            continue
        progress(f"{transcript.scenario}: exchange {index + 1}/{total}")
        try:
            steps[index] = await perform(http, url, exchange, variables)
        except TemplateError as exc:
            return steps, (index, str(exc))
        except httpx.HTTPError as exc:
            return steps, (index, f"request failed: {type(exc).__name__}: {exc}")
    return steps, None


def _judge(
    transcript: Transcript, steps: dict[int, Step], assigned: dict[int, Deviation]
) -> list[ExchangeResult]:
    """Compare every performed exchange with the transcript, after normalising both."""
    literals = template_literals(transcript.templates())
    rules = transcript.normalise
    expected_side, actual_side = Normaliser(literals, rules), Normaliser(literals, rules)
    # Ids are numbered over the exchanges compared with the reference first; a deviating
    # answer (an error instead of a stream) must not shift the numbers of later exchanges.
    for index in sorted(steps, key=lambda index: (index in assigned, index)):
        expected_side.collect(_projection(transcript.exchanges[index]))
        actual_side.collect(_answer_projection(steps[index]))
    results = []
    for index in sorted(steps):
        exchange, step = transcript.exchanges[index], steps[index]
        expected = expected_side.apply(_expected(exchange))
        actual = actual_side.apply(_actual(step, expected))
        result = ExchangeResult(index, exchange.note, deviation=assigned.get(index))
        found = list(differences(expected, actual))
        wire = _wire_problems(exchange, step)
        if result.deviation is None:
            _report(result, found + wire, expected, actual)
        else:
            _judge_deviation(result, result.deviation, step, actual_side, found, wire)
        if not step.settled:
            result.details.append("the cancellation was not visible within the wait")
        results.append(result)
    return results


def _judge_deviation(
    result: ExchangeResult,
    deviation: Deviation,
    step: Step,
    normaliser: Normaliser,
    against_reference: list[Difference],
    wire: list[Difference],
) -> None:
    pattern = deviation.expect.pattern()
    if "content_type" in pattern:
        pattern["content_type"] = media_type(pattern["content_type"])
    full = normaliser.apply(_actual(step, None))
    misses = list(mismatches(pattern, full)) + wire
    result.matches_reference = not against_reference and not wire
    if not misses:
        return
    if result.matches_reference:
        result.problem = f"matches the reference, not deviation {deviation.id} (stale deviation?)"
        return
    result.problem = f"deviation {deviation.id}: {misses[0].describe()}"
    result.details.append(f"deviation {deviation.id}: {deviation.reason}")
    result.details.extend(d.describe() for d in misses[:_MAX_LISTED_DIFFERENCES])
    result.details.extend(_unified(pattern, full, "declared deviation"))


def _report(result: ExchangeResult, found: list[Difference], expected: Any, actual: Any) -> None:
    if not found:
        return
    result.problem = found[0].describe()
    result.details.extend(d.describe() for d in found[:_MAX_LISTED_DIFFERENCES])
    if len(found) > _MAX_LISTED_DIFFERENCES:
        result.details.append(f"... {len(found) - _MAX_LISTED_DIFFERENCES} more differences")
    result.details.extend(_unified(expected, actual, "reference"))


def _projection(exchange: Exchange) -> dict[str, Any]:
    """The id-carrying parts of a transcript exchange that are compared."""
    projection: dict[str, Any] = {}
    if exchange.events is not None:
        projection["events"] = exchange.events
    if exchange.has_response:
        projection["response"] = exchange.response
    return projection


def _answer_projection(step: Step) -> dict[str, Any]:
    projection: dict[str, Any] = {}
    if step.answer.events is not None:
        projection["events"] = step.answer.events
    if step.answer.has_response:
        projection["response"] = step.answer.response
    return projection


def _expected(exchange: Exchange) -> dict[str, Any]:
    """What is compared: status, media type, and the events or JSON body the reference has."""
    return {
        "status": exchange.status,
        "content_type": media_type(exchange.content_type),
        **_projection(exchange),
    }


def _actual(step: Step, expected: dict[str, Any] | None) -> dict[str, Any]:
    """Our answer in the shape of `expected` (every part of it, when `expected` is None)."""
    answer = step.answer
    actual: dict[str, Any] = {
        "status": answer.status,
        "content_type": media_type(answer.content_type),
    }
    parts = _answer_projection(step)
    keys = expected.keys() - {"status", "content_type"} if expected is not None else parts.keys()
    for key in ("events", "response"):
        if key in keys:
            actual[key] = parts.get(key, ABSENT)
    return actual


def _wire_problems(exchange: Exchange, step: Step) -> list[Difference]:
    """What the JSON comparison cannot see: a cut-off stream, bad framing, no disconnect."""
    answer = step.answer
    problems = []
    if answer.transport_error and not exchange.transport_error:
        problems.append(Difference("transport_error", ABSENT, answer.transport_error))
    if exchange.client_disconnected and not answer.client_disconnected:
        problems.append(Difference("client_disconnected", True, False))
    if answer.raw is not None and not answer.transport_error and not _FRAMING.fullmatch(answer.raw):
        problems.append(Difference("raw", "only `data: <json>\\n\\n` frames", answer.raw[:200]))
    return problems


def _unified(expected: Any, actual: Any, label: str) -> list[str]:
    lines = list(
        difflib.unified_diff(
            _pretty(expected), _pretty(actual), f"expected ({label}, normalised)", "actual", n=3
        )
    )
    if len(lines) > _MAX_DIFF_LINES:
        lines = [*lines[:_MAX_DIFF_LINES], f"... {len(lines) - _MAX_DIFF_LINES} more lines"]
    return [line.rstrip("\n") for line in lines]


def _pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, ensure_ascii=False, default=repr).splitlines()


__all__ = [
    "ExchangeResult",
    "ReplayReport",
    "TranscriptResult",
    "replay",
    "replay_transcripts",
    "transcript_files",
]
