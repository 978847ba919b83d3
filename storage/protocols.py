"""What the engine needs from storage. Implementations live beside this module.

Items travel as encoded JSON: a context is the items joined with commas (ready to splice
into a request's `input` array) and listings are JSON arrays, so the hot path never
decodes and re-encodes history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from storage.blob_store import BlobStore

__all__ = [
    "ChainContext",
    "Chunk",
    "ChunkIndex",
    "ConnectorStore",
    "ConversationMark",
    "ConversationStore",
    "FileStore",
    "Hit",
    "ItemPage",
    "JobQueue",
    "PromptHeader",
    "PromptStore",
    "ResponseStore",
    "StoredConnector",
    "StoredResponse",
    "Stores",
    "VectorStoreStore",
]


@dataclass(frozen=True, slots=True)
class ConversationMark:
    """Where a chain starts inside a conversation: the response that began it was
    created with `conversation` and saw the conversation's items up to `position`."""

    conversation_id: str
    position: int


@dataclass(frozen=True, slots=True)
class ChainContext:
    """Everything a response continued with `previous_response_id` sees, oldest first.

    `items` are the chain's own encoded items joined with commas (empty when there are
    none). `anchor` is an opaque position the store uses to link the next response after
    it. `conversation` is set when the chain began in a conversation: the conversation's
    items up to that mark, read from the conversation store as they are now, come before
    `items` (they are never copied into the chain).
    """

    items: bytes
    anchor: tuple[str, int, str]
    conversation: ConversationMark | None = None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    record: bytes  # the response object, encoded, without its `output`
    output: bytes  # the output items as an encoded JSON array


class ResponseStore(Protocol):
    """Persisted responses, scoped by tenant: another tenant's id is simply not found."""

    async def load_context(self, tenant: str, response_id: str) -> ChainContext | None:
        """The input and output items of the chain ending at `response_id`, with the
        conversation mark of its first response if that one was created in one."""

    async def save(
        self,
        tenant: str,
        response_id: str,
        record: bytes,
        input_items: list[bytes],
        output_items: list[bytes],
        parent: ChainContext | None,
        conversation: ConversationMark | None = None,
        tool_lists: bytes = b"",
    ) -> None:
        """Store a finished response after `parent` (atomically: all of it or nothing).

        `conversation` anchors a response that starts a chain (no `parent`) in the
        conversation it was created in; a continuation keeps its parent's anchor.
        `tool_lists` are the MCP tool lists of the chain so far, for later turns."""

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def tool_lists(self, tenant: str, response_id: str) -> bytes | None:
        """The MCP tool lists saved with a response (JSON, by server label), if any."""

    async def input_items(self, tenant: str, response_id: str) -> bytes | None:
        """The items given as input to this response (not its ancestors'): a JSON array."""

    async def delete(self, tenant: str, response_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ItemPage:
    items: list[bytes]  # encoded items, in the order asked for
    has_more: bool


class ConversationStore(Protocol):
    """Conversations and their items, scoped by tenant.

    Items keep the position they were added at (no renumbering), and a batch of items
    is added all together or not at all, after everything already there. Item ids are
    unique within a conversation.
    """

    async def create(
        self, tenant: str, conversation_id: str, record: bytes, items: list[tuple[str, bytes]]
    ) -> None: ...

    async def get(self, tenant: str, conversation_id: str) -> bytes | None: ...

    async def replace(self, tenant: str, conversation_id: str, record: bytes) -> bool:
        """Overwrite the conversation object if the conversation exists."""

    async def delete(self, tenant: str, conversation_id: str) -> bool: ...

    async def append(
        self, tenant: str, conversation_id: str, items: list[tuple[str, bytes]]
    ) -> list[str] | None:
        """Add (id, encoded item) pairs after the existing items. None without the
        conversation; else the ids it already holds, in which case nothing was added."""

    async def context(self, tenant: str, conversation_id: str) -> tuple[bytes, int] | None:
        """All items in order, encoded and joined with commas, and the position of the
        last one (0 without items): a `ConversationMark` for what was read."""

    async def context_until(self, tenant: str, conversation_id: str, position: int) -> bytes:
        """The items at positions up to `position`, as they are now (deleted ones are
        gone; nothing once the conversation is deleted), joined like `context`."""

    async def list_items(
        self, tenant: str, conversation_id: str, limit: int, descending: bool, after: str | None
    ) -> ItemPage | None: ...

    async def get_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bytes | None] | None:
        """(conversation record, item or None), or None without the conversation."""

    async def delete_item(
        self, tenant: str, conversation_id: str, item_id: str
    ) -> tuple[bytes, bool] | None:
        """(conversation record, whether the item existed), or None without it."""


