"""Acknowledged writes that survive the loss of their master: after a stored response,
appended conversation items or a file record, WAIT for K replicas to have it
(`OPENRESPONSES_REDIS_WAIT_REPLICAS`). Off (0) by default: Redis replication is
asynchronous, and waiting costs a replication round trip per write."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

__all__ = ["Durability", "NotReplicatedError"]


class NotReplicatedError(RedisError):
    """Fewer replicas than asked for confirmed a write in time (a storage fault: the
    client gets a 503 and may retry)."""


class Durability:
    def __init__(self, redis: Redis, replicas: int = 0, timeout_ms: int = 1000) -> None:
        self._redis = redis
        self.replicas = replicas
        self._timeout_ms = timeout_ms

    async def confirm(self, key: str) -> None:
        """Wait until `replicas` replicas of the master holding `key` have its writes."""
        if self.replicas <= 0:
            return
        redis: Any = self._redis
        if isinstance(redis, RedisCluster):
            # WAIT counts the replicas of the connection's own master: the key's.
            node = redis.get_node_from_key(key)
            acked = await redis.execute_command(
                "WAIT", self.replicas, self._timeout_ms, target_nodes=node
            )
        else:
            acked = await redis.execute_command("WAIT", self.replicas, self._timeout_ms)
        if int(acked) < self.replicas:
            raise NotReplicatedError(
                f"only {acked} of {self.replicas} replicas confirmed the write in time"
            )
