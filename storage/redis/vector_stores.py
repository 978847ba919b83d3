"""Vector stores, their files and file batches in Redis (chunks live in the index).

Under the tenant's prefix:
- `vs:<store>` the vector store object; `vsi` orders the tenant's stores by a sequence.
- `vsf:<store>` file id -> vector store file object; `vsfo:<store>` orders them.
- `vsb:<batch>` a file batch: its object and the ids of its files.
- `fvs:<file>` the stores a file is in, so deleting the file reaches all of them.

Status changes from ingestion go through `update_file`, which writes only while the file
is still in the store: a file removed during ingestion stays removed.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from core.ports import ItemPage
from storage.redis.paging import ZsetPager
from storage.tenant_keys import tenant_prefix

__all__ = ["RedisVectorStoreStore"]

_UPDATE_FILE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class RedisVectorStoreStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._update_file = redis.register_script(_UPDATE_FILE)
        self._pager = ZsetPager(redis)

    # Stores

    async def save_store(self, tenant: str, store: dict[str, Any], new: bool = False) -> None:
        p = tenant_prefix(tenant)
        if new:
            sequence = await self._redis.incr(f"{p}vsseq")
            await self._redis.zadd(f"{p}vsi", {store["id"]: sequence})
        await self._redis.set(f"{p}vs:{store['id']}", orjson.dumps(store))

    async def get_store(self, tenant: str, store_id: str) -> dict[str, Any] | None:
        found = await self._redis.get(f"{tenant_prefix(tenant)}vs:{store_id}")
        return None if found is None else dict(orjson.loads(found))

    async def page_stores(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        p = tenant_prefix(tenant)
        ids, more = await self._pager.ids(f"{p}vsi", limit, descending, after, before)
        found: Any = await self._redis.mget([f"{p}vs:{i}" for i in ids]) if ids else []
        return ItemPage(items=[item for item in found if item is not None], has_more=more)

    async def delete_store(self, tenant: str, store_id: str) -> list[str] | None:
        """Delete a store; the ids of the files it held, or None if there was none."""
        p = tenant_prefix(tenant)
        keys: Any = await self._redis.hkeys(f"{p}vsf:{store_id}")
        file_ids = [key.decode() for key in keys]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(f"{p}vs:{store_id}")
            pipe.zrem(f"{p}vsi", store_id)
            pipe.delete(f"{p}vsf:{store_id}", f"{p}vsfo:{store_id}")
            for file_id in file_ids:
                pipe.srem(f"{p}fvs:{file_id}", store_id)
            found = await pipe.execute()
        return file_ids if found[0] else None

    # Files in stores

    async def put_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> None:
        p = tenant_prefix(tenant)
        sequence = await self._redis.incr(f"{p}vsseq")
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{p}vsf:{store_id}", file["id"], orjson.dumps(file))
            pipe.zadd(f"{p}vsfo:{store_id}", {file["id"]: sequence}, nx=True)
            pipe.sadd(f"{p}fvs:{file['id']}", store_id)
            await pipe.execute()

    async def update_file(self, tenant: str, store_id: str, file: dict[str, Any]) -> bool:
        key = f"{tenant_prefix(tenant)}vsf:{store_id}"
        return bool(await self._update_file(keys=[key], args=[file["id"], orjson.dumps(file)]))

    async def get_file(self, tenant: str, store_id: str, file_id: str) -> dict[str, Any] | None:
        found = await self._redis.hget(f"{tenant_prefix(tenant)}vsf:{store_id}", file_id)
        return None if found is None else dict(orjson.loads(found))

    async def files(self, tenant: str, store_id: str) -> list[dict[str, Any]]:
        """Every file of the store, in the order they were added."""
        p = tenant_prefix(tenant)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrange(f"{p}vsfo:{store_id}", 0, -1)
            pipe.hgetall(f"{p}vsf:{store_id}")
            order, files = await pipe.execute()
        return [orjson.loads(files[key]) for key in order if key in files]

    async def remove_file(self, tenant: str, store_id: str, file_id: str) -> bool:
        p = tenant_prefix(tenant)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(f"{p}vsf:{store_id}", file_id)
            pipe.zrem(f"{p}vsfo:{store_id}", file_id)
            pipe.srem(f"{p}fvs:{file_id}", store_id)
            removed, _, _ = await pipe.execute()
        return bool(removed)

    async def stores_of_file(self, tenant: str, file_id: str) -> list[str]:
        members: Any = await self._redis.smembers(f"{tenant_prefix(tenant)}fvs:{file_id}")
        return sorted(member.decode() for member in members)

    # Batches

    async def save_batch(self, tenant: str, batch: dict[str, Any]) -> None:
        await self._redis.set(f"{tenant_prefix(tenant)}vsb:{batch['id']}", orjson.dumps(batch))

    async def get_batch(self, tenant: str, batch_id: str) -> dict[str, Any] | None:
        found = await self._redis.get(f"{tenant_prefix(tenant)}vsb:{batch_id}")
        return None if found is None else dict(orjson.loads(found))