class FileStore(Protocol):
    """File objects (metadata), scoped by tenant; expired files read as missing."""

    async def create(self, tenant: str, file: dict[str, Any]) -> None: ...

    async def get(self, tenant: str, file_id: str) -> dict[str, Any] | None: ...

    async def page(
        self, tenant: str, purpose: str | None, limit: int, descending: bool, after: str | None
    ) -> ItemPage: ...

    async def delete(self, tenant: str, file_id: str) -> bool: ...

    async def expired(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        """(tenant, file id) of files past their expiry, for the reaper."""


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store the engine uses, handed around as one."""

    responses: ResponseStore
    conversations: ConversationStore
    prompts: PromptStore
    connectors: ConnectorStore
    files: FileStore
    blobs: BlobStore
    vector_stores: VectorStoreStore
    chunks: ChunkIndex
    ingest: JobQueue


class PromptStore(Protocol):
    """Versioned prompt templates, scoped by tenant. Versions are immutable and numbered
    1, 2, 3...; the default version is the newest unless one was set."""

    async def create(self, tenant: str, prompt_id: str, header: bytes, version: bytes) -> None:
        """A new prompt whose version 1 is `version`."""

    async def add_version(self, tenant: str, prompt_id: str, version: bytes) -> int | None:
        """Store the next version; its number, or None without the prompt."""

    async def get(
        self, tenant: str, prompt_id: str, version: int | None
    ) -> tuple[PromptHeader, bytes | None] | None:
        """The prompt's header and a version (the default when None; None if unknown)."""

    async def versions(
        self, tenant: str, prompt_id: str
    ) -> tuple[PromptHeader, list[bytes]] | None:
        """Every version, oldest first."""

    async def set_default(self, tenant: str, prompt_id: str, version: int) -> PromptHeader | None:
        """Pin the default version (the caller checks that it exists)."""

    async def list(self, tenant: str) -> list[tuple[PromptHeader, bytes]]:
        """Every prompt with its default version, oldest prompt first."""

    async def delete(self, tenant: str, prompt_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PromptHeader:
    header: bytes  # the prompt's own fields (name, created_at, ...), encoded
    latest: int
    default: int  # the pinned default version, or `latest`


@dataclass(frozen=True, slots=True)
class StoredConnector:
    """A registered MCP server: its public object and the headers sent to it.

    `obj` is what clients see (`header_names` lists the headers' names); `headers` are
    credentials, lower-cased names to values, for calling the server only. They are left
    out of the repr so that logging a connector never logs them.
    """

    obj: dict[str, Any]
    headers: dict[str, str] = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def server_url(self) -> str:
        return str(self.obj["server_url"])

    @property
    def allowed_tools(self) -> list[str] | None:
        """Tool names the connector may use; None allows all of them."""
        found: list[str] | None = self.obj.get("allowed_tools")
        return found

    @property
    def require_approval(self) -> str | dict[str, Any] | None:
        """'always', 'never', {'always'|'never': {'tool_names': [...]}}, or None (unset)."""
        found: str | dict[str, Any] | None = self.obj.get("require_approval")
        return found


class ConnectorStore(Protocol):
    """Registered MCP connectors, scoped by tenant: another tenant's id is not found.

    Listings hold public objects only; the headers come back from `get` alone.
    """

    async def create(self, tenant: str, connector: StoredConnector) -> None: ...

    async def get(self, tenant: str, connector_id: str) -> StoredConnector | None: ...

    async def update(self, tenant: str, connector: StoredConnector) -> bool:
        """Overwrite the object and headers if the connector still exists."""

    async def delete(self, tenant: str, connector_id: str) -> bool: ...

    async def page(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        """Encoded public objects in creation order (newest first when `descending`)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    sparse: tuple[list[int], list[float]]  # (term indices, weights)
    dense: list[float] | None


@dataclass(frozen=True, slots=True)
class Hit:
    file_id: str
    filename: str
    score: float
    attributes: dict[str, Any]
    text: str
    chunk_index: int


class ChunkIndex(Protocol):
    """Chunks of vector-store files with their lexical (and dense) vectors."""

    async def upsert_file(
        self,
        tenant: str,
        vector_store_id: str,
        file_id: str,
        filename: str,
        attributes: dict[str, Any],
        chunks: list[Chunk],
    ) -> None: ...

    async def delete_file(self, tenant: str, vector_store_id: str, file_id: str) -> None: ...

    async def delete_store(self, tenant: str, vector_store_id: str) -> None: ...

    async def update_attributes(
        self, tenant: str, vector_store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None: ...

    async def file_chunks(self, tenant: str, vector_store_id: str, file_id: str) -> list[str]: ...

    async def search(
        self,
        tenant: str,
        vector_store_ids: list[str],
        sparse: tuple[list[int], list[float]],
        dense: list[float] | None,
        limit: int,
        filters: dict[str, Any] | None,
        score_threshold: float | None,
        weights: tuple[float, float] | None = None,
    ) -> list[Hit]:
        """Best first; raises ValueError for malformed filters."""


class VectorStoreStore(Protocol):
    """Vector stores, their files and batches (metadata; chunks are in the index)."""

    async def save_store(self, tenant: str, store: dict[str, Any], new: bool = False) -> None: ...

    async def get_store(self, tenant: str, store_id: str) -> dict[str, Any] | None: ...

    async def page_stores(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage: ...

    async def delete_store(self, tenant: str, store_id: str) -> list[str] | None: ...

    async def put_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> None: ...

    async def update_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> bool:
        """Write a file's new state only while it is still in the store."""

    async def get_file(self, tenant: str, store_id: str, file_id: str) -> dict[str, Any] | None: ...

    async def files(self, tenant: str, store_id: str) -> list[dict[str, Any]]: ...

    async def remove_file(self, tenant: str, store_id: str, file_id: str) -> bool: ...

    async def stores_of_file(self, tenant: str, file_id: str) -> list[str]: ...

    async def save_batch(self, tenant: str, batch: dict[str, Any]) -> None: ...

    async def get_batch(self, tenant: str, batch_id: str) -> dict[str, Any] | None: ...


class JobQueue(Protocol):
    """Durable jobs: taken by one consumer, redelivered if it dies before `done`."""

    async def put(self, job: dict[str, Any]) -> None: ...

    async def take(self, block_ms: int) -> tuple[str, dict[str, Any]] | None: ...

    async def done(self, entry_id: str) -> None: ...
