"""The embeddings client against a real (fake) OpenAI-compatible HTTP server."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator

import pytest
from support.fake_embeddings import FAIL_MESSAGE, EmbeddingsThread, Recorded, expected_vector
from support.recording import Recorder

from core.vector_stores.ingestion.embeddings import EmbeddingsClient, EmbeddingsError

DIM = 12


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[EmbeddingsThread]:
    with EmbeddingsThread(dimensions=DIM) as thread:
        yield thread


@pytest.fixture
def embeddings_requests(embeddings_server: EmbeddingsThread) -> Iterator[Recorder[Recorded]]:
    """What the embeddings server receives during this test."""
    with embeddings_server.recording() as seen:
        yield seen


@pytest.fixture
async def embeddings_client(embeddings_server: EmbeddingsThread) -> AsyncIterator[EmbeddingsClient]:
    embeddings = EmbeddingsClient(embeddings_server.url, "sk-embed", "embed-model", batch_size=4)
    yield embeddings
    await embeddings.aclose()


def _texts(n: int) -> list[str]:
    return [f"text number {i} — ünïcödé" for i in range(n)]


async def test_batches_in_order(
    embeddings_client: EmbeddingsClient, embeddings_requests: Recorder[Recorded]
) -> None:
    texts = _texts(10)
    vectors = await embeddings_client.embed(texts)
    assert vectors == [expected_vector(t, DIM) for t in texts]
    requests = embeddings_requests.requests
    assert len(requests) == math.ceil(10 / 4)
    assert [r.body["input"] for r in requests] == [texts[0:4], texts[4:8], texts[8:10]]
    for request in requests:
        assert request.method == "POST" and request.path == "/v1/embeddings"
        assert request.headers["authorization"] == "Bearer sk-embed"
        assert request.body["model"] == "embed-model"
        assert request.body["encoding_format"] == "base64"


async def test_exact_multiple_of_batch_and_empty(
    embeddings_client: EmbeddingsClient, embeddings_requests: Recorder[Recorded]
) -> None:
    assert len(await embeddings_client.embed(_texts(8))) == 8
    assert len(embeddings_requests.requests) == 2
    embeddings_requests.clear()
    assert await embeddings_client.embed([]) == []
    assert embeddings_requests.requests == []


async def test_vectors_are_unit_length(embeddings_client: EmbeddingsClient) -> None:
    for vector in await embeddings_client.embed(["alpha", "beta"]):
        assert len(vector) == DIM
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-5)


async def test_base64_and_float_answers_decode_identically(
    embeddings_server: EmbeddingsThread, embeddings_requests: Recorder[Recorded]
) -> None:
    texts = _texts(5)
    as_base64 = EmbeddingsClient(embeddings_server.url, None, "embed-model", batch_size=2)
    as_float = EmbeddingsClient(embeddings_server.url, None, "float-only", batch_size=2)
    try:
        from_base64 = await as_base64.embed(texts)
        assert all(isinstance(r.body, dict) for r in embeddings_requests.requests)
        from_float = await as_float.embed(texts)
    finally:
        await as_base64.aclose()
        await as_float.aclose()
    assert from_base64 == from_float == [expected_vector(t, DIM) for t in texts]
    # Without a key, no authorization header is sent.
    sent = embeddings_requests.requests
    assert len(sent) == 6 and all("authorization" not in r.headers for r in sent)


async def test_answers_ordered_by_index(embeddings_server: EmbeddingsThread) -> None:
    texts = _texts(3)
    async with EmbeddingsClient(embeddings_server.url, None, "shuffled") as shuffled:
        vectors = await shuffled.embed(texts)
    assert vectors == [expected_vector(t, DIM) for t in texts]


async def test_server_error_raises_with_message(embeddings_server: EmbeddingsThread) -> None:
    async with EmbeddingsClient(embeddings_server.url, None, "fail-500") as failing:
        with pytest.raises(EmbeddingsError) as info:
            await failing.embed(["x"])
    assert FAIL_MESSAGE in info.value.message
    assert info.value.status == 500


async def test_wrong_path_raises_with_status(embeddings_server: EmbeddingsThread) -> None:
    url = embeddings_server.url.replace("/v1", "/nowhere")
    async with EmbeddingsClient(url, None, "embed-model") as wrong_path:
        with pytest.raises(EmbeddingsError) as info:
            await wrong_path.embed(["x"])
    assert info.value.status == 404 and "not found" in info.value.message


async def test_malformed_answer_raises(embeddings_server: EmbeddingsThread) -> None:
    async with EmbeddingsClient(embeddings_server.url, None, "short") as short:
        with pytest.raises(EmbeddingsError, match="1 vectors for 2 inputs"):
            await short.embed(["x", "y"])
