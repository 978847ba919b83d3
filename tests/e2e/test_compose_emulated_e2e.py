"""The compose stack (deploy/compose) emulated on this machine: the environment of its
services as the file writes it, with hosts made 127.0.0.1 and ports made free, two
sidecars behind one Envoy whose ext_proc cluster lists both, one Redis. No container
engine runs here; the processes are the ones the images run."""

from __future__ import annotations

import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import EnvoyProcess, RedisServer, SidecarProcess, free_port

from extproc.health_probe import serving

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose" / "compose.yaml"


def _settings(environment: dict[str, str]) -> dict[str, str]:
    return {key.removeprefix("OPENRESPONSES_").lower(): value for key, value in environment.items()}


class ComposeStack:
    def __init__(self, backend_url: str, redis_url: str) -> None:
        services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
        self.blobs = tempfile.mkdtemp(prefix="or-compose-blobs-")
        envoy = _settings(services["envoy-config"]["environment"])
        envoy.update(
            host="127.0.0.1",  # 0.0.0.0 in the file: the container's network
            port=str(free_port()),
            internal_host="127.0.0.1",
            internal_port=str(free_port()),
            admin_port=str(free_port()),
            backend_url=backend_url,
        )
        self.sidecars: list[SidecarProcess] = []
        endpoints = []
        for name in ("sidecar-1", "sidecar-2"):
            settings = _settings(services[name]["environment"])
            # No Qdrant server or S3 store here: each sidecar keeps its own embedded index
            # (vector stores are not part of this smoke run) and both share one blob dir.
            settings.pop("qdrant_url")
            settings.pop("s3_endpoint_url")
            settings.update(
                blob_url=f"file://{self.blobs}",
                data_dir=tempfile.mkdtemp(prefix=f"or-compose-{name}-"),
                redis_url=redis_url,
                extproc_host="127.0.0.1",
                extproc_port=str(free_port()),
                metrics_host="127.0.0.1",
                metrics_port=str(free_port()),
                internal_url=settings["internal_url"].replace(
                    "envoy:8081", f"127.0.0.1:{envoy['internal_port']}"
                ),
            )
            self.sidecars.append(SidecarProcess(settings))
            endpoints.append(f"127.0.0.1:{settings['extproc_port']}")
        envoy["extproc_endpoints"] = ",".join(endpoints)
        self.envoy = EnvoyProcess(envoy)
        self.base_url = f"http://127.0.0.1:{envoy['port']}/v1"

    def start(self) -> ComposeStack:
        try:
            for sidecar in self.sidecars:
                sidecar.start()
            self.envoy.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.envoy.stop()
        for sidecar in self.sidecars:
            sidecar.stop()

    def served(self, sidecar: SidecarProcess) -> float:
        url = f"http://127.0.0.1:{sidecar.settings['metrics_port']}/metrics"
        with urllib.request.urlopen(url, timeout=10) as scraped:
            text = scraped.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "openresponses_requests_total"
        )


@pytest.fixture(scope="module")
def compose(backend: BackendThread) -> Iterator[ComposeStack]:
    redis = RedisServer().start()
    stack = ComposeStack(f"{backend.url}/v1", redis.url)
    try:
        yield stack.start()
    finally:
        stack.stop()
        redis.stop()


def test_both_sidecars_report_serving(compose: ComposeStack) -> None:
    for sidecar in compose.sidecars:
        assert serving(f"127.0.0.1:{sidecar.settings['extproc_port']}")
    assert not serving(f"127.0.0.1:{free_port()}", timeout=0.5)


def test_smoke_through_two_sidecars(
    compose: ComposeStack, recorder: BackendRecorder, make_sdk: Callable[..., openai.OpenAI]
) -> None:
    client = make_sdk(compose.base_url, "sk-compose", max_retries=0)
    first = client.responses.create(model="m", input="Remember the word: heron.")
    assert first.status == "completed"
    # Each request may reach either sidecar: the chain and the conversation must hold.
    chained = [first]
    for turn in range(4):
        chained.append(
            client.responses.create(
                model="m", input=f"Turn {turn}.", previous_response_id=chained[-1].id
            )
        )
    for response in chained:
        assert client.responses.retrieve(response.id).id == response.id
    # The last turn reached the backend with the whole chain, whichever sidecar held it.
    assert "heron" in str(recorder.requests[-1].body["input"])
    conversation = client.conversations.create(metadata={"topic": "compose"})
    for text in ("one", "two", "three"):
        client.responses.create(model="m", input=text, conversation=conversation.id)
    items = client.conversations.items.list(conversation.id, order="asc").data
    said = [
        item.content[0].text for item in items if item.type == "message" and item.role == "user"
    ]  # type: ignore[union-attr]
    assert said == ["one", "two", "three"]
    with client.responses.stream(model="m", input="Stream me.") as stream:
        assert stream.get_final_response().status == "completed"
    assert all(compose.served(sidecar) > 0 for sidecar in compose.sidecars)
