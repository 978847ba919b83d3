"""`grpc.health.v1.Health` on the ext_proc port, for Envoy's cluster health checks and
Kubernetes `grpc` probes.

The sidecar is SERVING while what every request needs answers: Redis always, and the
vector engine when it is a server. A probe task checks both once a second and sets the
status, so a health check never waits on a dependency itself; on shutdown the status
turns NOT_SERVING for good, before the server stops taking streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

__all__ = ["EXT_PROC_SERVICE", "HealthReporter", "Probe"]

log = logging.getLogger(__name__)

EXT_PROC_SERVICE = "envoy.service.ext_proc.v3.ExternalProcessor"
_INTERVAL = 1.0  # seconds between probes


@dataclass(frozen=True, slots=True)
class Probe:
    """A dependency's check: `check` returns when it answers and raises when it does not;
    one slower than `timeout` seconds counts as down."""

    name: str
    check: Callable[[], Awaitable[object]]
    timeout: float = 1.0


class HealthReporter:
    def __init__(self, probes: Sequence[Probe]) -> None:
        self._probes = probes
        self._servicer = health.aio.HealthServicer()
        self._task: asyncio.Task[None] | None = None
        self._serving: bool | None = None

    def register(self, server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self._servicer, server)

    async def start(self) -> None:
        await self._check()  # known before the first stream is taken
        self._task = asyncio.create_task(self._watch())

    async def _check(self) -> None:
        down = []
        for probe in self._probes:
            try:
                async with asyncio.timeout(probe.timeout):
                    await probe.check()
            except Exception:
                down.append(probe.name)
        serving = not down
        if serving != self._serving:
            if serving:
                log.info("health: SERVING")
            else:
                log.warning("health: NOT_SERVING (%s not answering)", ", ".join(down))
            self._serving = serving
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for service in ("", EXT_PROC_SERVICE):
            await self._servicer.set(service, status)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(_INTERVAL)  # a probe cadence, not a synchronisation
            await self._check()

    async def shut_down(self) -> None:
        """NOT_SERVING from now on, whatever the probes say."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._servicer.enter_graceful_shutdown()
