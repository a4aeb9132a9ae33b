"""The server's own log handler, writing JSON lines into memory for a test to read."""

from __future__ import annotations

import io
import json


class CapturedLog:
    """What `configure_logging("DEBUG", "json", stream=...)` wrote."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def entries(self) -> list[dict[str, object]]:
        """Every line so far, parsed."""
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def requests(self) -> list[dict[str, object]]:
        """The request lines so far."""
        return [entry for entry in self.entries() if entry["logger"] == "chatkit.request"]
