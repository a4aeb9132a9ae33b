"""Where attachment bytes live: the `AttachmentFiles` interface, and a directory on disk."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Protocol

import anyio

WRITE_BATCH_BYTES = 1024 * 1024


class AttachmentFiles(Protocol):
    """The bytes of attachments by (owner, attachment id); another owner's id is unknown."""

    async def write(self, owner: str, attachment_id: str, data: bytes) -> None:
        """Store the bytes of an attachment, replacing any stored before."""
        ...

    async def write_stream(
        self,
        owner: str,
        attachment_id: str,
        chunks: AsyncIterable[bytes],
        *,
        replace: bool = True,
    ) -> int:
        """Store bytes as they arrive; with `replace=False` raise `FileExistsError` if stored."""
        ...

    async def read(self, owner: str, attachment_id: str) -> bytes | None:
        """The stored bytes; None when there are none."""
        ...

    async def delete(self, owner: str, attachment_id: str) -> None:
        """Delete the stored bytes, if any."""
        ...

    async def exists(self, owner: str, attachment_id: str) -> bool:
        """Whether bytes have been stored for the attachment."""
        ...


class LocalFiles:
    """Keeps the bytes of each attachment in a file named by hashes of owner and id.

    Names are hashed so that no user input ever forms a path. Several processes may share
    the directory (on one host, or a shared volume): writes are atomic renames.
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

    async def write_stream(
        self,
        owner: str,
        attachment_id: str,
        chunks: AsyncIterable[bytes],
        *,
        replace: bool = True,
    ) -> int:
        """Store bytes as they arrive and return their count; the file appears whole or not at all.

        A failure of `chunks` (a size cap, a timeout, a disconnect) removes the partial file.
        With `replace=False`, bytes already stored stay and `FileExistsError` is raised.
        """
        path = self.path(owner, attachment_id)
        await anyio.to_thread.run_sync(lambda: path.parent.mkdir(parents=True, exist_ok=True))
        # A name of its own, so two uploads of one attachment never share a partial file.
        partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")
        try:
            async with await anyio.open_file(partial, "xb") as out:
                size = await _copy(chunks, out)
            await anyio.to_thread.run_sync(_commit, partial, path, replace)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: partial.unlink(missing_ok=True))
            raise
        return size

    async def read(self, owner: str, attachment_id: str) -> bytes | None:
        """The stored bytes; None when there are none."""
        return await anyio.to_thread.run_sync(_read, self.path(owner, attachment_id))

    async def delete(self, owner: str, attachment_id: str) -> None:
        """Delete the stored bytes, if any."""
        path = self.path(owner, attachment_id)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def exists(self, owner: str, attachment_id: str) -> bool:
        """Whether bytes have been stored for the attachment."""
        return await anyio.to_thread.run_sync(self.path(owner, attachment_id).exists)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of this write's own: two writers of one attachment never share a partial file.
    partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


async def _copy(chunks: AsyncIterable[bytes], out: anyio.AsyncFile[bytes]) -> int:
    """Write `chunks` in batches (one thread hop per MiB, not per network read)."""
    size = 0
    batch: list[bytes] = []
    pending = 0
    async for chunk in chunks:
        size += len(chunk)
        batch.append(chunk)
        pending += len(chunk)
        if pending >= WRITE_BATCH_BYTES:
            await out.write(b"".join(batch))
            batch.clear()
            pending = 0
    if batch:
        await out.write(b"".join(batch))
    return size


def _commit(partial: Path, path: Path, replace: bool) -> None:
    if replace:
        os.replace(partial, path)
        return
    # A hard link fails if the name exists: the first complete upload wins, atomically.
    os.link(partial, path)
    partial.unlink()
