"""HTTP requests for fuzzing the ASGI app: near-valid protocol bodies, raw bytes, multipart
bodies, methods, paths, queries and headers; and the check every answer must pass.

Shared by `test_fuzz_http.py` (a derandomized CI run) and `benchmarks/fuzz_http.py` (a long
run). Ids of threads and attachments that exist are drawn by index into `Known`, filled by
the caller once the app is up, so near-valid requests reach real records, not only 404s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chatkit_proto.codec import encode_body
from chatkit_proto.testing import strategies as S

PATHS = (
    "/chatkit", "/chatkit/api", "/chatkit/upload", "/chatkit/upload/{id}", "/chatkit/files/{id}",
    "/healthz", "/", "/chatkit/", "/chatkit/upload/", "/chatkit/files/{id}/x", "/chatkit/%00",
    "/chatkit/upload/..%2F..%2Fetc", "/nope",
)  # fmt: skip
METHODS = ("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE")
ORIGINS = (
    *([None] * 50), "http://testserver", "http://testserver:80", "https://evil.example", "null",
    "garbage://", "http://",
)  # fmt: skip
CONTENT_TYPES = (
    None, "application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=",
    "multipart/form-data; boundary=B", "application/x-www-form-urlencoded", "x/y; a=\"b",
    "multipart/mixed; boundary=B",
)  # fmt: skip
_WRONG_VALUES = (None, 0, -1, 2**63, 1.5, "x", "", True, [], {}, [1], {"type": 7}, "\u0000")

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
ids = st.one_of(S.ids, st.sampled_from(["", ".", "..", "thr_", "atc_", "%2e%2e", "a" * 300]))


@dataclass
class Known:
    """Ids of records that exist in the app under test, and signed URLs for them."""

    thread_ids: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def learn(self, response: httpx.Response) -> None:
        """Keep the ids of threads and attachments a response created (others get deleted)."""
        if response.status_code != 200 or not response.content:
            return
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            first = response.content.split(b"\n\n", 1)[0].removeprefix(b"data: ")
            event = json.loads(first) if first.startswith(b"{") else {}
            if event.get("type") == "thread.created":
                self.thread_ids.append(event["thread"]["id"])
            return
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        descriptor = body.get("upload_descriptor") if isinstance(body, dict) else None
        if isinstance(descriptor, dict):
            self.attachment_ids.append(body["id"])
            self.urls.append(descriptor["url"])
            self.tokens.append(descriptor["headers"]["x-upload-token"])

    def pick(self, kind: str, index: int, fallback: str) -> str:
        """One of the 8 newest known ids of a kind (the older may be deleted), or `fallback`."""
        pool: list[str] = getattr(self, kind)
        return pool[-1 - index % min(len(pool), 8)] if pool else fallback


@dataclass(frozen=True)
class Case:
    """One HTTP request, described before any id is filled in."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes | str
    id_index: int

    def send(self, client: TestClient, known: Known) -> httpx.Response:
        """Send the request, with `{id}` and `{known...}` markers filled from `known`."""
        path = self.path.replace("{id}", known.pick("attachment_ids", self.id_index, "atc_x"))
        body = self.body
        if isinstance(body, str):
            body = _fill(body, known, self.id_index).encode("utf-8", "surrogatepass")
        url = path + ("?" + urlencode(self.query) if self.query else "")
        if self.path == "{url}":
            url = known.pick("urls", self.id_index, "/chatkit/upload/atc_x")
        headers = [(k, _fill(v, known, self.id_index)) for k, v in self.headers]
        response = client.request(self.method, url, content=body, headers=headers)
        known.learn(response)
        return response


def _fill(text: str, known: Known, index: int) -> str:
    return (
        text.replace("{thread}", known.pick("thread_ids", index, "thr_x"))
        .replace("{attachment}", known.pick("attachment_ids", index, "atc_x"))
        .replace("{token}", known.pick("tokens", index, "0" * 64))
    )


def check(case: Case, response: httpx.Response) -> None:
    """No answer is a 5xx; every 4xx is the JSON error body with a `message`."""
    assert response.status_code < 500, (case, response.status_code, response.text[:300])
    if response.status_code < 400 or case.method == "HEAD":
        return
    assert response.headers.get("content-type") == "application/json", (case, response.headers)
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), (case, body)
    assert body["message"] and isinstance(body.get("code"), str), (case, body)


# --- Protocol bodies -----------------------------------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@st.composite
def near_valid_bodies(draw: st.DrawFn) -> str:
    """A valid request, its ids often swapped for real ones, then maybe one value broken."""
    body = json.loads(encode_body(draw(S.requests)))
    for path in _paths(body):
        aimed = path and path[-1] in ("thread_id", "attachment_id", "item_id")
        if aimed and draw(st.sampled_from([True, True, True, False])):
            marker = "{attachment}" if path[-1] == "attachment_id" else "{thread}"
            _at(body, path[:-1])[path[-1]] = marker
    paths = [p for p in _paths(body) if p]
    mutation = draw(st.sampled_from(["none", "none", "none", "drop", "retype", "type"]))
    if mutation != "none":
        path = draw(st.sampled_from(paths))
        parent = _at(body, path[:-1])
        if mutation == "drop":
            del parent[path[-1]]
        elif mutation == "retype":
            parent[path[-1]] = draw(st.sampled_from(_WRONG_VALUES))
        else:
            body["type"] = draw(st.one_of(header_text, st.sampled_from(list(S.REQUESTS))))
    return json.dumps(body, ensure_ascii=False)


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"null", b"[]", b'{"type":null}', b"\xff\xfe\x00", b"{}" * 1000]),
    S.json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
)


