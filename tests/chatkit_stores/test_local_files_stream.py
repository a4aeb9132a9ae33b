"""`LocalFiles.write_stream`: bytes as they arrive, a whole file or none, first upload wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkit_stores import files as files_module
from chatkit_stores.files import LocalFiles


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for index, part in enumerate(parts):
        if index == fail_after:
            raise RuntimeError("the client went away")
        yield part


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_streamed_bytes_land_whole_and_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_module, "WRITE_BATCH_BYTES", 4)
    store = LocalFiles(tmp_path)
    size = await store.write_stream("u", "atc_1", chunks(b"ab", b"cde", b"", b"fghij"))
    assert size == 10
    assert store.path("u", "atc_1").read_bytes() == b"abcdefghij"
    assert all_files(tmp_path) == [store.path("u", "atc_1")]


async def test_a_failing_stream_leaves_no_file(tmp_path: Path) -> None:
    store = LocalFiles(tmp_path)
    with pytest.raises(RuntimeError):
        await store.write_stream("u", "atc_1", chunks(b"a" * 100, b"b", fail_after=1))
    assert all_files(tmp_path) == []


async def test_a_failing_stream_keeps_the_bytes_already_stored(tmp_path: Path) -> None:
    store = LocalFiles(tmp_path)
    await store.write("u", "atc_1", b"old")
    with pytest.raises(RuntimeError):
        await store.write_stream("u", "atc_1", chunks(b"new", b"!", fail_after=1))
    assert all_files(tmp_path) == [store.path("u", "atc_1")]
    assert store.path("u", "atc_1").read_bytes() == b"old"


async def test_without_replace_the_first_complete_upload_wins(tmp_path: Path) -> None:
    store = LocalFiles(tmp_path)
    await store.write_stream("u", "atc_1", chunks(b"first"), replace=False)
    with pytest.raises(FileExistsError):
        await store.write_stream("u", "atc_1", chunks(b"second"), replace=False)
    assert store.path("u", "atc_1").read_bytes() == b"first"
    assert all_files(tmp_path) == [store.path("u", "atc_1")]
    await store.write_stream("u", "atc_1", chunks(b"third"))
    assert store.path("u", "atc_1").read_bytes() == b"third"
