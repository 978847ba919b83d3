"""The Responses API: creating a response (through the backend) and the stored-response
operations (retrieve, delete, list input items), answered by the gateway."""

from __future__ import annotations

import orjson

from core.common.errors import NotFoundError
from core.common.http import Call, Reply, deleted
from core.common.listing import list_body, page_request, window
from core.ports import Stores
from core.responses.backend_client import BackendClient, backend_authorization
from core.responses.compaction.compact_api import CompactApi
from core.responses.compaction.seal import Sealer, process_sealer
from core.responses.context_fit import ContextLimits
from core.responses.create_flow import CreateResponseFlow
from core.responses.file_inputs import FileInputSettings
from core.responses.include import query_include, shown_items, shown_response
from core.responses.input_tokens import count_input_tokens
from core.routes import Route
from core.tools.settings import ToolSettings
from core.vector_stores.ingestion.embeddings import EmbeddingsClient

__all__ = ["ResponsesApi"]


def _not_found(response_id: str) -> NotFoundError:
    return NotFoundError(f"Response with id '{response_id}' not found.")


class ResponsesApi:
    def __init__(
        self,
        stores: Stores,
        embedder: EmbeddingsClient | None,
        backend: BackendClient | None,
        tools: ToolSettings,
        backend_api_key: str | None,
        sealer: Sealer | None = None,
        file_inputs: FileInputSettings | None = None,
    ) -> None:
        self._stores = stores
        self._store = stores.responses
        self._embedder = embedder
        self._backend = backend
        self._tools = tools
        self._backend_api_key = backend_api_key
        self._sealer = sealer or process_sealer()
        self._compact = CompactApi(stores, backend, self._sealer, backend_api_key)
        # Models' windows and the backend's tokenizer, learnt once for every request.
        self._limits = ContextLimits.of(backend)
        self._file_inputs = file_inputs

    def routes(self) -> list[Route]:
        base = "/v1/responses"
        return [
            Route("POST", base, self.create, "create_response"),
            Route(
                "POST",
                base + "/compact",
                self._compact.compact,
                "compactconversation",
                needs_body=True,
                slow=True,
            ),
            Route(
                "POST",
                base + "/input_tokens",
                self.input_tokens_count,
                "getinputtokencounts",
                needs_body=True,
            ),
            Route("GET", base + "/{response_id}", self.retrieve, "get_response"),
            Route("DELETE", base + "/{response_id}", self.delete, "delete_response"),
            Route("GET", base + "/{response_id}/input_items", self.input_items, "list_input_items"),
        ]

    async def create(self, call: Call) -> CreateResponseFlow:
        """The flow that sends the request on to the backend and stores its answer."""
        return CreateResponseFlow(
            self._stores,
            call.tenant,
            embedder=self._embedder,
            backend=self._backend,
            authorization=self._authorization(call),
            tools=self._tools,
            sealer=self._sealer,
            limits=self._limits,
            file_inputs=self._file_inputs,
        )

    def _authorization(self, call: Call) -> str | None:
        return backend_authorization(
            call.request.headers.get("authorization"), self._backend_api_key
        )

    async def input_tokens_count(self, call: Call) -> Reply:
        return await count_input_tokens(
            call, self._stores, self._limits.counter, self._authorization(call)
        )

    async def retrieve(self, call: Call) -> Reply:
        (response_id,) = call.ids
        include = query_include(call.request)
        stored = await self._store.get(call.tenant, response_id)
        if stored is None:
            raise _not_found(response_id)
        response = orjson.loads(stored.record)
        if "output" not in response:  # kept with the record when it differs from the replay
            response["output"] = orjson.loads(stored.output)
        return Reply(200, orjson.dumps(shown_response(response, include)))

    async def delete(self, call: Call) -> Reply:
        (response_id,) = call.ids
        if not await self._store.delete(call.tenant, response_id):
            raise _not_found(response_id)
        return deleted(response_id, "response")

    async def input_items(self, call: Call) -> Reply:
        (response_id,) = call.ids
        cursor = page_request(call.request)
        include = query_include(call.request)
        items = await self._store.input_items(call.tenant, response_id)
        if items is None:
            raise _not_found(response_id)
        page, has_more = window(orjson.loads(items), cursor)
        return Reply(200, list_body(shown_items(page, include), has_more))
