"""What an app factory is given to build its app: model, store, data directory, tools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chatkit_proto.store.base import Store
from chatkit_proto.store.records import MemoryRecords, RecordStore


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Everything `server.py` knows that an app may need to build itself.

    `records` is where an app keeps data of its own (a to-do list, preferences): on the
    database of `store`, whichever that is, so every server process sees the same records.
    """

    store: Store
    data_dir: Path
    model_script: Path | None = None
    mcp_config: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    records: RecordStore = field(default_factory=MemoryRecords)
