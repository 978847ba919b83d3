"""The engine's front door: what to do with a request, whatever the proxy in front."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from core.common.errors import GatewayError, NotFoundError
from core.common.http import BodyHandler, BodySink, Reply, Request, error_reply
from core.common.tenancy import tenant_for
from core.connectors.api import ConnectorsApi
from core.conversations.api import ConversationsApi
from core.files.api import FileDeleted, FilesApi
from core.files.upload import FileUpload
from core.ports import Stores
from core.prompts.api import PromptsApi
from core.responses.api import delete_response, get_response, list_input_items
from core.responses.backend_client import BackendClient
from core.responses.create_flow import CreateResponseFlow
from core.routes import match_route
from core.vector_stores.api import VectorStoresApi
from core.vector_stores.ingestion.embeddings import EmbeddingsClient

__all__ = ["Gateway", "Outcome"]

# A reply now, a reply once the body is read, a flow that forwards to the backend, or
# None to pass the request through untouched.
Outcome = Reply | BodyHandler | BodySink | CreateResponseFlow | None


def _guarded(handler: BodyHandler) -> BodyHandler:
    async def run(body: bytes) -> Reply:
        try:
            return await handler(body)
        except GatewayError as error:
            return error_reply(error)

    return run


# Operations answered from the path and query alone.
Immediate = Callable[[str, tuple[str, ...], Request], Awaitable[Reply]]
# Operations answered once the request body is read.
WithBody = Callable[[str, tuple[str, ...], bytes], Awaitable[Reply]]


class Gateway:
    def __init__(
        self,
        stores: Stores,
        tenant_header: str | None = None,
        max_upload_bytes: int = 512 * 1024 * 1024,
        embedder: EmbeddingsClient | None = None,
        backend: BackendClient | None = None,
        mcp_allowed_hosts: str = "",
        mcp_timeout: float = 30.0,
    ) -> None:
        self._stores = stores
        self._mcp_allowed_hosts = mcp_allowed_hosts
        self._mcp_timeout = mcp_timeout
        self._embedder = embedder
        self._backend = backend
        self._tenant_header = tenant_header
        self._max_upload = max_upload_bytes
        stores_api = VectorStoresApi(stores, embedder)
        store_files = stores_api.files
        # Deleting a file (by request or by expiry) takes it out of every vector store.
        self.on_file_deleted: list[FileDeleted] = [store_files.remove_everywhere]
        files = FilesApi(stores, on_deleted=self.on_file_deleted)
        responses = stores.responses
        conversations = ConversationsApi(stores.conversations)
        prompts = PromptsApi(stores.prompts)
        connectors = ConnectorsApi(stores.connectors)
        self._immediate: dict[str, Immediate] = {
            "get_response": lambda t, ids, _: get_response(responses, t, ids[0]),
            "delete_response": lambda t, ids, _: delete_response(responses, t, ids[0]),
            "list_input_items": lambda t, ids, r: list_input_items(responses, t, ids[0], r),
            "get_conversation": lambda t, ids, _: conversations.retrieve(t, ids[0]),
            "delete_conversation": lambda t, ids, _: conversations.delete(t, ids[0]),
            "list_conversation_items": lambda t, ids, r: conversations.list_items(t, ids[0], r),
            "get_conversation_item": lambda t, ids, r: conversations.get_item(t, ids[0], ids[1], r),
            "delete_conversation_item": lambda t, ids, _: conversations.delete_item(t, *ids),
            "list_prompts": lambda t, _, r: prompts.list(t, r),
            "get_prompt": lambda t, ids, r: prompts.retrieve(t, ids[0], r),
            "delete_prompt": lambda t, ids, _: prompts.delete(t, ids[0]),
            "list_prompt_versions": lambda t, ids, r: prompts.list_versions(t, ids[0], r),
            "list_connectors": lambda t, _, r: connectors.list(t, r),
            "get_connector": lambda t, ids, _: connectors.retrieve(t, ids[0]),
            "delete_connector": lambda t, ids, _: connectors.delete(t, ids[0]),
            "list_files": lambda t, _, r: files.list_files(t, r),
            "get_file": lambda t, ids, _: files.retrieve(t, ids[0]),
            "get_file_content": lambda t, ids, _: files.content(t, ids[0]),
            "delete_file": lambda t, ids, _: files.delete(t, ids[0]),
            "list_vector_stores": lambda t, _, r: stores_api.list_stores(t, r),
            "get_vector_store": lambda t, ids, _: stores_api.retrieve(t, ids[0]),
            "delete_vector_store": lambda t, ids, _: stores_api.delete(t, ids[0]),
            "list_vector_store_files": lambda t, ids, r: store_files.list_files(t, ids[0], r),
            "get_vector_store_file": lambda t, ids, _: store_files.retrieve(t, *ids),
            "delete_vector_store_file": lambda t, ids, _: store_files.delete(t, *ids),
            "get_vector_store_file_content": lambda t, ids, _: store_files.content(t, *ids),
            "get_file_batch": lambda t, ids, _: store_files.retrieve_batch(t, *ids),
            "list_file_batch_files": lambda t, ids, r: store_files.list_batch_files(
                t, ids[0], ids[1], r
            ),
        }
        self._with_body: dict[str, WithBody] = {
            "create_conversation": lambda t, _, b: conversations.create(t, b),
            "update_conversation": lambda t, ids, b: conversations.update(t, ids[0], b),
            "add_conversation_items": lambda t, ids, b: conversations.add_items(t, ids[0], b),
            "create_prompt": lambda t, _, b: prompts.create(t, b),
            "update_prompt": lambda t, ids, b: prompts.update(t, ids[0], b),
            "create_prompt_version": lambda t, ids, b: prompts.add_version(t, ids[0], b),
            "create_connector": lambda t, _, b: connectors.create(t, b),
            "update_connector": lambda t, ids, b: connectors.update(t, ids[0], b),
            "create_vector_store": lambda t, _, b: stores_api.create(t, b),
            "modify_vector_store": lambda t, ids, b: stores_api.modify(t, ids[0], b),
            "search_vector_store": lambda t, ids, b: stores_api.search(t, ids[0], b),
            "create_vector_store_file": lambda t, ids, b: store_files.create(t, ids[0], b),
            "update_vector_store_file": lambda t, ids, b: store_files.update(t, ids[0], ids[1], b),
            "create_file_batch": lambda t, ids, b: store_files.create_batch(t, ids[0], b),
            "cancel_file_batch": lambda t, ids, _: store_files.cancel_batch(t, *ids),
        }

    async def handle(self, request: Request) -> Outcome:
        route = match_route(request.method, request.path)
        if route is None:
            return None
        tenant = tenant_for(request.headers, self._tenant_header)
        op = route.operation
        if op == "create_response":
            return CreateResponseFlow(
                self._stores,
                tenant,
                embedder=self._embedder,
                backend=self._backend,
                authorization=request.headers.get("authorization"),
                mcp_allowed_hosts=self._mcp_allowed_hosts,
                mcp_timeout=self._mcp_timeout,
            )
        if op in self._with_body:
            return _guarded(partial(self._with_body[op], tenant, route.ids))
        try:
            if op == "upload_file":
                stores = self._stores
                return FileUpload(
                    stores.files, stores.blobs, tenant, request.headers, self._max_upload
                )
            if op in self._immediate:
                return await self._immediate[op](tenant, route.ids, request)
            raise NotFoundError(f"Invalid URL ({request.method} {request.path})")
        except GatewayError as error:
            return error_reply(error)
