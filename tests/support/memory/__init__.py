"""In-memory implementations of the store Protocols in `core.ports`, for unit tests of
core: no Redis, no Qdrant, no disk. Each keeps the semantics its Redis (or Qdrant, or
local) counterpart documents; tests/unit/storage/test_contract_*.py run the same
assertions against both so they cannot drift.
"""

from __future__ import annotations

from core.ports import Stores
from support.memory.chunks import MemoryChunkIndex
from support.memory.connectors import MemoryConnectorStore
from support.memory.conversations import MemoryConversationStore
from support.memory.files import MemoryBlobStore, MemoryFileStore
from support.memory.prompts import MemoryPromptStore
from support.memory.responses import MemoryResponseStore
from support.memory.vector_stores import MemoryJobQueue, MemoryVectorStoreStore

__all__ = [
    "MemoryBlobStore",
    "MemoryChunkIndex",
    "MemoryConnectorStore",
    "MemoryConversationStore",
    "MemoryFileStore",
    "MemoryJobQueue",
    "MemoryPromptStore",
    "MemoryResponseStore",
    "MemoryVectorStoreStore",
    "memory_stores",
]


def memory_stores() -> Stores:
    """A fresh, empty set of every store the engine uses."""
    return Stores(
        responses=MemoryResponseStore(),
        conversations=MemoryConversationStore(),
        prompts=MemoryPromptStore(),
        connectors=MemoryConnectorStore(),
        files=MemoryFileStore(),
        blobs=MemoryBlobStore(),
        vector_stores=MemoryVectorStoreStore(),
        chunks=MemoryChunkIndex(),
        ingest=MemoryJobQueue(),
    )
