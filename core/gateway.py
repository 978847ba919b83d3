"""The engine's front door: which operation a request is, whatever the proxy in front.

The gateway gathers every API's routes into one table and tells the adapter, for each
request, the matched route and the call to make of it: answered at once, once the body
is read, as an upload streaming in, or as a response created through the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.common.http import Call, Request
from core.common.tenancy import tenant_for
from core.connectors.api import ConnectorsApi
from core.conversations.api import ConversationsApi
from core.files.api import FilesApi
from core.files.lookup import FileDeleted
from core.ports import Stores
from core.prompts.api import PromptsApi
from core.responses.api import ResponsesApi
from core.responses.backend_client import BackendClient
from core.responses.compaction.seal import Sealer
from core.responses.file_contents import forget_texts
from core.responses.file_inputs import FileInputSettings
from core.routes import Route, RouteTable
from core.tools.settings import ToolSettings
from core.vector_stores.api import VectorStoresApi
from core.vector_stores.ingestion.embeddings import EmbeddingsClient

__all__ = ["Gateway", "Routed"]


@dataclass(frozen=True, slots=True)
class Routed:
    """A request the gateway handles: its route, and the call without a body yet."""

    route: Route
    call: Call


class Gateway:
    def __init__(
        self,
        stores: Stores,
        *,
        tenant_header: str | None = None,
        max_upload_bytes: int = 512 * 1024 * 1024,
        embedder: EmbeddingsClient | None = None,
        backend: BackendClient | None = None,
        tools: ToolSettings | None = None,
        backend_api_key: str | None = None,
        sealer: Sealer | None = None,
        file_inputs: FileInputSettings | None = None,
    ) -> None:
        self._tenant_header = tenant_header
        vector_stores = VectorStoresApi(stores, embedder)
        # Deleting a file (by request or by expiry) takes it out of every vector store
        # and drops the text extracted from it for responses.
        self.on_file_deleted: list[FileDeleted] = [
            vector_stores.files.remove_everywhere,
            forget_texts(stores.blobs),
        ]
        self.routes = RouteTable(
            [
                *ResponsesApi(
                    stores,
                    embedder,
                    backend,
                    tools or ToolSettings(),
                    backend_api_key,
                    sealer,
                    file_inputs,
                ).routes(),
                *ConversationsApi(stores.conversations).routes(),
                *PromptsApi(stores.prompts).routes(),
                *ConnectorsApi(stores.connectors).routes(),
                *FilesApi(stores, max_upload_bytes, self.on_file_deleted).routes(),
                *vector_stores.routes(),
            ]
        )

    def route(self, request: Request) -> Routed | None:
        """The route a request takes, or None to pass it through untouched."""
        found = self.routes.match(request.method, request.path)
        if found is None:
            return None
        tenant = tenant_for(request.headers, self._tenant_header)
        return Routed(found.route, Call(tenant, found.ids, request))
