"""Asking a sidecar's gRPC health service, for places without a native gRPC probe
(docker compose's healthcheck runs `openresponses-gw health`)."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

__all__ = ["serving"]


def serving(address: str, timeout: float = 2.0) -> bool:
    """Whether the sidecar at host:port reports SERVING for the ext_proc service."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(
            service="envoy.service.ext_proc.v3.ExternalProcessor"
        )
        try:
            answer = stub.Check(request, timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)
