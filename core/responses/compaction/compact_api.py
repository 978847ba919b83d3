"""`POST /v1/responses/compact`: a context (input items and/or a stored chain) compacted
into the recent user messages plus one sealed `compaction` item, which later requests
accept as input in place of everything it summarises. Nothing is stored."""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError
from core.common.http import Call, Reply
from core.common.ids import new_id
from core.common.models import OpenModel, parse_body
from core.common.validation import missing
from core.ports import Stores
from core.responses.backend_client import BackendClient, backend_authorization
from core.responses.compaction.automatic import KEPT_TOKENS, compaction_item
from core.responses.compaction.seal import Sealer
from core.responses.compaction.summarise import summarise
from core.responses.compaction.window import (
    TRIGGER,
    check_input,
    expand,
    kept_user_messages,
)
from core.responses.history import chain_items
from core.responses.input_items import input_items

__all__ = ["CompactApi", "CompactBody"]


class CompactBody(OpenModel):
    model: str
    input: str | list[Any] | None = None
    previous_response_id: str | None = None
    instructions: str | None = None


class CompactApi:
    def __init__(
        self,
        stores: Stores,
        backend: BackendClient | None,
        sealer: Sealer,
        backend_api_key: str | None,
    ) -> None:
        self._stores = stores
        self._backend = backend
        self._sealer = sealer
        self._backend_api_key = backend_api_key

    async def compact(self, call: Call) -> Reply:
        body = parse_body(CompactBody, call.body)
        own = [orjson.loads(encoded) for _, encoded in input_items(body.input)]
        if not own and body.previous_response_id is None:
            raise missing("input")
        check_input(own, self._sealer, call.tenant)
        context: list[dict[str, Any]] = []
        if body.previous_response_id is not None:
            _, joined = await chain_items(self._stores, call.tenant, body.previous_response_id)
            context = orjson.loads(b"[" + joined + b"]")
        items = expand([*context, *own], self._sealer, call.tenant, "previous_response_id")
        items = [item for item in items if item.get("type") != TRIGGER]
        if self._backend is None:
            raise InvalidRequestError(
                "Compaction is not available on this gateway.", code="unsupported_parameter"
            )
        authorization = backend_authorization(
            call.request.headers.get("authorization"), self._backend_api_key
        )
        summary = await summarise(
            self._backend, authorization, body.model, items, body.instructions
        )
        kept = kept_user_messages(items, KEPT_TOKENS)
        compacted = {
            "id": new_id("resp"),
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": [*kept, compaction_item(self._sealer, call.tenant, summary.text, kept)],
            "usage": summary.usage,
        }
        return Reply(200, orjson.dumps(compacted))
