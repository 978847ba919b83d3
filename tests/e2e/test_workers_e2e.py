"""OPENRESPONSES_WORKERS=2: two sidecar processes behind one Envoy share the requests and
the stored state, each counting its own requests on its own metrics port."""

from __future__ import annotations

import asyncio
import re
import socket
import tempfile
import urllib.request
from pathlib import Path

from support.fake_backend import BackendThread
from support.harness import EnvoyProcess, RedisServer, free_port
from support.served_bodies import checked_sdk

from extproc.settings import Settings
from extproc.workers import WorkerPool


class _OwnDataDirs(WorkerPool):
    """Each worker its own data dir: the embedded vector index admits one process (with
    a Qdrant server, `run` gives them the same one); responses live in Redis."""

    def _env(self, index: int) -> dict[str, str]:
        env = super()._env(index)
        env["OPENRESPONSES_DATA_DIR"] = tempfile.mkdtemp(prefix=f"or-worker{index}-")
        return env


def _consecutive_free_ports(count: int) -> int:
    while True:
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


def _creates_counted(metrics_port: int) -> float:
    # The metrics port is not the gateway's API: read it plainly.
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as scraped:
        text = scraped.read().decode()
    found = re.findall(
        r'^openresponses_requests_total\{code="200",operation="create_response"\} (\S+)$',
        text,
        re.M,
    )
    return float(found[0]) if found else 0.0


def test_two_workers_share_requests_and_state(
    backend: BackendThread, redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = {
        "backend_url": f"{backend.url}/v1",
        "redis_url": redis_server.url,
        "port": str(free_port()),
        "admin_port": str(free_port()),
        "internal_port": str(free_port()),
        "extproc_port": str(_consecutive_free_ports(2)),
        "metrics_port": str(_consecutive_free_ports(2)),
        "workers": "2",
        "data_dir": str(tmp_path),
    }
    pool = _OwnDataDirs(Settings(**settings), redis_server.url)  # type: ignore[arg-type]
    envoy = EnvoyProcess(settings)
    try:
        asyncio.run(pool.start())
        envoy.start()
        base = f"http://127.0.0.1:{settings['port']}/v1"
        with checked_sdk(base, api_key="sk-workers", max_retries=0) as sdk:
            previous = None
            for turn in range(20):
                created = sdk.responses.create(
                    model="m", input=f"turn {turn}", previous_response_id=previous
                )
                previous = created.id
            # Whichever worker answers, it sees what the other one stored.
            assert sdk.responses.retrieve(previous).output_text == "reply to: turn 19"
            assert len(sdk.responses.input_items.list(previous, limit=100).data) == 1
        metrics = int(settings["metrics_port"])
        counts = [_creates_counted(metrics), _creates_counted(metrics + 1)]
        assert sum(counts) == 20
        assert all(count > 0 for count in counts)  # Envoy balanced across both
    finally:
        envoy.stop()
        pool.stop(grace=5)
    assert [process.returncode for process in pool.processes] == [0, 0]
