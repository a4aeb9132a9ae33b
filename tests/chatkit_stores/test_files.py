"""One suite for every `AttachmentFiles`: a directory on disk, and the PostgreSQL database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkit_stores import AttachmentFiles, LocalFiles, PostgresFiles, PostgresStore


@pytest.fixture(params=["local", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each kind of attachment storage (PostgreSQL only where it is configured)."""
    if request.param == "postgres":
        request.getfixturevalue("pg_schema")
    return str(request.param)


@pytest.fixture
async def files(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AttachmentFiles]:
    """Empty attachment storage of the backend."""
    if backend == "local":
        yield LocalFiles(tmp_path / "attachments")
        return
    store = PostgresStore(
        request.getfixturevalue("pg_dsn"), schema=request.getfixturevalue("pg_schema")
    )
    await store.open()
    yield PostgresFiles(store)
    await store.close()


async def test_written_bytes_read_back_until_deleted(files: AttachmentFiles) -> None:
    data = bytes(range(256)) * 1000
    assert await files.read("alice", "atc_1") is None
    assert await files.exists("alice", "atc_1") is False
    await files.write("alice", "atc_1", data)
    assert await files.read("alice", "atc_1") == data
    assert await files.exists("alice", "atc_1") is True
    await files.write("alice", "atc_1", b"replaced")
    assert await files.read("alice", "atc_1") == b"replaced"
    await files.delete("alice", "atc_1")
    assert await files.read("alice", "atc_1") is None
    await files.delete("alice", "atc_1")


async def test_another_owners_id_is_unknown(files: AttachmentFiles) -> None:
    await files.write("alice", "atc_1", b"alice's")
    assert await files.read("bob", "atc_1") is None
    await files.delete("bob", "atc_1")
    assert await files.read("alice", "atc_1") == b"alice's"
    await files.write("bob", "atc_1", b"bob's")
    assert await files.read("alice", "atc_1") == b"alice's"


async def test_empty_attachments_are_kept(files: AttachmentFiles) -> None:
    await files.write("alice", "atc_1", b"")
    assert await files.read("alice", "atc_1") == b""
    assert await files.exists("alice", "atc_1") is True


def test_local_names_never_come_from_user_input(tmp_path: Path) -> None:
    path = LocalFiles(tmp_path).path("../../etc", "../passwd")
    assert path.parent.parent == tmp_path and ".." not in path.parts
