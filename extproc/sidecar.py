"""Wiring the engine, storage and the gRPC server into a running sidecar."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

import grpc
from opentelemetry.sdk.trace import TracerProvider

from core.common.telemetry import install
from core.files.expiry import FileReaper
from core.gateway import Gateway
from core.ports import BlobStore, Stores
from core.responses.backend_client import BackendClient
from core.responses.compaction.seal import Sealer
from core.responses.file_inputs import FileInputSettings
from core.tools.settings import ToolSettings
from core.vector_stores.ingestion.embeddings import EmbeddingsClient
from core.vector_stores.ingestion.worker import IngestionWorker
from extproc.gc_tuning import settle_after_start
from extproc.health import HealthReporter, Probe
from extproc.metrics import Metrics
from extproc.server import start_server
from extproc.settings import Settings
from extproc.tracing import configure_tracing
from storage.blobs.s3 import S3BlobStore
from storage.blobs.select import open_blob_store
from storage.factory import build_stores
from storage.redis.client import connect
from storage.redis.shared_keys import shared_key
from storage.traced_index import TracedChunkIndex

__all__ = ["Sidecar"]

log = logging.getLogger(__name__)


class Sidecar:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        self._settings = settings
        self._redis = connect(redis_url, settings.redis_cluster)
        self._server: grpc.aio.Server | None = None
        self._embedder: EmbeddingsClient | None = None
        self._stores: Stores | None = None
        self._blobs: BlobStore | None = None
        self._health: HealthReporter | None = None
        self._tracing: TracerProvider | None = None
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
        self._tracing = configure_tracing()
        await self._redis.ping()  # fail at start, not on the first request
        if (warning := s.shared_state_warning()) is not None:
            log.warning(warning)
        self._embedder, dense_size = await self._embeddings()
        self._blobs = await open_blob_store(s.blob_url, s.data_dir.resolve(), s.s3_endpoint_url)
        self._stores = stores = await build_stores(
            self._redis,
            s.data_dir.resolve(),
            qdrant_url=s.qdrant_url,
            qdrant_api_key=s.qdrant_api_key,
            dense_size=dense_size,
            ingest_claim_after_seconds=s.ingest_claim_after_seconds,
            blobs=self._blobs,
            wait_replicas=s.redis_wait_replicas,
        )
        if self._tracing is not None:
            self._stores = stores = replace(stores, chunks=TracedChunkIndex(stores.chunks))
        # Tool-loop turns go through Envoy's loopback listener by default, so Envoy's
        # balancing, retries and timeouts apply to them too (OPENRESPONSES_INTERNAL_URL).
        self._backend = BackendClient(s.follow_up_url(), s.backend_timeout_seconds, s.backend_api)
        # Every replica must open the compaction items any other one sealed.
        compaction_key = s.compaction_key_bytes() or await shared_key(self._redis, "compaction")
        gateway = Gateway(
            stores,
            tenant_header=s.tenant_header,
            max_upload_bytes=s.max_upload_bytes,
            embedder=self._embedder,
            backend=self._backend,
            tools=ToolSettings(s.mcp_allowed_hosts, s.mcp_timeout_seconds),
            backend_api_key=s.backend_api_key,
            sealer=Sealer(compaction_key),
            file_inputs=FileInputSettings(s.input_file_mode, s.input_file_max_bytes),
        )
        probes = [Probe("redis", self._redis.ping)]
        if s.qdrant_url:  # the embedded engine lives in this process: nothing to probe
            probes.append(Probe("qdrant", stores.chunks.ping, timeout=5.0))
        self._health = HealthReporter(probes)
        await self._health.start()
        metrics = None
        if s.metrics_port:
            metrics = Metrics()
            metrics.serve(s.metrics_host, s.metrics_port)
            install(metrics)  # what core reports (tool calls, turns, ingestion) goes there
        self._server = await start_server(gateway, self.address, self._health, metrics)
        worker = IngestionWorker(stores, self._embedder)
        reaper = FileReaper(stores, gateway.on_file_deleted)
        # Several files at once: one file's embedding requests and engine writes overlap
        # another's parsing, and a large file does not hold up the small ones behind it.
        self._workers += [
            asyncio.create_task(worker.run(self._stop)) for _ in range(s.ingest_concurrency)
        ]
        self._workers += [
            asyncio.create_task(reaper.run(self._stop, s.file_reaper_interval_seconds)),
            asyncio.create_task(self._reap_uploads()),
        ]
        settle_after_start()  # no collector pass walks start-up objects again (tails)

    @property
    def address(self) -> str:
        s = self._settings
        host = f"[{s.extproc_host}]" if ":" in s.extproc_host else s.extproc_host
        return f"{host}:{s.extproc_port}"

    async def _reap_uploads(self) -> None:
        """Abort the multipart uploads of sidecars that died mid-upload (an hour is far
        longer than any upload stays silent), at start and then hourly."""
        if not isinstance(self._blobs, S3BlobStore):
            return
        while not self._stop.is_set():
            try:
                await self._blobs.reap_uploads(older_than_seconds=3600)
            except Exception:
                log.exception("reaping abandoned uploads failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 3600)

    async def stop(self) -> None:
        """Graceful: NOT_SERVING at once (Envoy's health checks move traffic away), no new
        streams, in-flight ones finish within the grace period; then the rest closes."""
        self._stop.set()
        if self._health is not None:
            await self._health.shut_down()
        if self._server is not None:
            await self._server.stop(grace=self._settings.shutdown_grace_seconds)
        for task in self._workers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._stores is not None:
            await self._stores.chunks.close()
        if isinstance(self._blobs, S3BlobStore):
            await self._blobs.close()
        if self._embedder is not None:
            await self._embedder.aclose()
        if self._backend is not None:
            await self._backend.aclose()
        await self._redis.aclose()
        if self._tracing is not None:
            self._tracing.shutdown()  # exports the spans still batched
