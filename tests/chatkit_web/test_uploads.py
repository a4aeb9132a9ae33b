"""Uploads: bytes streamed to storage under caps, declared sizes, once-only expiring URLs, MIME types."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from chatkit_proto.attachment_limits import AttachmentLimits
from chatkit_proto.attachments import FileAttachment
from chatkit_proto.context import RequestContext
from chatkit_web import Config, create_app
from chatkit_web.services import Services

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = Config(app="tests.chatkit_web.apps:fast_app", store="memory", data_dir=str(tmp_path))
    with TestClient(create_app(config, env={})) as client:
        yield client


def services(client: TestClient) -> Services:
    found: Services = client.app.state.services  # type: ignore[attr-defined]
    return found


def stored_files(client: TestClient) -> list[Path]:
    root = services(client).attachments.files.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def protocol(client: TestClient, type_: str, **params: object) -> dict[str, object]:
    response = client.post("/chatkit", content=json.dumps({"type": type_, "params": params}))
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


def create(client: TestClient, size: int, mime_type: str = "text/plain") -> dict[str, str]:
    record = protocol(client, "attachments.create", name="a.txt", size=size, mime_type=mime_type)
    assert record["status"] == 200, record
    descriptor = record["upload_descriptor"]
    assert isinstance(descriptor, dict)
    return {"id": str(record["id"]), "url": descriptor["url"], **descriptor["headers"]}


def upload(client: TestClient, grant: dict[str, str], content: bytes) -> httpx.Response:
    headers = {"x-upload-token": grant["x-upload-token"]}
    return client.post(grant["url"], content=content, headers=headers)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]


def test_direct_upload_stores_the_bytes_and_answers_the_record(client: TestClient) -> None:
    response = client.post("/chatkit/upload", files={"file": ("cat.png", PNG, "image/png")})
    assert response.status_code == 200
    record = response.json()
    assert record["type"] == "image" and record["name"] == "cat.png"
    assert [p.read_bytes() for p in stored_files(client)] == [PNG]
    preview = client.get(record["preview_url"])
    assert preview.content == PNG and preview.headers["content-disposition"].startswith("inline")


@pytest.mark.parametrize("chunked", [False, True])
def test_direct_upload_over_the_cap_is_413_and_leaves_nothing(
    client: TestClient, chunked: bool
) -> None:
    services(client).attachments.limits = AttachmentLimits(max_bytes=1000)
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + b"x" * 5000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content = iter([body[i : i + 700] for i in range(0, len(body), 700)]) if chunked else body
    response = client.post(
        "/chatkit/upload",
        content=content,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_error(response, 413, "payload_too_large")
    assert stored_files(client) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\nhi\r\n--B--\r\n',
        ),
        (
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="file"\r\n\r\ntrunc',
        ),
        ("multipart/form-data; boundary=B", b"--X\r\ngarbage\r\n\r\n"),
        ("multipart/form-data; boundary=B", b"--B\r\nno colon here\r\n\r\nx\r\n--B--\r\n"),
        ("multipart/form-data", b"--B\r\n"),
        ("text/plain", b"hello"),
        ("multipart/form-data; boundary=" + "b" * 71, b"--"),
    ],
)
def test_malformed_or_fileless_multipart_is_400_json(
    client: TestClient, content_type: str, body: bytes
) -> None:
    response = client.post("/chatkit/upload", content=body, headers={"content-type": content_type})
    assert_error(response, 400, "invalid_request")
    assert stored_files(client) == []


def test_a_part_type_that_is_not_a_mime_type_is_refused(client: TestClient) -> None:
    response = client.post("/chatkit/upload", files={"file": ("a", b"x", "not a type")})
    assert_error(response, 400, "invalid_request")


def test_svg_with_parameters_is_never_served_inline(client: TestClient) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = client.post(
        "/chatkit/upload", files={"file": ("x.svg", svg, "image/svg+xml; charset=utf-8")}
    )
    assert response.status_code == 200
    served = client.get(response.json()["preview_url"])
    assert served.content == svg
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize("mime_type", ["text/plain\r\nX-Evil: 1", "text/plain\n", "image/\x00png"])
def test_attachments_create_refuses_a_mime_type_with_control_characters(
    client: TestClient, mime_type: str
) -> None:
    record = protocol(client, "attachments.create", name="a", size=1, mime_type=mime_type)
    assert record["status"] == 400 and record["code"] == "invalid_request"


def test_a_stored_record_with_a_broken_type_downloads_as_bytes(client: TestClient) -> None:
    ctx = RequestContext(user_id="local", base_url="http://testserver")
    hosted = services(client).attachments
    record = FileAttachment(id="atc_legacy", name="a.txt", mime_type="text/plain\r\nX-Evil: 1")
    assert client.portal is not None
    client.portal.call(services(client).store.save_attachment, record, ctx)
    client.portal.call(hosted.files.write, "local", "atc_legacy", b"old")
    served = client.get(hosted.download_url("local", "atc_legacy", "http://testserver"))
    assert served.status_code == 200 and served.content == b"old"
    assert served.headers["content-type"] == "application/octet-stream"
    assert "x-evil" not in served.headers


def test_two_phase_upload_must_match_the_declared_size(client: TestClient) -> None:
    grant = create(client, 10)
    assert_error(upload(client, grant, b"x" * 5000), 413, "payload_too_large")
    assert_error(upload(client, grant, b"x" * 5), 400, "invalid_request")
    assert stored_files(client) == []
    done = upload(client, grant, b"0123456789")
    assert done.status_code == 200 and "upload_descriptor" not in done.json()
    assert [p.read_bytes() for p in stored_files(client)] == [b"0123456789"]


def test_two_phase_upload_works_once(client: TestClient) -> None:
    grant = create(client, 5)
    assert upload(client, grant, b"first").status_code == 200
    assert_error(upload(client, grant, b"again"), 409, "conflict")
    assert [p.read_bytes() for p in stored_files(client)] == [b"first"]


def test_two_phase_upload_accepts_a_multipart_file_part(client: TestClient) -> None:
    grant = create(client, 5)
    response = client.post(
        grant["url"],
        files={"file": ("a.txt", b"hello", "text/plain")},
        headers={"x-upload-token": grant["x-upload-token"]},
    )
    assert response.status_code == 200
    assert [p.read_bytes() for p in stored_files(client)] == [b"hello"]


def test_an_expired_upload_url_is_404(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    hour_and_a_bit = 3700
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - hour_and_a_bit)
    grant = create(client, 5)
    monkeypatch.setattr(time, "time", real)
    assert_error(upload(client, grant, b"hello"), 404, "not_found")


@pytest.mark.parametrize(
    ("old", "new"), [("size=5", "size=50"), ("expires=", "expires=9"), ("owner=local", "owner=x")]
)
def test_an_altered_upload_url_is_404(client: TestClient, old: str, new: str) -> None:
    grant = create(client, 5)
    grant["url"] = grant["url"].replace(old, new)
    assert_error(upload(client, grant, b"hello"), 404, "not_found")
