"""Reading the deployment files under deploy/ and checking them offline: Kubernetes
documents against the schemas in ../shared/schemas/k8s (beside the clone, as CI has it),
the Helm chart rendered by Helm's own engine, Envoy fragments by the Envoy binary."""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from extproc.envoy_config import envoy_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "openresponses-gw"
K8S_SCHEMAS = REPO.parent / "shared" / "schemas" / "k8s"
# Kinds that have no schema in shared/: the Prometheus Operator's CRD is not there.
UNSCHEMED = {"ServiceMonitor"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every document of every YAML file in `directory`, named `file#index kind/name`."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        for index, doc in enumerate(documents(path)):
            name = f"{path.relative_to(DEPLOY)}#{index} {doc['kind']}/{doc['metadata']['name']}"
            found.append((name, doc))
    return found


def schema_path(doc: dict[str, Any]) -> Path:
    """shared/schemas/k8s names files `<kind>-<group>-<version>.json` (core: no group)."""
    group, _, version = doc["apiVersion"].rpartition("/")
    parts = [doc["kind"].lower(), group, version] if group else [doc["kind"].lower(), version]
    return K8S_SCHEMAS / ("-".join(parts) + ".json")


@cache
def _validator(path: Path) -> Draft202012Validator:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the checkout needs shared/ beside it")
    return Draft202012Validator(json.loads(path.read_text()))


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = _validator(schema_path(doc))
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(doc)
    ]


def render_chart(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`helm template`: the chart rendered offline by Helm's own Go engine (through its C
    library), its values checked against values.schema.json as Helm does."""
    import helm_python  # imported here: it loads a native library

    with helm_python.Chart.load(CHART) as chart:
        rendered = chart.render(values or {}, name="gw", namespace="openresponses")
    return [
        doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc is not None
    ]


def envoy_accepts(config: dict[str, Any]) -> str:
    """Envoy's `--mode validate` output for a bootstrap; raises when Envoy rejects it."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(config, file)
        file.flush()
        checked = subprocess.run(
            [str(envoy_binary()), "--mode", "validate", "-c", file.name, "-l", "critical"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    if checked.returncode != 0:
        raise AssertionError(f"envoy rejected the config:\n{checked.stdout}{checked.stderr}")
    return checked.stdout
