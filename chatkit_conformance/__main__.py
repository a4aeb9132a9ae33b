"""Command line: `python -m chatkit_conformance replay|record|normalise ...`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from .deviations import DeviationError
from .launcher import ServerStartError
from .normalise import normalise_transcript
from .record import DEFAULT_ENDPOINT, RecordError, record
from .replay import DEFAULT_TIMEOUT, ReplayReport, TranscriptResult, replay
from .transcript import TranscriptError, load_transcript, write_transcript


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "replay":
            return asyncio.run(_replay(args, out))
        if args.command == "record":
            return asyncio.run(_record(args, out))
        document = load_transcript(args.transcript).dump()
        out.write(json.dumps(normalise_transcript(document), indent=1, ensure_ascii=False) + "\n")
        return 0
    except (TranscriptError, DeviationError, RecordError, ServerStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chatkit_conformance",
        description="Replay and record ChatKit conformance transcripts (CONFORMANCE.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    play = commands.add_parser("replay", help="replay transcripts against a server")
    play.add_argument("paths", nargs="+", help="transcript files, or directories of *.json")
    _add_target(play)
    play.add_argument("--deviations", help="JSON file of declared deviations")
    play.add_argument("--verbose", "-v", action="store_true", help="show a full diff")

    rec = commands.add_parser("record", help="record a request script as a transcript")
    rec.add_argument("script", help="request script (or a transcript to record again)")
    _add_target(rec)
    rec.add_argument("--out", required=True, help="where to write the transcript")
    rec.add_argument("--model-script", help="model script for the server (and the transcript)")

    norm = commands.add_parser("normalise", help="print a transcript normalised")
    norm.add_argument("transcript")
    return parser


def _add_target(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="protocol URL of a running server (POST endpoint)")
    target.add_argument(
        "--server-cmd",
        help="command starting a fresh server per transcript; {port} and {script} are filled in",
    )
    parser.add_argument(
        "--endpoint",
        default=DEFAULT_ENDPOINT,
        help=f"protocol path of a --server-cmd server (default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="HTTP timeout in seconds"
    )


async def _replay(args: argparse.Namespace, out: TextIO) -> int:
    display = _Progress(out)

    def on_result(result: TranscriptResult) -> None:
        display.clear()
        for line in result.lines(verbose=args.verbose):
            out.write(line + "\n")
        out.flush()

    report: ReplayReport = await replay(
        args.paths,
        url=args.url,
        server_cmd=args.server_cmd,
        deviations=args.deviations,
        endpoint=args.endpoint,
        timeout=args.timeout,
        on_result=on_result,
        on_progress=display.show,
    )
    display.clear()
    for line in report.totals():
        out.write(line + "\n")
    return 0 if report.ok else 1


async def _record(args: argparse.Namespace, out: TextIO) -> int:
    transcript = await record(
        args.script,
        url=args.url,
        server_cmd=args.server_cmd,
        model_script=args.model_script,
        endpoint=args.endpoint,
        timeout=args.timeout,
    )
    write_transcript(transcript, args.out)
    out.write(f"wrote {args.out}: {len(transcript.exchanges)} exchanges\n")
    return 0


class _Progress:
    """A one-line progress display, shown only on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.active = out.isatty()
        self.shown = False

    def show(self, text: str) -> None:
        if self.active:
            self.out.write(f"\r\x1b[K{text}")
            self.out.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[K")
            self.shown = False


if __name__ == "__main__":
    sys.exit(main())
