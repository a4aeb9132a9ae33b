"""Attachment bytes on every store: served from the `AttachmentFiles`, gone with their thread."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chatkit_web import Config, create_app
from chatkit_web.config import LOCAL_USER
from chatkit_web.services import Services
from tests.chatkit_web.processes import user_input

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    """The application on each store, attachment bytes where that store keeps them."""
    store = {"memory": "memory", "sqlite": f"sqlite:///{tmp_path / 'chatkit.db'}"}.get(
        request.param
    )
    schema = "chatkit"
    if request.param == "postgres":
        store, schema = request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema")
    config = Config(
        store=store,
        db_schema=schema,
        app="tests.chatkit_web.held_app:create_app",
        data_dir=str(tmp_path / "data"),
    )
    with TestClient(create_app(config, env={})) as test_client:
        yield test_client


def post(client: TestClient, type_: str, **params: Any) -> Any:
    """A protocol request; the JSON answer, or the events of a stream."""
    answer = client.post("/chatkit", content=json.dumps({"type": type_, "params": params}))
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):
        return [json.loads(line[6:]) for line in answer.text.splitlines() if line[:6] == "data: "]
    return answer.json()


def upload(client: TestClient, name: str, data: bytes, mime_type: str) -> dict[str, Any]:
    """A direct upload's attachment record."""
    answer = client.post("/chatkit/upload", files={"file": (name, data, mime_type)})
    assert answer.status_code == 200, answer.text
    record: dict[str, Any] = answer.json()
    return record


def stored(client: TestClient, attachment_id: str) -> bool:
    """Whether the attachment's bytes are still kept, asked of the storage itself."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    files = services.attachments.files
    return bool(client.portal.call(files.exists, LOCAL_USER, attachment_id))  # type: ignore[union-attr]


def test_downloads_serve_the_stored_bytes_with_safe_headers(client: TestClient) -> None:
    image = upload(client, "cat.png", PNG, "image/png")
    preview = client.get(image["preview_url"])
    assert (preview.status_code, preview.content) == (200, PNG)
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert preview.headers["content-security-policy"] == "sandbox"
    assert preview.headers["content-disposition"] == 'inline; filename="cat.png"'


def test_a_non_image_is_an_attachment_and_its_name_is_encoded(client: TestClient) -> None:
    created = post(
        client, "attachments.create", name="résumé 1.txt", size=5, mime_type="text/plain"
    )
    descriptor = created["upload_descriptor"]
    put = client.post(descriptor["url"], content=b"hello", headers=descriptor["headers"])
    assert put.status_code == 200
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    url = services.attachments.download_url(LOCAL_USER, created["id"], "http://testserver")
    download = client.get(url)
    assert download.content == b"hello"
    assert download.headers["content-disposition"] == (
        "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%201.txt"
    )


def test_deleting_a_thread_deletes_its_attachments_bytes(client: TestClient) -> None:
    kept = upload(client, "kept.png", PNG, "image/png")
    first = upload(client, "first.png", PNG, "image/png")
    second = upload(client, "notes.txt", b"notes", "text/plain")
    stream = post(client, "threads.create", input=user_input("hi", [first["id"]]))
    thread_id = stream[0]["thread"]["id"]
    post(
        client,
        "threads.add_user_message",
        thread_id=thread_id,
        input=user_input("more", [second["id"]]),
    )
    assert client.get(first["preview_url"]).status_code == 200

    assert post(client, "threads.delete", thread_id=thread_id) == {}
    assert client.get(first["preview_url"]).status_code == 404
    assert not stored(client, first["id"]) and not stored(client, second["id"])
    # An attachment of no thread, or of another thread, stays.
    assert stored(client, kept["id"])
    assert client.get(kept["preview_url"]).content == PNG


def test_deleting_an_unknown_thread_still_answers_empty(client: TestClient) -> None:
    assert post(client, "threads.delete", thread_id="thr_missing") == {}


def test_preview_urls_are_signed_when_served_so_old_threads_keep_their_images(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = upload(client, "cat.png", PNG, "image/png")
    created = post(client, "threads.create", input=user_input("look", [record["id"]]))
    thread_id = created[0]["thread"]["id"]
    stored_url = created[1]["item"]["attachments"][0]["preview_url"]
    # Eight days later the URL signed at upload has expired; the one served now has not.
    later = time.time() + 8 * 24 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(stored_url).status_code == 404
    items = post(client, "items.list", thread_id=thread_id, order="asc")["data"]
    served_url = items[0]["attachments"][0]["preview_url"]
    assert served_url != stored_url
    preview = client.get(served_url)
    assert preview.status_code == 200 and preview.content == PNG
    thread = post(client, "threads.get_by_id", thread_id=thread_id)
    assert client.get(thread["items"]["data"][0]["attachments"][0]["preview_url"]).content == PNG
