"""OPENRESPONSES_REDIS_WAIT_REPLICAS: an acknowledged write has reached that many replicas;
when fewer confirm it in time, the client gets a 503 in the OpenAI shape instead of an
acknowledgement the loss of the master could take back."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator

import openai
import pytest
import redis
from support.fake_backend import BackendThread
from support.harness import RedisServer, Stack, free_port, wait_until

from storage.redis.embedded import server_binary


@pytest.fixture(scope="module")
def replicated() -> Iterator[str]:
    """A master with one replica in sync; the master's URL."""
    master = RedisServer().start()
    port, directory = free_port(), tempfile.mkdtemp(prefix="or-replica-")
    binary = shutil.which("redis-server") or str(server_binary())
    replica = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", directory,
         "--save", "", "--replicaof", "127.0.0.1", str(master.port)],
        stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=master.port)

    def in_sync() -> bool:
        info = client.info("replication")
        return info.get("connected_slaves") == 1 and "online" in str(info.get("slave0"))

    try:
        wait_until(in_sync, 30, "the replica")
        yield master.url
    finally:
        replica.terminate()
        replica.wait(10)
        shutil.rmtree(directory, ignore_errors=True)
        master.stop()


@pytest.mark.parametrize(("wanted", "acknowledged"), [(1, True), (2, False)])
def test_writes_wait_for_replicas(
    backend: BackendThread,
    replicated: str,
    make_sdk: Callable[..., openai.OpenAI],
    wanted: int,
    acknowledged: bool,
) -> None:
    stack = Stack(f"{backend.url}/v1", replicated, redis_wait_replicas=str(wanted))
    with stack.start():
        client = make_sdk(stack.base_url, f"sk-wait-{wanted}", max_retries=0)
        if acknowledged:
            response = client.responses.create(model="m", input="Keep me safe.")
            assert client.responses.retrieve(response.id).id == response.id
            conversation = client.conversations.create(items=[{"role": "user", "content": "hi"}])
            assert len(client.conversations.items.list(conversation.id).data) == 1
            uploaded = client.files.create(file=("a.txt", b"safe"), purpose="user_data")
            assert client.files.retrieve(uploaded.id).bytes == 4
        else:
            with pytest.raises(openai.InternalServerError) as raised:
                client.responses.create(model="m", input="Only one replica exists.")
            assert raised.value.status_code == 503
            assert "retry" in str(raised.value.body)
