"""`POST /v1/responses` from request to stored response: one object per request.

The adapter calls `prepare` with the client's body and forwards what it returns to the
backend; then `finish_json` or a `StreamRelay` handles the backend's answer, and
`backend_error` turns a failed call into the client's error. Nothing here knows Envoy.
"""

from __future__ import annotations

from typing import Any

import orjson

from core.chat_completions.relay import ChatRelay
from core.chat_completions.response import response_object
from core.common.errors import BadGatewayError, InvalidRequestError
from core.common.ids import new_id
from core.common.tracing import describe_request, describe_response
from core.conversations.errors import conversation_not_found
from core.ports import ChainContext, ConversationMark, Stores
from core.prompts.resolve import resolve_prompt
from core.responses.backend_client import BackendClient
from core.responses.compaction.automatic import ContextCompaction
from core.responses.compaction.seal import Sealer, process_sealer
from core.responses.context_fit import ContextFit, ContextLimits
from core.responses.create_request import CreateRequest, backend_body, parse_create_request
from core.responses.file_inputs import FileInputs, FileInputSettings
from core.responses.history import chain_items
from core.responses.include import shown_items, shown_response
from core.responses.presentation import TERMINAL_STATUSES, present, split_for_storage
from core.responses.stream_relay import Relay, StreamRelay
from core.responses.truncation import truncation_mode
from core.tools.approvals import answer_approvals, approval_answers, requests_in
from core.tools.loop import run_tool_loop
from core.tools.registry import ServerTools, expand_server_tools
from core.tools.settings import ToolSettings
from core.tools.streamed_loop import ToolStreamRelay
from core.tools.turns import DEFAULT_MAX_TOOL_CALLS, ToolTurns
from core.vector_stores.ingestion.embeddings import EmbeddingsClient

__all__ = ["CreateResponseFlow"]


