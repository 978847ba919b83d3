"""OPENRESPONSES_WORKERS: Envoy's ext_proc cluster gets one endpoint per sidecar process."""

from __future__ import annotations

import asyncio

import pytest
import yaml

from extproc.cli import _run
from extproc.envoy_config import render
from extproc.settings import Settings
from extproc.workers import WorkerPool


def _extproc_ports(settings: Settings) -> list[int]:
    config = yaml.safe_load(render(settings))
    [cluster] = [
        c for c in config["static_resources"]["clusters"] if c["name"] == "openresponses_extproc"
    ]
    [group] = cluster["load_assignment"]["endpoints"]
    return [e["endpoint"]["address"]["socket_address"]["port_value"] for e in group["lb_endpoints"]]


def test_one_worker_is_one_endpoint() -> None:
    assert _extproc_ports(Settings(extproc_port=9100)) == [9100]


def test_each_worker_is_an_endpoint_on_consecutive_ports() -> None:
    settings = Settings(extproc_port=9100, workers=3)
    assert _extproc_ports(settings) == [9100, 9101, 9102]


def test_worker_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        Settings(workers=0)


def test_each_worker_gets_its_own_ports_and_the_shared_state() -> None:
    settings = Settings(extproc_port=9100, metrics_port=9500, workers=2)
    pool = WorkerPool(settings, "redis://127.0.0.1:7000/0")
    second = pool._env(1)
    assert second["OPENRESPONSES_EXTPROC_PORT"] == "9101"
    assert second["OPENRESPONSES_METRICS_PORT"] == "9501"
    assert second["OPENRESPONSES_REDIS_URL"] == "redis://127.0.0.1:7000/0"
    assert second["OPENRESPONSES_WORKERS"] == "2"
    off = WorkerPool(Settings(metrics_port=0, workers=2), "redis://x")._env(1)
    assert off["OPENRESPONSES_METRICS_PORT"] == "0"


def test_several_workers_need_a_shared_vector_index() -> None:
    settings = Settings(workers=2, qdrant_url=None)
    with pytest.raises(SystemExit, match="OPENRESPONSES_QDRANT_URL"):
        asyncio.run(_run(settings))
