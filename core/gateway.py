"""The engine's front door: what to do with a request, whatever the proxy in front."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from core.conversations_api import ConversationsApi
from core.create_flow import CreateResponseFlow
from core.errors import GatewayError, NotFoundError
from core.http import BodyHandler, Reply, Request, error_reply
from core.prompts_api import PromptsApi
from core.responses_api import delete_response, get_response, list_input_items
from core.routes import Route, match_route
from core.tenancy import tenant_for
from storage.protocols import Stores

__all__ = ["Gateway", "Outcome"]

# A reply now, a reply once the body is read, a flow that forwards to the backend, or
# None to pass the request through untouched.
Outcome = Reply | BodyHandler | CreateResponseFlow | None


def _guarded(handler: BodyHandler) -> BodyHandler:
    async def run(body: bytes) -> Reply:
        try:
            return await handler(body)
        except GatewayError as error:
            return error_reply(error)

    return run


class Gateway:
    def __init__(self, stores: Stores, tenant_header: str | None = None) -> None:
        self._stores = stores
        self._conversations = ConversationsApi(stores.conversations)
        self._prompts = PromptsApi(stores.prompts)
        self._tenant_header = tenant_header

    async def handle(self, request: Request) -> Outcome:
        route = match_route(request.method, request.path)
        if route is None:
            return None
        tenant = tenant_for(request.headers, self._tenant_header)
        try:
            return await self._dispatch(route, tenant, request)
        except GatewayError as error:
            return error_reply(error)

    async def _dispatch(self, route: Route, tenant: str, request: Request) -> Outcome:
        op, ids = route.operation, route.ids
        stores, conversations, prompts = self._stores, self._conversations, self._prompts
        if op == "create_response":
            return CreateResponseFlow(stores, tenant)
        with_body: dict[str, Callable[..., Awaitable[Reply]]] = {
            "create_conversation": conversations.create,
            "update_conversation": conversations.update,
            "add_conversation_items": conversations.add_items,
            "create_prompt": prompts.create,
            "update_prompt": prompts.update,
            "create_prompt_version": prompts.add_version,
        }
        if op in with_body:
            return _guarded(partial(with_body[op], tenant, *ids))
        if op == "get_response":
            return await get_response(stores.responses, tenant, ids[0])
        if op == "delete_response":
            return await delete_response(stores.responses, tenant, ids[0])
        if op == "list_input_items":
            return await list_input_items(stores.responses, tenant, ids[0], request)
        if op == "get_conversation":
            return await conversations.retrieve(tenant, ids[0])
        if op == "delete_conversation":
            return await conversations.delete(tenant, ids[0])
        if op == "list_conversation_items":
            return await conversations.list_items(tenant, ids[0], request)
        if op == "get_conversation_item":
            return await conversations.get_item(tenant, *ids)
        if op == "delete_conversation_item":
            return await conversations.delete_item(tenant, *ids)
        if op == "list_prompts":
            return await prompts.list(tenant, request)
        if op == "get_prompt":
            return await prompts.retrieve(tenant, ids[0], request)
        if op == "delete_prompt":
            return await prompts.delete(tenant, ids[0])
        if op == "list_prompt_versions":
            return await prompts.list_versions(tenant, ids[0], request)
        raise NotFoundError(f"Invalid URL ({request.method} {request.path})")
