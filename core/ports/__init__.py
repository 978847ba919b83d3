"""Core's ports: what the engine needs from storage, as Protocols.

`storage/` holds the implementations (Redis, Qdrant, blobs); unit tests use in-memory
ones. Items travel as encoded JSON so the hot path never decodes and re-encodes history.
"""

from core.ports.connectors import ConnectorStore, StoredConnector
from core.ports.conversations import ConversationStore, ItemPage
from core.ports.files import BlobStore, BlobWriter, FileStore
from core.ports.prompts import PromptHeader, PromptStore
from core.ports.responses import ChainContext, ConversationMark, ResponseStore, StoredResponse
from core.ports.stores import Stores
from core.ports.vector_stores import Chunk, ChunkIndex, Hit, JobQueue, VectorStoreStore

__all__ = [
    "BlobStore",
    "BlobWriter",
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
