"""The ingestion queue's contract, for the Redis stream and the in-memory fake: a job
counts towards the depth from `put` until `done`, whoever holds it meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from support.harness import RedisServer
from support.memory import MemoryJobQueue

from core.ports import JobQueue
from storage.redis.client import connect
from storage.redis.ingest_queue import IngestQueue


@pytest.fixture(params=["production", "memory"])
async def job_queue(request: pytest.FixtureRequest) -> AsyncIterator[JobQueue]:
    if request.param == "memory":
        yield MemoryJobQueue()
        return
    # A Redis of its own: the suite's sidecars consume the shared Redis's queue.
    server = RedisServer().start()
    client = connect(server.url)
    try:
        queue = IngestQueue(client)
        await queue.ensure_group()
        yield queue
    finally:
        await client.aclose()
        server.stop()


async def test_depth_counts_jobs_until_done(job_queue: JobQueue) -> None:
    assert await job_queue.depth() == 0
    await job_queue.put({"file_id": "a"})
    await job_queue.put({"file_id": "b"})
    assert await job_queue.depth() == 2
    taken = await job_queue.take(block_ms=10)
    assert taken is not None and taken[1] == {"file_id": "a"}
    assert await job_queue.depth() == 2  # taken, not yet done
    await job_queue.done(taken[0])
    assert await job_queue.depth() == 1
    last = await job_queue.take(block_ms=10)
    assert last is not None
    await job_queue.done(last[0])
    assert await job_queue.depth() == 0
    assert await job_queue.take(block_ms=10) is None
