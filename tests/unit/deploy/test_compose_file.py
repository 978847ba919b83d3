"""The compose stack: the file validates against the Compose Specification's schema, and
its pieces agree with each other (the sidecars Envoy lists are the ones defined, the
internal URL names Envoy's internal listener, every variable it reads is in .env.example)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from support.manifests import DEPLOY

COMPOSE = DEPLOY / "compose"
SCHEMA = Path(__file__).resolve().parents[2] / "support" / "schemas" / "compose-spec.json"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    return loaded


def test_compose_file_matches_the_compose_schema() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []


def test_compose_schema_rejects_what_compose_rejects() -> None:
    broken = _compose()
    broken["services"]["redis"]["restart_policy"] = "always"  # not a service field
    assert list(Draft7Validator(json.loads(SCHEMA.read_text())).iter_errors(broken))


def test_the_stack_holds_together() -> None:
    services = _compose()["services"]
    assert {
        "envoy",
        "envoy-config",
        "sidecar-1",
        "sidecar-2",
        "redis",
        "qdrant",
        "minio",
        "vllm",
    } <= set(services)
    rendered = services["envoy-config"]["environment"]
    endpoints = rendered["OPENRESPONSES_EXTPROC_ENDPOINTS"].split(",")
    assert endpoints == ["sidecar-1:9002", "sidecar-2:9002"]
    for name in ("sidecar-1", "sidecar-2"):
        env = services[name]["environment"]
        assert env["OPENRESPONSES_EXTPROC_PORT"] == "9002"
        assert env["OPENRESPONSES_EXTPROC_HOST"] == "0.0.0.0"
        internal = f"http://envoy:{rendered['OPENRESPONSES_INTERNAL_PORT']}/v1"
        assert env["OPENRESPONSES_INTERNAL_URL"] == internal
        assert env["OPENRESPONSES_REDIS_URL"].startswith("redis://redis:")
    # The Dockerfile runs as a non-root user and installs only the locked runtime packages.
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in dockerfile and "USER 10001" in dockerfile
    assert dockerfile.count("FROM ") == 2


def test_env_example_names_every_variable_the_file_reads() -> None:
    text = (COMPOSE / "compose.yaml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    example = (COMPOSE / ".env.example").read_text()
    defined = set(re.findall(r"^#? ?(\w+)=", example, flags=re.MULTILINE))
    assert used <= defined, used - defined
