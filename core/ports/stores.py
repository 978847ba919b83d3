"""Every store the engine uses, handed around as one."""

from __future__ import annotations

from dataclasses import dataclass

from core.ports.connectors import ConnectorStore
from core.ports.conversations import ConversationStore
from core.ports.files import BlobStore, FileStore
from core.ports.prompts import PromptStore
from core.ports.responses import ResponseStore
from core.ports.vector_stores import ChunkIndex, JobQueue, VectorStoreStore

__all__ = ["Stores"]


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
