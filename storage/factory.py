"""Building the stores core needs (its ports) from where the state lives."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from core.ports import BlobStore, Stores
from storage.blobs.local import LocalBlobStore
from storage.qdrant.edge_index import EdgeChunkIndex
from storage.qdrant.index import QdrantChunkIndex
from storage.qdrant.local_import import import_local_mode
from storage.redis.connectors import RedisConnectorStore
from storage.redis.conversations import RedisConversationStore
from storage.redis.durability import Durability
from storage.redis.files import RedisFileStore
from storage.redis.ingest_queue import IngestQueue
from storage.redis.prompts import RedisPromptStore
from storage.redis.responses import RedisResponseStore
from storage.redis.vector_stores import RedisVectorStoreStore

__all__ = ["build_stores"]


async def build_stores(
    redis: Redis,
    data_dir: Path,
    *,
    qdrant_url: str | None = None,
    qdrant_api_key: str | None = None,
    dense_size: int | None = None,
    ingest_claim_after_seconds: float = 60.0,
    blobs: BlobStore | None = None,
    wait_replicas: int = 0,
) -> Stores:
    """Redis for state, Qdrant (a server, or the embedded engine under the data dir) for
    chunks, the data dir for file contents. The caller closes `stores.chunks` when done."""
    index: QdrantChunkIndex | EdgeChunkIndex
    if qdrant_url:
        index = QdrantChunkIndex(url=qdrant_url, api_key=qdrant_api_key, dense_size=dense_size)
        await index.start()
    else:
        index = EdgeChunkIndex(path=data_dir / "vectors", dense_size=dense_size)
        await index.start()
        # an index an older release kept in qdrant-client's local mode is carried over once
        await import_local_mode(data_dir / "qdrant", index)
    durability = Durability(redis, wait_replicas)
    queue = IngestQueue(redis, claim_after_ms=int(ingest_claim_after_seconds * 1000))
    await queue.ensure_group()
    return Stores(
        responses=RedisResponseStore(redis, durability),
        conversations=RedisConversationStore(redis, durability),
        prompts=RedisPromptStore(redis),
        connectors=RedisConnectorStore(redis),
        files=RedisFileStore(redis, durability),
        blobs=blobs or LocalBlobStore(data_dir / "files"),
        vector_stores=RedisVectorStoreStore(redis),
        chunks=index,
        ingest=queue,
    )
