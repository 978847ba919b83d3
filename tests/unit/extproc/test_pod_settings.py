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


def test_replicas_without_a_qdrant_server_are_warned() -> None:
    shared = Settings(redis_url="redis://redis:6379/0")
    warning = shared.shared_state_warning()
    assert warning is not None and "OPENRESPONSES_QDRANT_URL" in warning
    assert (
        Settings(redis_url="redis://r/0", qdrant_url="http://q:6333").shared_state_warning() is None
    )
    # The embedded Redis of `make run` is this machine's alone: nothing is shared.
    assert Settings(redis_url=None).shared_state_warning() is None
