"""Wiring the engine, storage and the gRPC server into a running sidecar."""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from core.files.expiry import FileReaper
from core.gateway import Gateway
from core.ports import Stores
from core.responses.backend_client import BackendClient
from core.responses.file_inputs import FileInputSettings
from core.tools.settings import ToolSettings
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.ingestion.worker import IngestionWorker
from extproc.server import start_server
from extproc.settings import Settings
from storage.factory import build_stores
from storage.redis.client import connect

__all__ = ["Sidecar"]


class Sidecar:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        self._settings = settings
        self._redis = connect(redis_url)
        self._server: grpc.aio.Server | None = None
        self._embedder: EmbeddingsClient | None = None
        self._stores: Stores | None = None
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
        self._stores = stores = await build_stores(
            self._redis,
            s.data_dir.resolve(),
            qdrant_url=s.qdrant_url,
            qdrant_api_key=s.qdrant_api_key,
            dense_size=dense_size,
            ingest_claim_after_seconds=s.ingest_claim_after_seconds,
        )
        # Tool-loop turns go through Envoy's loopback listener, so Envoy's balancing,
        # retries and timeouts apply to them too.
        self._backend = BackendClient(
            f"http://127.0.0.1:{s.backend_route_port()}/v1", s.backend_timeout_seconds
        )
        gateway = Gateway(
            stores,
            tenant_header=s.tenant_header,
            max_upload_bytes=s.max_upload_bytes,
            embedder=self._embedder,
            backend=self._backend,
            tools=ToolSettings(s.mcp_allowed_hosts, s.mcp_timeout_seconds),
            backend_api_key=s.backend_api_key,
            file_inputs=FileInputSettings(s.input_file_mode, s.input_file_max_bytes),
        )
        address = f"127.0.0.1:{s.extproc_port}"
        self._server = await start_server(gateway, address)
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
        if self._stores is not None:
            await self._stores.chunks.close()
        if self._embedder is not None:
            await self._embedder.aclose()
        if self._backend is not None:
            await self._backend.aclose()
        await self._redis.aclose()
