"""`python -m chatkit_conformance.schema [--output FILE]`: write the protocol's JSON Schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from chatkit_proto.schema import build_schema, render


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point: write the schema to `--output` or to stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m chatkit_conformance.schema",
        description="Write the JSON Schema (draft 2020-12) of the ChatKit wire protocol.",
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="file to write (default: standard output)"
    )
    args = parser.parse_args(argv)
    text = render(build_schema())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
