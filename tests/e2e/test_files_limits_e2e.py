"""Files on stacks of their own: upload limits, streaming memory, expiry, restarts."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
import redis
from support.fake_backend import BackendThread
from support.harness import Stack, wait_until
from support.served_bodies import checked_http
from support.vector_fixtures import blob_path, private_stack, sdk_for, stored_paths, wait_ingested

LIMIT = 1 << 20
BOUNDARY = "gw-limit-boundary"


@pytest.fixture(scope="module")
def tuned(backend: BackendThread) -> Iterator[Stack]:
    """Uploads capped at 1 MiB; the reaper runs every 0.2 s."""
    with private_stack(
        f"{backend.url}/v1", max_upload_bytes=str(LIMIT), file_reaper_interval_seconds="0.2"
    ) as stack:
        yield stack


@pytest.fixture
def tuned_redis(tuned: Stack) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(tuned.settings["redis_url"])
    yield connection
    connection.close()


def streamed_body(size: int, block: bytes) -> tuple[Iterator[bytes], int]:
    """A multipart upload of `size` bytes (whole blocks) generated as it is sent."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(size // len(block)):
            yield block
        yield tail

    return body(), len(head) + size + len(tail)


OWNER = {"authorization": "Bearer sk-limits"}  # the tenant post_upload stores files for


