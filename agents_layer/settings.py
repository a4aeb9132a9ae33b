"""What an app factory is given to build its app: store, records, attachments, model, tools."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agents.models.interface import Model

from chatkit_proto.server import AttachmentStore
from chatkit_proto.store.base import Store
from chatkit_proto.store.records import MemoryRecords, RecordStore

from .offline_model import OfflineModel
from .providers import ModelChoice, create_model


@dataclass(frozen=True, slots=True)
class AppSettings:
    """Everything `server.py` knows that an app may need to build itself.

    `records` is where an app keeps data of its own (a to-do list, preferences): on the
    database of `store`, whichever that is, so every server process sees the same records.
    `attachment_store` keeps uploaded bytes behind this server's signed URLs.
    """

    store: Store
    data_dir: Path
    model_script: Path | None = None
    mcp_config: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    records: RecordStore = field(default_factory=MemoryRecords)
    attachment_store: AttachmentStore | None = None

    def model_choice(self) -> ModelChoice:
        """The configured model: a provider from `env`, the model script, or offline (None)."""
        script = str(self.model_script) if self.model_script else None
        return create_model(self.env, script_path=script)

    @property
    def model(self) -> Model:
        """The configured model for an agent; without a provider, the offline model."""
        return self.model_choice().model or OfflineModel()
