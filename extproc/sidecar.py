"""Wiring the engine, storage and the gRPC server into a running sidecar."""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from core.files.expiry import FileReaper
from core.gateway import Gateway
from core.ports import Stores
from core.responses.backend_client import BackendClient
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.ingestion.worker import IngestionWorker
from extproc.server import start_server
from extproc.settings import Settings
from storage.blobs.local import LocalBlobStore
from storage.qdrant.index import QdrantChunkIndex
from storage.redis.client import connect
from storage.redis.connectors import RedisConnectorStore
from storage.redis.conversations import RedisConversationStore
from storage.redis.files import RedisFileStore
from storage.redis.ingest_queue import IngestQueue
from storage.redis.prompts import RedisPromptStore
from storage.redis.responses import RedisResponseStore
from storage.redis.vector_stores import RedisVectorStoreStore

__all__ = ["Sidecar"]


class Sidecar:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        self._settings = settings
        self._redis = connect(redis_url)
        self._server: grpc.aio.Server | None = None
        self._embedder: EmbeddingsClient | None = None
        self._index: QdrantChunkIndex | None = None
        self._backend: BackendClient | None = None
        self._stop = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []

    async def _embeddings(self) -> tuple[EmbeddingsClient | None, int | None]:
        """The embeddings client and its vector size (asked once, at start)."""
        s = self._settings
        if not s.embeddings_url:
            return None, None
        client = EmbeddingsClient(s.embeddings_url, s.embeddings_api_key, s.embeddings_model)
        probe = await client.embed(["dimension probe"])
        return client, len(probe[0])

    async def start(self) -> None:
        s = self._settings
        await self._redis.ping()  # fail at start, not on the first request
        self._embedder, dense_size = await self._embeddings()
        data_dir = s.data_dir.resolve()
        if s.qdrant_url:
            index = QdrantChunkIndex(
                url=s.qdrant_url, api_key=s.qdrant_api_key, dense_size=dense_size
            )
        else:
            index = QdrantChunkIndex(path=data_dir / "qdrant", dense_size=dense_size)
        await index.start()
        self._index = index
        queue = IngestQueue(self._redis, claim_after_ms=int(s.ingest_claim_after_seconds * 1000))
        await queue.ensure_group()
        stores = Stores(
            responses=RedisResponseStore(self._redis),
            conversations=RedisConversationStore(self._redis),
            prompts=RedisPromptStore(self._redis),
            connectors=RedisConnectorStore(self._redis),
            files=RedisFileStore(self._redis),
            blobs=LocalBlobStore(data_dir / "files"),
            vector_stores=RedisVectorStoreStore(self._redis),
            chunks=index,
            ingest=queue,
        )
        # Tool-loop turns go through Envoy's loopback listener; the backend key, when
        # set, replaces the client's, as on the main path.
        self._backend = BackendClient(
            f"http://127.0.0.1:{s.backend_route_port()}/v1",
            s.backend_api_key,
            s.backend_timeout_seconds,
        )
        gateway = Gateway(
            stores,
            s.tenant_header,
            s.max_upload_bytes,
            self._embedder,
            self._backend,
            s.mcp_allowed_hosts,
            s.mcp_timeout_seconds,
        )
        address = f"127.0.0.1:{s.extproc_port}"
        self._server = await start_server(gateway, address, s.backend_api_key)
        worker = IngestionWorker(stores, self._embedder)
        reaper = FileReaper(stores, gateway.on_file_deleted)
        self._workers += [
            asyncio.create_task(worker.run(self._stop)),
            asyncio.create_task(reaper.run(self._stop, s.file_reaper_interval_seconds)),
        ]

    async def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            await self._server.stop(grace=5)
        for task in self._workers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._index is not None:
            await self._index.close()
        if self._embedder is not None:
            await self._embedder.aclose()
        if self._backend is not None:
            await self._backend.aclose()
        await self._redis.aclose()
