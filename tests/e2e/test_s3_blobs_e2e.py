"""File contents in an S3-compatible store (OPENRESPONSES_BLOB_URL=s3://...): a 200 MB
upload and download stream through the sidecar without its memory growing with the file,
the object appears only once the upload is complete, a file given as input by id is read
from the store, and a delete removes the object."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import openai
import pytest
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import RedisServer, Stack
from support.s3_server import S3_ENV, S3Server

SIZE = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def s3_stack(backend: BackendThread, s3_server: S3Server) -> Iterator[tuple[Stack, str]]:
    bucket = s3_server.bucket()
    redis = RedisServer().start()
    stack = Stack(
        f"{backend.url}/v1",
        redis.url,
        env=S3_ENV,
        blob_url=f"s3://{bucket}/files",
        s3_endpoint_url=s3_server.url,
    )
    try:
        with stack.start():
            yield stack, bucket
    finally:
        redis.stop()


def _objects(s3_server: S3Server, bucket: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=s3_server.url, **_credentials())
    listed = client.list_objects_v2(Bucket=bucket)
    return [entry["Key"] for entry in listed.get("Contents") or []]


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_ENV["AWS_DEFAULT_REGION"],
    }


def _peak_rss(stack: Stack) -> int:
    """The sidecar's peak resident memory so far, in bytes (Linux's VmHWM)."""
    assert stack.sidecar.process is not None
    status = Path(f"/proc/{stack.sidecar.process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def test_a_large_file_streams_through_without_being_held(
    s3_stack: tuple[Stack, str], s3_server: S3Server, make_sdk: Callable[..., openai.OpenAI]
) -> None:
    stack, bucket = s3_stack
    client = make_sdk(stack.base_url, "sk-s3", max_retries=0, timeout=300)
    before = _peak_rss(stack)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "big.bin"
        written = hashlib.sha256()
        with open(path, "wb") as out:
            for _ in range(SIZE // (1024 * 1024)):
                block = os.urandom(1024 * 1024)
                written.update(block)
                out.write(block)
        with open(path, "rb") as data:
            uploaded = client.files.create(file=("big.bin", data), purpose="assistants")
        assert uploaded.bytes == SIZE
        assert len(_objects(s3_server, bucket)) == 1
        read = hashlib.sha256()
        with client.files.with_streaming_response.content(uploaded.id) as answer:
            for piece in answer.iter_bytes(1024 * 1024):
                read.update(piece)
        assert read.hexdigest() == written.hexdigest()
    grown = _peak_rss(stack) - before
    # Parts of 8 MiB and the relay's pieces: far below the file's 200 MB.
    assert grown < 96 * 1024 * 1024, f"the sidecar's peak memory grew by {grown >> 20} MiB"
    client.files.delete(uploaded.id)
    assert _objects(s3_server, bucket) == []


def test_a_file_given_by_id_is_read_from_the_store(
    s3_stack: tuple[Stack, str],
    recorder: BackendRecorder,
    make_sdk: Callable[..., openai.OpenAI],
) -> None:
    stack, _ = s3_stack
    client = make_sdk(stack.base_url, "sk-s3-input", max_retries=0)
    uploaded = client.files.create(
        file=("notes.txt", b"The heron nests by the river."), purpose="user_data"
    )
    client.responses.create(
        model="m",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Summarise:"},
                    {"type": "input_file", "file_id": uploaded.id},
                ],
            }
        ],
    )
    assert "The heron nests by the river." in str(recorder.requests[-1].body["input"])
