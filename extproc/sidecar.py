"""Wiring the engine, storage and the gRPC server into a running sidecar."""

from __future__ import annotations

import grpc

from core.gateway import Gateway
from core.settings import Settings
from extproc.server import start_server
from storage.blob_store import LocalBlobStore
from storage.protocols import Stores
from storage.redis_client import connect
from storage.redis_conversations import RedisConversationStore
from storage.redis_files import RedisFileStore
from storage.redis_prompts import RedisPromptStore
from storage.redis_responses import RedisResponseStore

__all__ = ["Sidecar"]


class Sidecar:
    def __init__(self, settings: Settings, redis_url: str) -> None:
        self._settings = settings
        self._redis = connect(redis_url)
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        await self._redis.ping()  # fail at start, not on the first request
        stores = Stores(
            responses=RedisResponseStore(self._redis),
            conversations=RedisConversationStore(self._redis),
            prompts=RedisPromptStore(self._redis),
            files=RedisFileStore(self._redis),
            blobs=LocalBlobStore(self._settings.data_dir.resolve() / "files"),
        )
        gateway = Gateway(stores, self._settings.tenant_header, self._settings.max_upload_bytes)
        address = f"127.0.0.1:{self._settings.extproc_port}"
        self._server = await start_server(gateway, address, self._settings.backend_api_key)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=5)
        await self._redis.aclose()
