"""`POST /v1/responses` from request to stored response: one object per request.

The adapter calls `prepare` with the client's body and forwards what it returns to the
backend; then `finish_json` or a `StreamRelay` handles the backend's answer, and
`backend_error` turns a failed call into the client's error. Nothing here knows Envoy.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.create_request import CreateRequest, backend_body, parse_create_request
from core.errors import BadGatewayError, InvalidRequestError, UpstreamError
from core.ids import new_id
from core.response_object import TERMINAL_STATUSES, present, split_for_storage
from storage.protocols import ChainContext, ResponseStore

__all__ = ["CreateResponseFlow", "backend_error"]


class CreateResponseFlow:
    def __init__(self, store: ResponseStore, tenant: str) -> None:
        self._store = store
        self._tenant = tenant
        self.response_id = new_id("resp")
        self.request: CreateRequest | None = None
        self._context: ChainContext | None = None

    @property
    def streaming(self) -> bool:
        return self.request is not None and self.request.stream

    async def prepare(self, raw: bytes) -> bytes:
        """Validate the client's body; return the stateless body for the backend."""
        request = parse_create_request(raw)
        context = None
        if request.previous_response_id is not None:
            context = await self._store.load_context(self._tenant, request.previous_response_id)
            if context is None:
                raise InvalidRequestError(
                    f"Previous response with id '{request.previous_response_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
        self.request, self._context = request, context
        return backend_body(request, context.items if context else b"")

    def present(self, response: dict[str, Any]) -> None:
        assert self.request is not None
        present(response, self.request, self.response_id)

    async def persist(self, response: dict[str, Any]) -> None:
        """Store a finished response (unless the client asked for `store: false`)."""
        request = self.request
        assert request is not None
        if not request.store or response.get("status") not in TERMINAL_STATUSES:
            return
        record, output = split_for_storage(response)
        await self._store.save(
            self._tenant, self.response_id, record, request.input_items, output, self._context
        )

    async def finish_json(self, raw: bytes) -> bytes:
        """The backend's successful JSON answer, presented and stored."""
        try:
            response = orjson.loads(raw)
        except orjson.JSONDecodeError:
            response = None
        if not isinstance(response, dict):
            raise BadGatewayError("The backend returned a response that is not a JSON object.")
        self.present(response)
        await self.persist(response)
        return orjson.dumps(response)


def backend_error(status: int, body: bytes) -> UpstreamError:
    """A backend 4xx/5xx in the OpenAI error shape, keeping the backend's own words."""
    error: Any = None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error") if isinstance(parsed.get("error"), dict) else parsed
    message = body.decode("utf-8", "replace").strip()[:2000] or f"Backend returned {status}."
    param = code = None
    type_ = "invalid_request_error" if status < 500 else "server_error"
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
        param = error.get("param") if isinstance(error.get("param"), str) else None
        code = error.get("code") if isinstance(error.get("code"), str) else None
        # Keep OpenAI-style types; other servers' exception names mean nothing to clients.
        if isinstance(error.get("type"), str) and error["type"].endswith("_error"):
            type_ = error["type"]
    return UpstreamError(status, message, type_=type_, param=param, code=code)
