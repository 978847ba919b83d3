"""The Conversations API: conversations and their items, answered by the gateway."""

from __future__ import annotations

import time
from typing import Any

import orjson

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.http import Call, Reply, Request, deleted
from core.common.ids import new_id
from core.common.listing import list_body, page_request
from core.common.models import json_object, parse, parse_body
from core.conversations.errors import conversation_not_found
from core.conversations.models import ConversationCreate, ConversationUpdate, ItemsAdd
from core.ports import ConversationStore
from core.responses.input_items import input_items
from core.routes import Route

__all__ = ["ConversationsApi"]


def _duplicate(item_id: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"An item with id '{item_id}' is already in the conversation.",
        param="items",
        code="duplicate_item_id",
    )


def _items(value: list[Any]) -> list[tuple[str, bytes]]:
    """The items (an array already checked), each checked as an input item, ids unique."""
    items = input_items(value, "items")
    seen: set[str] = set()
    for item_id, _ in items:
        if item_id in seen:
            raise _duplicate(item_id)
        seen.add(item_id)
    return items


def _item_list(items: list[bytes], has_more: bool, results: bool = True) -> bytes:
    listed = orjson.loads(b"[" + b",".join(items) + b"]")
    if not results:
        listed = [_without_results(item) for item in listed]
    return list_body(listed, has_more)


def _wants_results(request: Request) -> bool:
    """`include=file_search_call.results` (the SDK sends arrays as `include[]`)."""
    values = [*request.query.get("include", ()), *request.query.get("include[]", ())]
    return "file_search_call.results" in values


def _without_results(item: Any) -> Any:
    """A search call keeps its results for later turns; the client sees them on request."""
    if isinstance(item, dict) and item.get("type") == "file_search_call":
        return {**item, "results": None}
    return item


class ConversationsApi:
    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    def routes(self) -> list[Route]:
        base, one = "/v1/conversations", "/v1/conversations/{conversation_id}"
        item = one + "/items/{item_id}"
        return [
            Route("POST", base, self.create, "create_conversation", needs_body=True),
            Route("GET", one, self.retrieve, "get_conversation"),
            Route("POST", one, self.update, "update_conversation", needs_body=True),
            Route("DELETE", one, self.delete, "delete_conversation"),
            Route("GET", one + "/items", self.list_items, "list_conversation_items"),
            Route("POST", one + "/items", self.add_items, "create_conversation_items", True),
            Route("GET", item, self.get_item, "get_conversation_item"),
            Route("DELETE", item, self.delete_item, "delete_conversation_item"),
        ]

    async def create(self, call: Call) -> Reply:
        body = call.body
        fields = parse(ConversationCreate, json_object(body) if body.strip() else {})
        conversation_id = new_id("conv")
        record = {
            "id": conversation_id,
            "object": "conversation",
            "created_at": int(time.time()),
            "metadata": fields.metadata,
        }
        items = _items(fields.items or [])
        encoded = orjson.dumps(record)
        await self._store.create(call.tenant, conversation_id, encoded, items)
        return Reply(200, encoded)

    async def _record(self, tenant: str, conversation_id: str) -> bytes:
        record = await self._store.get(tenant, conversation_id)
        if record is None:
            raise conversation_not_found(conversation_id)
        return record

    async def retrieve(self, call: Call) -> Reply:
        (conversation_id,) = call.ids
        return Reply(200, await self._record(call.tenant, conversation_id))

    async def update(self, call: Call) -> Reply:
        tenant = call.tenant
        (conversation_id,) = call.ids
        fields = parse_body(ConversationUpdate, call.body)
        record = orjson.loads(await self._record(tenant, conversation_id))
        record["metadata"] = fields.metadata
        encoded = orjson.dumps(record)
        if not await self._store.replace(tenant, conversation_id, encoded):
            raise conversation_not_found(conversation_id)
        return Reply(200, encoded)

    async def delete(self, call: Call) -> Reply:
        (conversation_id,) = call.ids
        if not await self._store.delete(call.tenant, conversation_id):
            raise conversation_not_found(conversation_id)
        return deleted(conversation_id, "conversation.deleted")

    async def add_items(self, call: Call) -> Reply:
        (conversation_id,) = call.ids
        items = _items(parse_body(ItemsAdd, call.body).items)
        taken = await self._store.append(call.tenant, conversation_id, items)
        if taken is None:
            raise conversation_not_found(conversation_id)
        if taken:
            raise _duplicate(taken[0])
        return Reply(200, _item_list([encoded for _, encoded in items], has_more=False))

    async def list_items(self, call: Call) -> Reply:
        (conversation_id,) = call.ids
        request = call.request
        # Conversation items take `after` only, as in the hosted API.
        cursor = page_request(request)
        page = await self._store.list_items(
            call.tenant, conversation_id, cursor.limit, cursor.descending, cursor.after
        )
        if page is None:
            raise conversation_not_found(conversation_id)
        return Reply(200, _item_list(page.items, page.has_more, _wants_results(request)))

    async def get_item(self, call: Call) -> Reply:
        conversation_id, item_id = call.ids
        found = await self._store.get_item(call.tenant, conversation_id, item_id)
        if found is None:
            raise conversation_not_found(conversation_id)
        if found[1] is None:
            raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
        if not _wants_results(call.request) and b'"type":"file_search_call"' in found[1]:
            return Reply(200, orjson.dumps(_without_results(orjson.loads(found[1]))))
        return Reply(200, found[1])

    async def delete_item(self, call: Call) -> Reply:
        conversation_id, item_id = call.ids
        found = await self._store.delete_item(call.tenant, conversation_id, item_id)
        if found is None:
            raise conversation_not_found(conversation_id)
        if not found[1]:
            raise NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")
        return Reply(200, found[0])
