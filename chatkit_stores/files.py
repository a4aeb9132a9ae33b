"""Attachment bytes in a directory on disk, one folder per user."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import anyio


class LocalFiles:
    """Keeps the bytes of each attachment in a file named by hashes of owner and id.

    Names are hashed so that no user input ever forms a path.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, owner: str, attachment_id: str) -> Path:
        """Where the bytes of an attachment live."""
        folder = hashlib.sha256(owner.encode()).hexdigest()[:32]
        name = hashlib.sha256(attachment_id.encode()).hexdigest()[:32]
        return self.root / folder / name

    async def write(self, owner: str, attachment_id: str, data: bytes) -> None:
        """Store the bytes of an attachment, atomically."""
        path = self.path(owner, attachment_id)
        await anyio.to_thread.run_sync(_write_atomically, path, data)

    async def delete(self, owner: str, attachment_id: str) -> None:
        """Delete the stored bytes, if any."""
        path = self.path(owner, attachment_id)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    def exists(self, owner: str, attachment_id: str) -> bool:
        """Whether bytes have been stored for the attachment."""
        return self.path(owner, attachment_id).exists()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    os.replace(partial, path)
