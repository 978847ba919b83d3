"""MCP connectors in Redis.

Under the tenant's prefix, `cn:<connector>` is a hash: the public object (`obj`) and the
headers sent to its server (`hdr`). Keeping the two apart means a listing reads only
public objects and never has credentials in hand. `cni` orders the tenant's connectors by
a per-tenant sequence (`cnseq`), so pages are stable even within one second.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from core.ports import ItemPage, StoredConnector
from storage.redis.paging import ZsetPager
from storage.tenant_keys import tenant_prefix

__all__ = ["RedisConnectorStore"]

# Write only while the connector exists: an update racing a delete must not bring it back.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'obj', ARGV[1], 'hdr', ARGV[2])
return 1
"""


class RedisConnectorStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._update = redis.register_script(_UPDATE)
        self._pager = ZsetPager(redis)

    @staticmethod
    def _key(tenant: str, connector_id: str) -> str:
        return f"{tenant_prefix(tenant)}cn:{connector_id}"

    async def create(self, tenant: str, connector: StoredConnector) -> None:
        p = tenant_prefix(tenant)
        sequence = await self._redis.incr(f"{p}cnseq")
        obj, headers = orjson.dumps(connector.obj), orjson.dumps(connector.headers)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(tenant, connector.id), mapping={"obj": obj, "hdr": headers})
            pipe.zadd(f"{p}cni", {connector.id: sequence})
            await pipe.execute()

    async def get(self, tenant: str, connector_id: str) -> StoredConnector | None:
        found: Any = await self._redis.hmget(self._key(tenant, connector_id), ["obj", "hdr"])
        obj, headers = found
        if obj is None:
            return None
        return StoredConnector(obj=orjson.loads(obj), headers=orjson.loads(headers or b"{}"))

    async def update(self, tenant: str, connector: StoredConnector) -> bool:
        args = [orjson.dumps(connector.obj), orjson.dumps(connector.headers)]
        found: Any = await self._update(keys=[self._key(tenant, connector.id)], args=args)
        return bool(found)

    async def delete(self, tenant: str, connector_id: str) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(tenant, connector_id))
            pipe.zrem(f"{tenant_prefix(tenant)}cni", connector_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def page(
        self, tenant: str, limit: int, descending: bool, after: str | None, before: str | None
    ) -> ItemPage:
        p = tenant_prefix(tenant)
        ids, more = await self._pager.ids(f"{p}cni", limit, descending, after, before)
        async with self._redis.pipeline(transaction=False) as pipe:
            for connector_id in ids:
                pipe.hget(self._key(tenant, connector_id), "obj")
            found: list[Any] = await pipe.execute() if ids else []
        return ItemPage(items=[obj for obj in found if obj is not None], has_more=more)
