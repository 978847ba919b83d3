"""Settings for running the sidecar as a pod: where it listens, where tool-loop turns go."""

from __future__ import annotations

import pytest

from extproc.settings import Settings
from extproc.sidecar import Sidecar


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1:9002"), ("0.0.0.0", "0.0.0.0:9002"), ("::", "[::]:9002")],
)
async def test_the_grpc_server_binds_the_configured_host(host: str, address: str) -> None:
    sidecar = Sidecar(Settings(extproc_host=host, extproc_port=9002), "redis://127.0.0.1:1/0")
    assert sidecar.address == address


def test_tool_loop_turns_default_to_the_internal_listener() -> None:
    assert Settings(port=8080).follow_up_url() == "http://127.0.0.1:8081/v1"
    assert Settings(internal_port=7000).follow_up_url() == "http://127.0.0.1:7000/v1"
    service = "http://vllm.models.svc:8000/v1"
    assert Settings(internal_url=service).follow_up_url() == service
