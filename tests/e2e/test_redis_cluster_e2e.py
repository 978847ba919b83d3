"""Two gateways (each an Envoy and a sidecar) on one real Redis Cluster (three masters,
three replicas) sharing a blob directory: anything made through one is served by the
other, and concurrent appends to one conversation from both keep every item once."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import Stack
from support.redis_cluster import RedisCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    started = RedisCluster().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def pair(backend: BackendThread, cluster: RedisCluster) -> Iterator[tuple[Stack, Stack]]:
    blobs = tempfile.mkdtemp(prefix="or-shared-blobs-")
    settings = {"redis_cluster": "true", "blob_url": f"file://{blobs}"}
    first = Stack(f"{backend.url}/v1", cluster.url, **settings)
    second = Stack(f"{backend.url}/v1", cluster.url, **settings)
    with first.start(), second.start():
        yield first, second


@pytest.fixture
def clients(
    pair: tuple[Stack, Stack], make_sdk: Callable[..., openai.OpenAI]
) -> tuple[openai.OpenAI, openai.OpenAI]:
    # One key, so one tenant, through either gateway.
    return (
        make_sdk(pair[0].base_url, "sk-fleet", max_retries=0),
        make_sdk(pair[1].base_url, "sk-fleet", max_retries=0),
    )


def test_chains_cross_replicas(
    clients: tuple[openai.OpenAI, openai.OpenAI], recorder: BackendRecorder
) -> None:
    a, b = clients
    first = a.responses.create(model="m", input="Remember: kestrel")
    second = b.responses.create(model="m", input="And then?", previous_response_id=first.id)
    third = a.responses.create(model="m", input="Last.", previous_response_id=second.id)
    assert "kestrel" in str(recorder.requests[-1].body["input"])
    for client in (a, b):
        assert client.responses.retrieve(third.id).previous_response_id == second.id
        assert [i.id for i in client.responses.input_items.list(third.id).data]


def test_concurrent_appends_from_both_keep_every_item_once(
    clients: tuple[openai.OpenAI, openai.OpenAI],
) -> None:
    a, b = clients
    conversation = a.conversations.create()
    texts = [f"turn {i}" for i in range(16)]

    def append(i: int) -> None:
        client = (a, b)[i % 2]
        client.conversations.items.create(
            conversation.id,
            items=[{"type": "message", "role": "user", "content": texts[i]}],
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(len(texts))))
    for client in (a, b):
        items = client.conversations.items.list(conversation.id, limit=100).data
        said = [item.content[0].text for item in items]  # type: ignore[union-attr]
        assert sorted(said) == sorted(texts)  # each once
        assert len({item.id for item in items}) == len(texts)
    order_a = [i.id for i in a.conversations.items.list(conversation.id, limit=100).data]
    order_b = [i.id for i in b.conversations.items.list(conversation.id, limit=100).data]
    assert order_a == order_b  # one order, whoever asks


def test_files_prompts_and_inputs_cross_replicas(
    clients: tuple[openai.OpenAI, openai.OpenAI], recorder: BackendRecorder
) -> None:
    a, b = clients
    uploaded = a.files.create(file=("owl.txt", b"The owl hunts at dusk."), purpose="user_data")
    assert b.files.retrieve(uploaded.id).filename == "owl.txt"
    assert b.files.content(uploaded.id).read() == b"The owl hunts at dusk."
    b.responses.create(
        model="m",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Read:"},
                    {"type": "input_file", "file_id": uploaded.id},
                ],
            }
        ],
    )
    assert "The owl hunts at dusk." in str(recorder.requests[-1].body["input"])
    a.files.delete(uploaded.id)
    with pytest.raises(openai.NotFoundError):
        b.files.retrieve(uploaded.id)
