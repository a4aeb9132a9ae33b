"""Attachment bytes in the PostgreSQL store's database, readable by every server process."""

from __future__ import annotations

from collections.abc import AsyncIterable

from .postgres import PostgresStore


class PostgresFiles:
    """An `AttachmentFiles` on the store's pool: bytes as `bytea` rows of `attachment_bytes`.

    Attachments are capped in size (20 MiB by default), so one row per attachment, read and
    written whole, costs less than large objects and needs no cleanup of its own.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def write(self, owner: str, attachment_id: str, data: bytes) -> None:
        """Store the bytes of an attachment, replacing any stored before."""
        await self._store.fetch(
            "INSERT INTO attachment_bytes (owner, id, data) VALUES ($1, $2, $3) "
            "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data",
            owner,
            attachment_id,
            data,
        )

    async def write_stream(
        self,
        owner: str,
        attachment_id: str,
        chunks: AsyncIterable[bytes],
        *,
        replace: bool = True,
    ) -> int:
        """Store bytes as they arrive and return their count; one row, written whole.

        The caller's iterator enforces the size cap as bytes arrive, so at most one
        attachment's worth is held before the row is written. With `replace=False`, bytes
        already stored stay and `FileExistsError` is raised.
        """
        data = bytearray()
        async for chunk in chunks:
            data.extend(chunk)
        conflict = "DO UPDATE SET data = excluded.data" if replace else "DO NOTHING"
        rows = await self._store.fetch(
            "INSERT INTO attachment_bytes (owner, id, data) VALUES ($1, $2, $3) "
            f"ON CONFLICT (owner, id) {conflict} RETURNING 1",
            owner,
            attachment_id,
            bytes(data),
        )
        if not rows:
            raise FileExistsError(attachment_id)
        return len(data)

    async def read(self, owner: str, attachment_id: str) -> bytes | None:
        """The stored bytes; None when there are none."""
        rows = await self._store.fetch(
            "SELECT data FROM attachment_bytes WHERE owner = $1 AND id = $2", owner, attachment_id
        )
        return bytes(rows[0]["data"]) if rows else None

    async def delete(self, owner: str, attachment_id: str) -> None:
        """Delete the stored bytes, if any."""
        await self._store.fetch(
            "DELETE FROM attachment_bytes WHERE owner = $1 AND id = $2", owner, attachment_id
        )

    async def exists(self, owner: str, attachment_id: str) -> bool:
        """Whether bytes have been stored for the attachment."""
        rows = await self._store.fetch(
            "SELECT 1 FROM attachment_bytes WHERE owner = $1 AND id = $2", owner, attachment_id
        )
        return bool(rows)
