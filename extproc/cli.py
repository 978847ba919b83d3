"""`openresponses-gw`: run the gateway, the sidecar alone, or print Envoy's config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import subprocess
import sys
from collections.abc import Sequence

import httpx
import uvloop

from extproc.envoy_config import envoy_binary, render
from extproc.health_probe import serving
from extproc.logs import configure
from extproc.settings import Settings
from extproc.sidecar import Sidecar
from extproc.workers import WorkerPool
from storage.redis.embedded import EmbeddedRedis

__all__ = ["main"]

log = logging.getLogger("openresponses_gw")


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _wait_envoy_ready(settings: Settings, envoy: subprocess.Popen[bytes]) -> None:
    url = f"http://127.0.0.1:{settings.admin_port}/ready"
    async with httpx.AsyncClient() as client, asyncio.timeout(30):
        while True:
            if envoy.poll() is not None:
                raise RuntimeError(f"envoy exited with {envoy.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def _serve(settings: Settings) -> None:
    if not settings.redis_url:
        raise SystemExit("serve needs OPENRESPONSES_REDIS_URL")
    sidecar = Sidecar(settings, settings.redis_url)
    await sidecar.start()
    print(f"READY extproc {sidecar.address}", flush=True)
    try:
        await _until_signalled()
    finally:
        await sidecar.stop()


async def _run(settings: Settings) -> None:
    if settings.workers > 1 and not settings.qdrant_url:
        # The embedded vector index is held by one process; several workers share vectors
        # only through a Qdrant server.
        raise SystemExit(
            "OPENRESPONSES_WORKERS > 1 needs OPENRESPONSES_QDRANT_URL: the embedded vector "
            "index under the data dir can be open in one process only"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = None
    redis_url = settings.redis_url
    envoy: subprocess.Popen[bytes] | None = None
    sidecar: Sidecar | None = None
    pool: WorkerPool | None = None
    try:
        if not redis_url:
            embedded = EmbeddedRedis(settings.data_dir)
            await embedded.start()
            redis_url = embedded.url
        if settings.workers == 1:
            sidecar = Sidecar(settings, redis_url)
            await sidecar.start()
        else:
            pool = WorkerPool(settings, redis_url)
            await pool.start()
        config = settings.data_dir / "envoy.yaml"
        config.write_text(render(settings))
        envoy = subprocess.Popen(
            # No hot restart: it would tie every Envoy on the host to one shared-memory id.
            [str(envoy_binary()), "-c", str(config), "-l", "warn", "--disable-hot-restart"],
            stdin=subprocess.DEVNULL,
        )
        await _wait_envoy_ready(settings, envoy)
        print(
            f"openresponses-gw ready: http://{settings.host}:{settings.port}/v1 "
            f"-> {settings.backend_url} (state: {'embedded' if embedded else redis_url}; "
            f"{settings.workers} sidecar process{'es' if settings.workers > 1 else ''})",
            flush=True,
        )
        await _until_signalled()
    finally:
        if envoy is not None and envoy.poll() is None:
            envoy.terminate()
            envoy.wait(timeout=30)
        if sidecar is not None:
            await sidecar.stop()
        if pool is not None:
            await asyncio.to_thread(pool.stop, settings.shutdown_grace_seconds)
        if embedded is not None:
            embedded.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="openresponses-gw",
        description="Stateful Open Responses gateway: Envoy plus an ext_proc sidecar. "
        "Settings come from OPENRESPONSES_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run Envoy, the sidecar and (if needed) embedded Redis")
    commands.add_parser("serve", help="run only the ext_proc sidecar (needs a Redis URL)")
    commands.add_parser("envoy-config", help="print the Envoy configuration for the settings")
    health = commands.add_parser(
        "health", help="exit 0 when the sidecar's gRPC health service says SERVING"
    )
    health.add_argument("address", nargs="?", help="host:port (default: this sidecar's)")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "health":
        address = args.address or f"127.0.0.1:{settings.extproc_port}"
        sys.exit(0 if serving(address) else 1)
    configure(settings.log_level, settings.log_format)
    if args.command == "envoy-config":
        sys.stdout.write(render(settings))
    elif args.command == "serve":
        # uvloop: the event loop's own share of every ext_proc message is ~10-15% of
        # the sidecar's CPU under the default loop (measured in the bench lab).
        uvloop.run(_serve(settings))
    else:
        uvloop.run(_run(settings))
