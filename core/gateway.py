"""The engine's front door: what to do with a request, whatever the proxy in front."""

from __future__ import annotations

from core.create_flow import CreateResponseFlow
from core.errors import GatewayError, NotFoundError
from core.http import Reply, Request, error_reply
from core.responses_api import delete_response, get_response, list_input_items
from core.routes import match_route
from core.tenancy import tenant_for
from storage.protocols import ResponseStore

__all__ = ["Gateway"]


class Gateway:
    def __init__(self, responses: ResponseStore, tenant_header: str | None = None) -> None:
        self.responses = responses
        self._tenant_header = tenant_header

    async def handle(self, request: Request) -> Reply | CreateResponseFlow | None:
        """A reply the gateway gives itself, a flow that needs the body, or None to pass."""
        route = match_route(request.method, request.path)
        if route is None:
            return None
        tenant = tenant_for(request.headers, self._tenant_header)
        try:
            if route.operation == "create_response":
                return CreateResponseFlow(self.responses, tenant)
            response_id = route.resource_id or ""
            if route.operation == "get_response":
                return await get_response(self.responses, tenant, response_id)
            if route.operation == "delete_response":
                return await delete_response(self.responses, tenant, response_id)
            if route.operation == "list_input_items":
                return await list_input_items(self.responses, tenant, response_id, request)
            raise NotFoundError(f"Invalid URL ({request.method} {request.path})")
        except GatewayError as error:
            return error_reply(error)