class CreateResponseFlow:
    def __init__(
        self,
        stores: Stores,
        tenant: str,
        *,
        embedder: EmbeddingsClient | None = None,
        backend: BackendClient | None = None,
        authorization: str | None = None,
        tools: ToolSettings | None = None,
        sealer: Sealer | None = None,
        limits: ContextLimits | None = None,
        file_inputs: FileInputSettings | None = None,
    ) -> None:
        self._stores = stores
        self._file_inputs = file_inputs or FileInputSettings()
        self._tenant = tenant
        self._embedder = embedder
        self.backend = backend
        self.authorization = authorization  # what the backend gets (see backend_client)
        self._tool_settings = tools or ToolSettings()
        self._tools: ServerTools | None = None
        self.turns: ToolTurns | None = None  # with server-side tools
        self.leading: list[dict[str, Any]] = []  # items the client sees before the model's
        self._tool_lists: dict[str, Any] = {}  # MCP tool lists of the chain, by label
        self.response_id = new_id("resp")
        self.request: CreateRequest | None = None
        self._context: ChainContext | None = None
        self._conversation_mark: ConversationMark | None = None
        self._compaction = ContextCompaction(
            sealer or process_sealer(), tenant, backend, authorization
        )
        self._compacted: list[bytes] = []  # the compaction item made for this response
        self._limits = limits
        self.fit: ContextFit | None = None  # with truncation "auto"

    async def prepare(self, raw: bytes) -> bytes:
        """Validate the client's body; return the stateless body for the backend."""
        request = parse_create_request(raw)
        describe_request(request.body.get("model"))
        self.request = request
        truncation = truncation_mode(request.body)
        preamble: list[bytes] = []
        instructions = None
        if request.body.get("prompt") is not None:
            prompt = await resolve_prompt(
                self._stores.prompts, self._tenant, request.body["prompt"]
            )
            if prompt.instructions is not None and request.body.get("instructions"):
                raise InvalidRequestError(
                    "The prompt has instructions of its own; remove 'instructions' from the "
                    "request or use a prompt without them.",
                    param="instructions",
                    code="conflicting_parameters",
                )
            request.prompt, preamble, instructions = (
                prompt.echo,
                prompt.messages,
                prompt.instructions,
            )
        await self._expand_tools(request)
        context = await self._context_items(request)
        # Files named by id are resolved for the backend on every turn; what is stored
        # keeps the client's `file_id` parts.
        files = FileInputs(self._stores, self._tenant, self._file_inputs)
        source = "conversation" if request.conversation_id else "previous_response_id"
        context = await files.joined(context, source)
        preamble = await files.items(preamble, "prompt.variables", indexed=False)
        inputs = await files.items(request.input_items, "input")
        window = await self._compaction.window(
            request.body,
            context,
            inputs,
            source,
            instructions if instructions is not None else request.body.get("instructions"),
        )
        body = backend_body(request, context, preamble, instructions, window.items, inputs)
        if window.plain and truncation == "auto" and self._limits is not None:
            # A compacted context is already short; otherwise fit it to the model's window.
            fit = ContextFit(
                self._limits, request, context, preamble, instructions, self.authorization, inputs
            )
            self.fit, body = fit, await fit.first_body()
        answers = approval_answers(request.input_items)
        if answers and self._tools is None:
            raise InvalidRequestError(
                "Approval responses need the request's mcp tools; none were given.",
                param="tools",
                code="invalid_value",
            )
        if self._tools is not None:
            limit = request.body.get("max_tool_calls")
            limit = limit if isinstance(limit, int) else DEFAULT_MAX_TOOL_CALLS
            self.turns = turns = ToolTurns(self._tools, body, limit)
            self.leading = list(self._tools.leading)
            if answers:
                self.leading += await self._answer(answers, context, turns)
                body = turns.follow_up()
        if window.item is not None:  # it leads the output, as the hosted API puts it
            self.leading.insert(0, window.item)
            self._compacted = [orjson.dumps(window.item)]
        if self.chat:
            assert self.backend is not None
            return self.backend.outgoing(body, stream=request.stream)
        return body

    @property
    def chat(self) -> bool:
        """Whether the backend speaks Chat Completions (see `BackendClient`)."""
        return self.backend is not None and self.backend.chat

    async def _answer(
        self, answers: list[dict[str, Any]], context: bytes, turns: ToolTurns
    ) -> list[dict[str, Any]]:
        """Approval answers refer to requests of the previous response (or the
        conversation, or this input)."""
        assert self.request is not None and self._tools is not None
        sources: list[bytes | list[Any]] = [context, *self.request.input_items]
        previous = self.request.previous_response_id
        if previous is not None:
            stored = await self._stores.responses.get(self._tenant, previous)
            if stored is not None:  # the client's view of a tool turn is in its record
                sources.append(orjson.loads(stored.record).get("output") or [])
        return await answer_approvals(answers, requests_in(*sources), self._tools, turns)

    async def _expand_tools(self, request: CreateRequest) -> None:
        """Gateway tools become function tools the backend can call."""
        listed_before = await self._listed_before(request)
        self._tools = await expand_server_tools(
            self._stores,
            self._tenant,
            request.body.get("tools"),
            embedder=self._embedder,
            with_results="file_search_call.results" in request.include,
            allowed_hosts=self._tool_settings.mcp_allowed_hosts,
            timeout=self._tool_settings.mcp_timeout,
            listed_before=listed_before,
        )
        if self._tools is None:
            return
        if self.backend is None:
            raise InvalidRequestError(
                "Server-side tools are not available on this gateway.",
                param="tools",
                code="unsupported_parameter",
            )
        self._tool_lists = {
            **listed_before,
            **{
                label: {"server_url": server.url, "tools": server.tools}
                for label, server in self._tools.servers.items()
            },
        }
        request.body = {**request.body, "tools": self._tools.backend_tools}

    async def _listed_before(self, request: CreateRequest) -> dict[str, Any]:
        """The MCP tool lists an earlier turn of the chain made, reused rather than
        listed again."""
        tools = request.body.get("tools")
        previous = request.previous_response_id
        if previous is None or not isinstance(tools, list):
            return {}
        if not any(isinstance(t, dict) and t.get("type") == "mcp" for t in tools):
            return {}
        found = await self._stores.responses.tool_lists(self._tenant, previous)
        lists = orjson.loads(found) if found else {}
        return lists if isinstance(lists, dict) else {}

    async def context_for(self, request: CreateRequest) -> bytes:
        """The items a request replays before its input (what input_tokens counts)."""
        return await self._context_items(request)

    async def _context_items(self, request: CreateRequest) -> bytes:
        """What the model has seen before: the conversation's items or the chain's."""
        conversations = self._stores.conversations
        if request.conversation_id is not None:
            found = await conversations.context(self._tenant, request.conversation_id)
            if found is None:
                raise conversation_not_found(request.conversation_id, param="conversation")
            items, position = found
            if position:  # a chain continued from this response starts after these items
                self._conversation_mark = ConversationMark(request.conversation_id, position)
            return items
        if request.previous_response_id is not None:
            self._context, items = await chain_items(
                self._stores, self._tenant, request.previous_response_id
            )
            return items
        return b""

    def relay(self) -> Relay:
        """The relay for a streamed answer: one that runs the tool loop when the request
        has server-side tools."""
        relay: Relay
        if self.turns is None or self.backend is None:
            relay = StreamRelay(self)
        else:
            relay = ToolStreamRelay(self, self.turns, self.backend, self.authorization)
        return ChatRelay(relay) if self.chat else relay

    def present(self, response: dict[str, Any]) -> None:
        assert self.request is not None
        present(response, self.request, self.response_id)
        if self._tools is not None:
            response["tools"] = self._tools.client_tools  # as the client gave them

    def shown(self, response: dict[str, Any]) -> dict[str, Any]:
        """The presented response as the client's `include` lets it see it (stored
        whole: a later turn, or a retrieve that asks, gets everything)."""
        assert self.request is not None
        return shown_response(response, self.request.include)

    def shown_item(self, item: Any) -> Any:
        """An output item as the client's `include` lets it see it (the same object
        when nothing is hidden)."""
        assert self.request is not None
        return shown_items([item], self.request.include)[0]

    async def persist(self, response: dict[str, Any]) -> None:
        """Store a finished response (unless the client asked for `store: false`) and add
        a completed turn to its conversation."""
        request = self.request
        assert request is not None
        status = response.get("status")
        if status not in TERMINAL_STATUSES:
            return
        describe_response(self.response_id, response)
        record, output = split_for_storage(response)
        replayed = output
        if self.turns is not None:
            # The client's view (tool items) stays with the record; the thread keeps what
            # the backend saw, so a later turn replays function calls it understands.
            record = orjson.dumps(response)
            replayed = [*self._compacted, *self.turns.backend_output]
        if request.store:
            await self._stores.responses.save(
                self._tenant,
                self.response_id,
                record,
                request.input_items,
                replayed,
                self._context,
                self._conversation_mark,
                orjson.dumps(self._tool_lists) if self._tool_lists else b"",
            )
        if request.conversation_id is not None and status in ("completed", "incomplete"):
            ids = [*request.input_ids, *(str(item.get("id")) for item in response["output"])]
            kept = self.turns.kept if self.turns is not None else {}
            if kept:  # the conversation keeps what a later turn's model needs
                output = [
                    orjson.dumps(kept[i]) if i in kept else o
                    for i, o in zip(ids[len(request.input_ids) :], output, strict=True)
                ]
            await self._append_turn(list(zip(ids, [*request.input_items, *output], strict=True)))

    async def _append_turn(self, turn: list[tuple[str, bytes]]) -> None:
        """Add a finished turn to its conversation. Items whose ids the conversation holds
        already (a client replaying items) join under fresh ids rather than be lost; a
        conversation deleted meanwhile simply takes nothing."""
        assert self.request is not None and self.request.conversation_id is not None
        conversation = self.request.conversation_id
        seen: set[str] = set()
        for i, (item_id, encoded) in enumerate(turn):
            if item_id in seen:  # repeated within the turn itself
                turn[i] = item_id, encoded = _renamed(encoded)
            seen.add(item_id)
        while True:
            taken = await self._stores.conversations.append(self._tenant, conversation, turn)
            if not taken:
                return
            clashes = set(taken)
            turn = [
                (item_id, encoded) if item_id not in clashes else _renamed(encoded)
                for item_id, encoded in turn
            ]

    async def finish_json(self, raw: bytes) -> bytes:
        """The backend's successful JSON answer, presented and stored."""
        try:
            response = orjson.loads(raw)
        except orjson.JSONDecodeError:
            response = None
        if not isinstance(response, dict):
            raise BadGatewayError("The backend returned a response that is not a JSON object.")
        if self.chat:
            response = response_object(response)
        if self.turns is not None:
            assert self.backend is not None
            response = await run_tool_loop(
                response, self.turns, self.backend, self.authorization, self.leading
            )
        elif self.leading:
            response["output"] = [*self.leading, *(response.get("output") or [])]
        self.present(response)
        await self.persist(response)
        return orjson.dumps(self.shown(response))


def _renamed(encoded: bytes) -> tuple[str, bytes]:
    item = orjson.loads(encoded)
    head, underscore, _ = str(item.get("id", "")).partition("_")
    prefix = head if underscore and 0 < len(head) <= 16 else "item"
    item["id"] = new_id(prefix)
    return item["id"], orjson.dumps(item)