def post_upload(stack: Stack, body: Iterator[bytes], length: int | None) -> httpx.Response:
    headers = {
        **OWNER,
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    if length is not None:
        headers["content-length"] = str(length)
    with checked_http(stack.base_url, timeout=120) as raw:
        return raw.post("/files", content=body, headers=headers)


def test_over_the_limit_is_413_and_leaves_nothing(tuned: Stack) -> None:
    before = stored_paths(tuned)
    with sdk_for(tuned) as client:
        with pytest.raises(openai.APIStatusError) as error:
            client.files.create(file=("big.bin", b"b" * (LIMIT + 1)), purpose="assistants")
        assert error.value.status_code == 413
        assert error.value.code == "file_too_large"
        # Without a content-length the limit is found while streaming: same answer.
        body, _ = streamed_body(3 * LIMIT, b"c" * 65536)
        response = post_upload(tuned, body, None)
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "file_too_large"
        assert stored_paths(tuned) == before
        fits = client.files.create(file=("fits.bin", b"f" * (LIMIT - 4096)), purpose="assistants")
        assert fits.bytes == LIMIT - 4096
        assert stored_paths(tuned) == before | {str(blob_path(tuned, fits.id))}


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_upload_is_streamed_not_buffered(backend: BackendThread) -> None:
    # The sidecar's peak memory must not follow the upload's size: the upload route
    # limits Envoy's buffer to 1 MiB, so chunks are small and a fast client is held back
    # by backpressure. 200 MiB through it may grow the peak by a few tens of MiB at most.
    size = 200 << 20
    with private_stack(f"{backend.url}/v1") as fresh:
        assert fresh.sidecar.process is not None
        pid = fresh.sidecar.process.pid
        start = _peak_rss_kib(pid)
        body, length = streamed_body(size, os.urandom(1 << 20))
        response = post_upload(fresh, body, length)
        assert response.status_code == 200, response.text
        assert response.json()["bytes"] == size
        assert blob_path(fresh, response.json()["id"]).stat().st_size == size
        grown_mib = (_peak_rss_kib(pid) - start) / 1024
        assert grown_mib < 64, f"sidecar peak RSS grew {grown_mib:.0f} MiB"


def test_expired_files_are_hidden_then_reaped(tuned: Stack, tuned_redis: redis.Redis) -> None:
    with sdk_for(tuned) as client:
        keep = client.files.create(file=("keep.txt", b"kept apple"), purpose="assistants")
        doomed = client.files.create(
            file=("doomed.txt", b"doomed apple"),
            purpose="assistants",
            expires_after={"anchor": "created_at", "seconds": 3600},
        )
        store = client.vector_stores.create(file_ids=[keep.id, doomed.id])
        for f in (keep, doomed):
            assert wait_ingested(client, store.id, f.id).status == "completed"
        blob = blob_path(tuned, doomed.id)
        # Make the expiry due: the file record first (clients stop seeing it), then the
        # reaper's index, so the reaper cannot delete it before the record is rewritten.
        [key] = tuned_redis.scan_iter(match=f"or:*:f:{doomed.id}")
        record = json.loads(tuned_redis.get(key))  # type: ignore[arg-type]
        assert record["expires_at"] == doomed.expires_at
        record["expires_at"] = int(time.time()) - 1
        assert tuned_redis.set(key, json.dumps(record), xx=True)
        [member] = [
            m for m, _ in tuned_redis.zscan_iter("or:expiring-files") if doomed.id in str(m)
        ]
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(doomed.id)
        assert [f.id for f in client.files.list()] == [keep.id]
        assert blob.exists()  # hidden at once, deleted by the reaper
        assert tuned_redis.zadd(
            "or:expiring-files", {member: record["expires_at"]}, xx=True, ch=True
        )

        wait_until(lambda: not blob.exists(), 20, "the reaper deleting the blob")
        wait_until(lambda: not tuned_redis.exists(key), 20, "the file record deleted")
        assert tuned_redis.zscore("or:expiring-files", member) is None
        assert [f.id for f in client.vector_stores.files.list(store.id)] == [keep.id]
        assert client.vector_stores.retrieve(store.id).file_counts.total == 1
        hits = client.vector_stores.search(store.id, query="apple").data
        assert [h.file_id for h in hits] == [keep.id]
        assert client.files.retrieve(keep.id).id == keep.id


def test_files_survive_a_sidecar_restart(tuned: Stack) -> None:
    with sdk_for(tuned) as client:
        made = [
            client.files.create(file=(f"p{i}.bin", os.urandom(1000 + i)), purpose="user_data")
            for i in range(2)
        ]
        contents = [client.files.content(f.id).read() for f in made]
        tuned.restart_sidecar()
        assert [f.id for f in client.files.list(order="asc")] == [f.id for f in made]
        for f, content in zip(made, contents, strict=True):
            assert client.files.retrieve(f.id) == f
            assert client.files.content(f.id).read() == content


def test_download_is_streamed_not_buffered(backend: BackendThread) -> None:
    # The download is the processor's own streamed reply (no upstream): the blob is read
    # a piece at a time as Envoy takes it, so 200 MiB out must not grow the sidecar's peak
    # memory with the file, and a client that stops reading must not pile it up either.
    size = 200 << 20
    block = os.urandom(1 << 20)
    with private_stack(f"{backend.url}/v1") as fresh:
        assert fresh.sidecar.process is not None
        pid = fresh.sidecar.process.pid
        body, length = streamed_body(size, block)
        uploaded = post_upload(fresh, body, length)
        assert uploaded.status_code == 200, uploaded.text
        file_id = uploaded.json()["id"]
        start = _peak_rss_kib(pid)
        url = f"{fresh.base_url}/files/{file_id}/content"
        digest, received = hashlib.sha256(), 0
        downloads = checked_http(fresh.base_url, headers=OWNER, timeout=60)
        with downloads.stream("GET", url) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-length"] == str(size)
            for piece in response.iter_raw():
                digest.update(piece)
                received += len(piece)
        assert received == size
        expected = hashlib.sha256()
        for _ in range(size // len(block)):
            expected.update(block)
        assert digest.hexdigest() == expected.hexdigest()
        # A client that goes away after the first piece: the sidecar lets go, and the
        # next download is whole.
        with downloads.stream("GET", url) as response:
            next(response.iter_raw())
        again = downloads.get(url)
        downloads.close()
        assert len(again.content) == size
        grown_mib = (_peak_rss_kib(pid) - start) / 1024
        assert grown_mib < 64, f"sidecar peak RSS grew {grown_mib:.0f} MiB"


def test_an_empty_file_downloads_empty(tuned: Stack) -> None:
    body, length = streamed_body(0, b"x")
    uploaded = post_upload(tuned, body, length)
    assert uploaded.status_code == 200, uploaded.text
    url = f"{tuned.base_url}/files/{uploaded.json()['id']}/content"
    with checked_http(tuned.base_url, headers=OWNER) as downloads:
        response = downloads.get(url)
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"
