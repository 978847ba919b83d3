"""Calls the sidecar makes to the backend itself (the later turns of a tool loop).

They go through Envoy's loopback-only listener, which routes to the same backend cluster
without the processor, so Envoy's balancing, retries and timeouts still apply.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson

from core.chat_completions.request import chat_request
from core.chat_completions.response import response_object
from core.chat_completions.stream import ChatSseTranslator
from core.common.errors import BadGatewayError
from core.common.telemetry import telemetry
from core.common.tracing import client_span, inject
from core.responses.backend_errors import backend_error

__all__ = ["BackendClient", "backend_authorization"]


@contextmanager
def _turn() -> Iterator[None]:
    """Report one backend turn's time and whether it succeeded."""
    started, ok = time.perf_counter(), False
    try:
        yield
        ok = True
    finally:
        telemetry().backend_turn(time.perf_counter() - started, ok)


def backend_authorization(client: str | None, api_key: str | None) -> str | None:
    """What the backend is sent as `authorization`: the operator's backend key when one
    is configured (it replaces the client's), else the client's own header."""
    return f"Bearer {api_key}" if api_key else client


class BackendClient:
    def __init__(self, base_url: str, timeout: float, api: str = "responses") -> None:
        # A backend with only /v1/chat/completions: requests and answers are translated
        # here, so every caller (tool loops, summaries, retries) speaks Responses.
        self.chat = api == "chat_completions"
        self._path = "/chat/completions" if self.chat else "/responses"
        # vLLM serves its tokenizer on the server root, beside /v1 rather than under it.
        self._root = base_url.rstrip("/").removesuffix("/v1")
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"content-type": "application/json"},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )

    @staticmethod
    def _headers(authorization: str | None) -> dict[str, str]:
        """`authorization` is the backend's already (see `backend_authorization`); the
        trace context goes along so the backend's spans join the request's trace."""
        headers = {"authorization": authorization} if authorization else {}
        inject(headers)
        return headers

    def outgoing(self, body: bytes, stream: bool) -> bytes:
        """A Responses request body as this backend takes it."""
        if not self.chat:
            return body
        return orjson.dumps(chat_request(orjson.loads(body), stream=stream))

    async def create(
        self, body: bytes, authorization: str | None, model: str | None = None
    ) -> dict[str, Any]:
        """One non-streaming `POST /v1/responses`; its response object."""
        with client_span(model) as span, _turn():
            headers = self._headers(authorization)
            content = self.outgoing(body, stream=False)
            try:
                answer = await self._client.post(self._path, content=content, headers=headers)
            except httpx.HTTPError as error:
                raise BadGatewayError(f"The backend could not be reached: {error}") from None
            span.set_attribute("http.response.status_code", answer.status_code)
            if answer.status_code >= 400:
                raise backend_error(answer.status_code, answer.content)
            try:
                response = orjson.loads(answer.content)
            except orjson.JSONDecodeError:
                response = None
            if not isinstance(response, dict):
                raise BadGatewayError("The backend returned a response that is not a JSON object.")
            return response_object(response) if self.chat else response

    async def stream(
        self, body: bytes, authorization: str | None, model: str | None = None
    ) -> AsyncIterator[bytes]:
        """One streaming `POST /v1/responses`: the SSE bytes as they come."""
        with client_span(model) as span, _turn():
            headers = self._headers(authorization)
            content = self.outgoing(body, stream=True)
            translator = ChatSseTranslator() if self.chat else None
            try:
                async with self._client.stream(
                    "POST", self._path, content=content, headers=headers
                ) as answer:
                    span.set_attribute("http.response.status_code", answer.status_code)
                    if answer.status_code >= 400:
                        raise backend_error(answer.status_code, await answer.aread())
                    async for chunk in answer.aiter_raw():
                        if translator is None:
                            yield chunk
                        elif translated := translator.feed(chunk):
                            yield translated
                    if translator is not None:
                        yield translator.finish()
            except httpx.HTTPError as error:
                raise BadGatewayError(f"The backend stream broke off: {error}") from None

    async def lookup(
        self, method: str, path: str, body: dict[str, Any] | None, authorization: str | None
    ) -> tuple[int, Any]:
        """A small JSON call the gateway makes for itself (`GET /models`, `POST /tokenize`
        on the server root): the status and the decoded answer (None when it is not JSON).
        An unreachable backend is status 0: these calls are optional, never fatal."""
        url = f"{self._root}{path}" if path.startswith("/tokenize") else path
        content = orjson.dumps(body) if body is not None else None
        try:
            answer = await self._client.request(
                method, url, content=content, headers=self._headers(authorization)
            )
        except httpx.HTTPError:
            return 0, None
        try:
            return answer.status_code, orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            return answer.status_code, None

    async def aclose(self) -> None:
        await self._client.aclose()
