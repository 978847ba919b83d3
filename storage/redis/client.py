"""Connecting to Redis (or any server speaking its protocol, such as Valkey), standalone
or a Redis Cluster."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ClusterDownError, ConnectionError, TimeoutError

__all__ = ["connect"]


def connect(url: str, cluster: bool = False) -> Redis:
    """Bytes in and out: stored items are spliced as they are, never re-decoded.

    With `cluster`, `url` is one seed node. Every transaction and script the stores run
    touches one tenant's keys, which share a hash tag (storage.tenant_keys), so each
    stays on one slot. MOVED and ASK are followed by the client; a failover's refused
    connections and CLUSTERDOWN are retried with jittered backoff for a few seconds,
    after which the request fails as a 503 (extproc.processor).
    """
    if not cluster:
        return Redis.from_url(url, decode_responses=False, health_check_interval=30)
    retry = Retry(
        ExponentialWithJitterBackoff(base=0.05, cap=1.0),
        retries=8,
        supported_errors=(ConnectionError, TimeoutError, ClusterDownError),
    )
    client = RedisCluster.from_url(url, decode_responses=False, retry=retry)
    # The cluster client speaks the same commands, pipelines and scripts the stores use.
    return cast(Redis, client)
