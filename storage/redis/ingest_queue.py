"""The durable ingestion queue: a Redis Stream read by a consumer group.

Any sidecar replica can take a job; a job is acknowledged only once its file is indexed
(or has failed for good), so a replica that crashes mid-file leaves the job pending and
another consumer claims it after `claim_after_ms`.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

__all__ = ["IngestQueue"]

_STREAM = "or:ingest"
_GROUP = "ingesters"


class IngestQueue:
    def __init__(self, redis: Redis, claim_after_ms: int = 60_000) -> None:
        self._redis = redis
        self._consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._claim_after_ms = claim_after_ms

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(_STREAM, _GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def put(self, job: dict[str, Any]) -> None:
        await self._redis.xadd(_STREAM, {"job": orjson.dumps(job)})

    async def take(self, block_ms: int) -> tuple[str, dict[str, Any]] | None:
        """The next job for this consumer: one abandoned by another first, else a new one."""
        claimed: Any = await self._redis.xautoclaim(
            _STREAM, _GROUP, self._consumer, self._claim_after_ms, "0-0", count=1
        )
        entries = claimed[1] if claimed else []
        if not entries:
            found: Any = await self._redis.xreadgroup(
                _GROUP, self._consumer, {_STREAM: ">"}, count=1, block=block_ms
            )
            entries = found[0][1] if found else []
        for entry_id, fields in entries:
            if fields:  # a claimed entry deleted meanwhile has no fields
                return entry_id.decode(), orjson.loads(fields[b"job"])
            await self.done(entry_id.decode())
        return None

    async def depth(self) -> int:
        # Done entries are deleted, so the stream's length is what is still to do.
        return int(await self._redis.xlen(_STREAM))

    async def done(self, entry_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(_STREAM, _GROUP, entry_id)
            pipe.xdel(_STREAM, entry_id)
            await pipe.execute()
