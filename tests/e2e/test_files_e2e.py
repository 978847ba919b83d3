"""The Files API end to end: Envoy + sidecar + Redis, through the official SDK and raw HTTP.

Uploads stream through Envoy's `openresponses.uploads` filter into the sidecar, which
writes the blob under the stack's data dir; nothing about files ever reaches the backend.
"""

from __future__ import annotations

import os
import socket
import time

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder
from support.harness import Stack, wait_until
from support.vector_fixtures import blob_path, new_key, stored_paths

OPENAI_FILE_REQUIRED = {"id", "object", "bytes", "created_at", "filename", "purpose", "status"}
BOUNDARY = "gw-test-boundary"
MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def multipart(parts: list[tuple[str, bytes, str | None]], close: bool = True) -> bytes:
    """A multipart/form-data body of (field name, value, filename or None) parts."""
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    return out + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def test_upload_retrieve_content_delete(
    stack: Stack, client: openai.OpenAI, http: httpx.Client
) -> None:
    data = os.urandom(3000) + b"\x00end"
    before = int(time.time())
    created = client.files.create(file=("report.bin", data), purpose="user_data")
    assert created.id.startswith("file-")
    assert (created.object, created.bytes, created.filename) == ("file", len(data), "report.bin")
    assert (created.purpose, created.status, created.expires_at) == ("user_data", "processed", None)
    assert before <= created.created_at <= int(time.time())
    raw = http.get(f"/files/{created.id}").json()
    assert raw.keys() >= OPENAI_FILE_REQUIRED
    # Fields without a value are left out, not null (the document allows only absence).
    assert raw == created.model_dump(exclude_none=True)
    assert "expires_at" not in raw and "status_details" not in raw
    assert client.files.retrieve(created.id) == created
    content = http.get(f"/files/{created.id}/content")
    assert content.headers["content-type"] == "application/octet-stream"
    assert content.content == data == client.files.content(created.id).read()
    blob = blob_path(stack, created.id)
    assert blob.read_bytes() == data

    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    assert not blob.exists()
    for call in (client.files.retrieve, client.files.content, client.files.delete):
        with pytest.raises(openai.NotFoundError):
            call(created.id)


def test_list_filters_pages_and_orders(own_client: openai.OpenAI) -> None:
    purposes = ["assistants", "user_data", "assistants", "batch"]
    ids = [
        own_client.files.create(file=(f"f{i}.txt", b"x"), purpose=p).id
        for i, p in enumerate(purposes)
    ]
    assert [f.id for f in own_client.files.list()] == ids[::-1]  # newest first by default
    assert [f.id for f in own_client.files.list(order="asc")] == ids
    assert [f.id for f in own_client.files.list(purpose="assistants")] == [ids[2], ids[0]]
    first = own_client.files.list(limit=2)
    assert ([f.id for f in first.data], first.has_more) == (ids[:1:-1], True)
    rest = own_client.files.list(limit=2, after=ids[2])
    assert ([f.id for f in rest.data], rest.has_more) == ([ids[1], ids[0]], False)
    page = own_client.files.list(order="asc", after=ids[1], limit=1)
    assert ([f.id for f in page.data], page.has_more) == ([ids[2]], True)
    assert [f.id for f in own_client.files.list(limit=1)] == ids[::-1]  # the SDK follows `after`
    for bad in ({"limit": 0}, {"limit": 10001}, {"order": "up"}):
        with pytest.raises(openai.BadRequestError):
            own_client.files.list(**bad)  # type: ignore[arg-type]


def test_expires_after(client: openai.OpenAI) -> None:
    for seconds in (3600, 2592000):
        f = client.files.create(
            file=("e.txt", b"e"),
            purpose="assistants",
            expires_after={"anchor": "created_at", "seconds": seconds},
        )
        assert f.expires_at == f.created_at + seconds
        assert client.files.retrieve(f.id).expires_at == f.expires_at
    for expiry in (
        {"anchor": "created_at", "seconds": 3599},
        {"anchor": "created_at", "seconds": 2592001},
        {"anchor": "last_active_at", "seconds": 3600},
    ):
        with pytest.raises(openai.BadRequestError) as error:
            client.files.create(
                file=("e.txt", b"e"),
                purpose="assistants",
                expires_after=expiry,  # type: ignore[arg-type]
            )
        assert error.value.code == "invalid_value"


PURPOSE = ("purpose", b"assistants", None)
FILE = ("file", b"y" * 5000, "a.txt")
JSON = {"content-type": "application/json"}
BAD_UPLOADS = {
    "bad purpose": (multipart([("purpose", b"nonsense", None), FILE]), MULTIPART, "invalid_value"),
    "no file": (multipart([PURPOSE]), MULTIPART, "missing_required_parameter"),
    "no purpose": (multipart([FILE]), MULTIPART, "missing_required_parameter"),
    "json": (b'{"purpose": "assistants"}', JSON, "invalid_content_type"),
    "no boundary": (b"", {"content-type": "multipart/form-data"}, "invalid_content_type"),
    "unclosed": (multipart([PURPOSE, FILE], close=False), MULTIPART, "invalid_multipart"),
    "cut in the file": (multipart([PURPOSE, FILE])[:3000], MULTIPART, "invalid_multipart"),
    "not multipart": (b"no boundary here " * 200, MULTIPART, "invalid_multipart"),
    "two files": (multipart([PURPOSE, FILE, FILE]), MULTIPART, "invalid_multipart"),
}


@pytest.mark.parametrize(("body", "headers", "code"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_bad_uploads_are_400_and_leave_nothing(
    stack: Stack, http: httpx.Client, body: bytes, headers: dict[str, str], code: str
) -> None:
    before = stored_paths(stack)
    response = http.post("/files", content=body, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", code)
    assert stored_paths(stack) == before  # no blob, no `.part`


def test_client_gone_mid_upload_leaves_nothing(stack: Stack) -> None:
    before = stored_paths(stack)
    head = multipart([("purpose", b"assistants", None), ("file", b"", "cut.bin")])[:-20]
    request = (
        f"POST /v1/files HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {new_key()}\r\n"
        f"content-type: {MULTIPART['content-type']}\r\ncontent-length: 900000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", stack.port)) as connection:
        connection.sendall(request + head + b"q" * 300_000)
        # The sidecar is writing the partial blob: the upload is really under way.
        wait_until(lambda: any(p.endswith(".part") for p in stored_paths(stack)), 20, ".part")
    wait_until(lambda: stored_paths(stack) == before, 20, "the partial blob removed")


def test_backend_never_sees_files_requests(
    client: openai.OpenAI, http: httpx.Client, recorder: BackendRecorder
) -> None:
    f = client.files.create(file=("b.txt", b"backend must not see this"), purpose="assistants")
    client.files.list(limit=5)
    client.files.retrieve(f.id)
    client.files.content(f.id).read()
    client.files.delete(f.id)
    http.get("/files/file-missing")
    http.post("/files", content=b"{}", headers={"content-type": "application/json"})
    http.post("/files", content=multipart([("file", b"x", "a")], close=False), headers=MULTIPART)
    assert [r.path for r in recorder.requests if "/files" in r.path] == []


def test_large_upload_round_trips(stack: Stack, client: openai.OpenAI) -> None:
    data = os.urandom(64 << 20)
    created = client.files.create(file=("large.bin", data), purpose="user_data")
    assert created.bytes == len(data)
    assert blob_path(stack, created.id).stat().st_size == len(data)
    assert client.files.content(created.id).read() == data
    client.files.delete(created.id)
