"""Client for any OpenAI-compatible embeddings endpoint (OpenAI, vLLM, TEI, Ollama, ...).

`base_url` is the API root including the version, as with the OpenAI SDK
(e.g. `http://127.0.0.1:8000/v1`); requests go to `{base_url}/embeddings`. Vectors are asked
for as base64 (a quarter of the JSON size of decimal floats), but servers that ignore
`encoding_format` and answer plain float lists are understood too.
"""

from __future__ import annotations

import base64
import binascii
import sys
from array import array
from typing import Any

import httpx
import orjson

__all__ = ["EmbeddingsClient", "EmbeddingsError"]

_MESSAGE_LIMIT = 500


class EmbeddingsError(Exception):
    """The embeddings backend failed or answered something we cannot use."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class EmbeddingsClient:
    """Embeds texts in batches over one pooled HTTP client."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        model: str,
        batch_size: int = 64,
        timeout: float = 60.0,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model = model
        self.batch_size = batch_size
        self._url = base_url.rstrip("/") + "/embeddings"
        headers = {"content-type": "application/json", "accept": "application/json"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(headers=headers, timeout=timeout)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in the order of `texts`."""
        vectors: list[list[float]] = []
        # Batches go one after another: ingestion is a background job, and a burst of
        # parallel batches would compete with interactive embedding of search queries.
        for first in range(0, len(texts), self.batch_size):
            vectors.extend(await self._embed_batch(texts[first : first + self.batch_size]))
        return vectors

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> EmbeddingsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        payload = {"model": self.model, "input": batch, "encoding_format": "base64"}
        try:
            response = await self._http.post(self._url, content=orjson.dumps(payload))
        except httpx.HTTPError as exc:
            raise EmbeddingsError(f"embeddings request failed: {exc!r}") from exc
        if not response.is_success:
            raise EmbeddingsError(_error_message(response), status=response.status_code)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise EmbeddingsError("embeddings response is not valid JSON") from None
        return _vectors(body, len(batch))


def _error_message(response: httpx.Response) -> str:
    """The backend's own error message, from whichever shape it uses."""
    message: Any = None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")  # OpenAI
        elif isinstance(error, str):
            message = error  # TEI, Ollama
        message = message or body.get("message") or body.get("detail")  # vLLM, FastAPI
    if not isinstance(message, str) or not message:
        message = response.text.strip()[:_MESSAGE_LIMIT] or response.reason_phrase
    return f"embeddings backend answered {response.status_code}: {message}"


def _vectors(body: Any, expected: int) -> list[list[float]]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else "no"
        raise EmbeddingsError(f"embeddings response has {got} vectors for {expected} inputs")
    by_index: list[list[float] | None] = [None] * expected
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise EmbeddingsError("embeddings response item is not an object")
        # Servers may answer out of order; `index` is authoritative when present.
        index = item.get("index", position)
        if (
            not isinstance(index, int)
            or isinstance(index, bool)
            or not 0 <= index < expected
            or by_index[index] is not None
        ):
            raise EmbeddingsError(f"embeddings response has a bad index: {index!r}")
        by_index[index] = _vector(item.get("embedding"))
    vectors = [v for v in by_index if v is not None]
    if len({len(v) for v in vectors}) != 1:
        raise EmbeddingsError("embeddings response vectors differ in dimension")
    return vectors


def _vector(raw: Any) -> list[float]:
    if isinstance(raw, str):
        try:
            packed = base64.b64decode(raw, validate=True)
        except binascii.Error:
            raise EmbeddingsError("embedding is not valid base64") from None
        if not packed or len(packed) % 4:
            raise EmbeddingsError("base64 embedding is not a whole number of float32 values")
        values = array("f")
        values.frombytes(packed)
        if sys.byteorder == "big":
            values.byteswap()  # the wire format is little-endian float32
        return values.tolist()
    if isinstance(raw, list) and raw:
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
            raise EmbeddingsError("embedding contains a non-number")
        return [float(x) for x in raw]
    raise EmbeddingsError("embeddings response item has no embedding")