# --- Multipart bodies ----------------------------------------------------------------------


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """A content type and a multipart body: well-formed, or cut, or with a wrong boundary."""
    boundary = draw(st.sampled_from(["B", "----x", "a" * 70]))
    parts = draw(st.lists(_parts(), max_size=4))
    body = b"".join(b"--%s\r\n%s" % (boundary.encode(), part) for part in parts)
    body += b"--%s--\r\n" % boundary.encode()
    cut = draw(st.sampled_from(["whole", "whole", "cut", "boundary"]))
    if cut == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif cut == "boundary":
        body = body.replace(boundary.encode(), b"Z")
    return f"multipart/form-data; boundary={boundary}", body


@st.composite
def _parts(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(["file", "file", "x", ""]))
    disposition = f'form-data; name="{name}"'
    filename = draw(st.one_of(st.none(), header_text))
    if filename is not None:
        disposition += f'; filename="{filename}"'
    headers = f"Content-Disposition: {disposition}\r\n"
    mime = draw(st.sampled_from([None, "text/plain", "image/png", "image/svg+xml; charset=utf-8",
                                 "application/x-evil", "not a type", "text/plain; a=\"b"]))  # fmt: skip
    if mime is not None:
        headers += f"Content-Type: {mime}\r\n"
    if draw(st.booleans()):
        headers = draw(st.sampled_from(["", "garbage\r\n", "Content-Disposition: x\r\n"]))
    data = draw(st.binary(max_size=300))
    return headers.encode() + b"\r\n" + data + b"\r\n"


# --- Requests ------------------------------------------------------------------------------

_queries = st.lists(
    st.tuples(
        st.sampled_from(["owner", "expires", "sig", "size", "x"]),
        st.one_of(header_text, st.sampled_from(["local", "0", "-1", "99999999999999999999", "²"])),
    ),
    max_size=4,
).map(tuple)


@st.composite
def _headers(draw: st.DrawFn, content_type: str | None) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    origin = draw(st.sampled_from(ORIGINS))
    if origin is not None:
        headers.append(("origin", origin))
    if content_type is not None:
        headers.append(("content-type", content_type))
    if draw(st.booleans()):
        headers.append(("x-upload-token", draw(st.sampled_from(["{token}", "", "x"]))))
    extra = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["authorization", "accept-language", "x-custom", "accept"]),
                header_text,
            ),
            max_size=2,
        )
    )
    return (*headers, *extra)


@st.composite
def protocol_cases(draw: st.DrawFn) -> Case:
    """A POST to the protocol endpoint: near-valid or raw."""
    body = draw(st.one_of(near_valid_bodies(), near_valid_bodies(), raw_bodies))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    path = draw(st.sampled_from(["/chatkit", "/chatkit", "/chatkit/api"]))
    return Case("POST", path, (), draw(_headers(content_type)), body, draw(st.integers(0, 50)))


@st.composite
def upload_cases(draw: st.DrawFn) -> Case:
    """An upload, direct or two-phase, multipart or raw, to a real or made-up URL."""
    if draw(st.booleans()):
        content_type, body = draw(multipart_bodies())
    else:
        content_type, body = draw(st.sampled_from(CONTENT_TYPES)), draw(st.binary(max_size=300))
    path = draw(st.sampled_from(["/chatkit/upload", "{url}", "{url}", "/chatkit/upload/{id}"]))
    method = draw(st.sampled_from(["POST", "POST", "PUT"]))
    return Case(
        method, path, draw(_queries), draw(_headers(content_type)), body, draw(st.integers(0, 50))
    )


@st.composite
def any_route_cases(draw: st.DrawFn) -> Case:
    """Any method on any path, with odd queries, headers and bodies."""
    body = draw(st.one_of(raw_bodies, st.just(b"")))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    return Case(
        draw(st.sampled_from(METHODS)),
        draw(st.sampled_from(PATHS)),
        draw(_queries),
        draw(_headers(content_type)),
        body,
        draw(st.integers(0, 50)),
    )


cases = st.one_of(protocol_cases(), protocol_cases(), upload_cases(), any_route_cases())
"""Any fuzz case; protocol requests weighted double."""


def seed(client: TestClient, known: Known) -> None:
    """Create threads and attachments the fuzz can aim at."""
    create = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "seed"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    for _ in range(3):
        known.learn(client.post("/chatkit", content=json.dumps(create)))
    for size in (0, 5, 300):
        params = {"name": "a.txt", "size": size, "mime_type": "text/plain"}
        body = json.dumps({"type": "attachments.create", "params": params})
        known.learn(client.post("/chatkit", content=body))
    assert len(known.thread_ids) == 3 and len(known.attachment_ids) == 3
