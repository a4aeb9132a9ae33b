"""Reading the JSON files an app is configured with (model scripts, MCP servers)."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path


def read_json(path: str | PathLike[str], error: type[ValueError]) -> object:
    """Parse a JSON file; any problem raises `error`, naming the file and the position only."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{source}: cannot read the file: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # A JSON error's message quotes no input; a config file may hold secrets.
        raise error(
            f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
