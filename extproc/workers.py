"""Several sidecar processes for `run` (OPENRESPONSES_WORKERS): one Python process relays
on one core at most, so a machine with more cores runs one sidecar per core, each an
endpoint of Envoy's ext_proc cluster on its own port (Envoy balances the streams)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from extproc.settings import Settings

__all__ = ["WorkerPool"]


class WorkerPool:
    """`openresponses-gw serve` processes on extproc_port + i; each keeps its own metrics
    port (metrics_port + i) so no counter is shared between processes."""

    def __init__(self, settings: Settings, redis_url: str) -> None:
        self._settings = settings
        self._redis_url = redis_url
        self.processes: list[subprocess.Popen[bytes]] = []

    def _env(self, index: int) -> dict[str, str]:
        s = self._settings
        env = dict(os.environ)
        env.update(
            OPENRESPONSES_REDIS_URL=self._redis_url,
            OPENRESPONSES_EXTPROC_PORT=str(s.extproc_port + index),
            OPENRESPONSES_METRICS_PORT=str(s.metrics_port + index if s.metrics_port else 0),
            OPENRESPONSES_WORKERS=str(s.workers),
            OPENRESPONSES_DATA_DIR=str(s.data_dir.resolve()),
        )
        return env

    async def start(self) -> None:
        for index in range(self._settings.workers):
            process = subprocess.Popen(
                [sys.executable, "-m", "extproc", "serve"],
                env=self._env(index),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
            )
            self.processes.append(process)
        for process in self.processes:
            await self._ready(process)

    @staticmethod
    async def _ready(process: subprocess.Popen[bytes]) -> None:
        """Wait for the worker's READY line (it prints nothing else on stdout)."""
        assert process.stdout is not None
        stdout = process.stdout
        line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), timeout=120)
        if not line.startswith(b"READY"):
            raise RuntimeError(f"sidecar worker exited with {process.wait()}")

    def stop(self, grace: float) -> None:
        """SIGTERM to all at once (each drains its streams), then wait for each."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=grace + 10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
