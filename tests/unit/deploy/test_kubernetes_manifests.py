"""Every Kubernetes document under deploy/ (and the Helm chart's output) validates against
its kind's schema, which rejects unknown fields as the API server's strict validation does."""

from __future__ import annotations

from typing import Any

import pytest
from support.manifests import DEPLOY, UNSCHEMED, manifests, render_chart, schema_errors

MANIFESTS = manifests(DEPLOY / "envoy-gateway") + manifests(DEPLOY / "istio")


@pytest.mark.parametrize(("name", "doc"), MANIFESTS, ids=[name for name, _ in MANIFESTS])
def test_manifest_matches_its_schema(name: str, doc: dict[str, Any]) -> None:
    assert schema_errors(doc) == [], name


def test_every_gateway_flavour_ships_the_sidecar_and_its_glue() -> None:
    eg = {doc["kind"] for name, doc in MANIFESTS if name.startswith("envoy-gateway/")}
    istio = {doc["kind"] for name, doc in MANIFESTS if name.startswith("istio/")}
    assert {
        "Deployment",
        "Service",
        "Gateway",
        "HTTPRoute",
        "EnvoyExtensionPolicy",
        "SecurityPolicy",
        "EnvoyPatchPolicy",
        "ClientTrafficPolicy",
        "BackendTrafficPolicy",
    } <= eg
    assert {"Deployment", "Service", "EnvoyFilter", "DestinationRule"} <= istio


def _by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_envoy_gateway_processor_policies() -> None:
    docs = [doc for name, doc in MANIFESTS if name.startswith("envoy-gateway/")]
    policies = {
        doc["metadata"]["name"]: doc["spec"] for doc in _by_kind(docs, "EnvoyExtensionPolicy")
    }
    main, uploads = (
        policies["openresponses"]["extProc"][0],
        policies["openresponses-uploads"]["extProc"][0],
    )
    assert main["processingMode"] == {"allowModeOverride": True, "request": {}}
    assert main["failOpen"] is False and main["statusOnError"] == 503
    assert uploads["processingMode"]["request"]["body"] == "FullDuplexStreamed"
    # Every client-facing route lets streams run as long as the model talks.
    for route in _by_kind(docs, "HTTPRoute"):
        assert all(rule["timeouts"]["request"] == "0s" for rule in route["spec"]["rules"])
    # The internal listener's route has no processor and only the pod network may use it.
    targeted = {
        ref["name"]
        for doc in _by_kind(docs, "EnvoyExtensionPolicy")
        for ref in doc["spec"]["targetRefs"]
    }
    assert "openresponses-internal" not in targeted
    [security] = _by_kind(docs, "SecurityPolicy")
    assert security["spec"]["targetRefs"][0]["name"] == "openresponses-internal"
    assert security["spec"]["authorization"]["defaultAction"] == "Deny"
    [service] = [
        s for s in _by_kind(docs, "Service") if s["metadata"]["name"] == "openresponses-gw"
    ]
    assert {"name": "grpc", "port": 9002, "targetPort": "grpc", "appProtocol": "grpc"} in service[
        "spec"
    ]["ports"]


def test_chart_renders_valid_manifests_by_default() -> None:
    docs = render_chart()
    assert sorted(doc["kind"] for doc in docs) == ["Deployment", "Service", "ServiceAccount"]
    for doc in docs:
        assert schema_errors(doc) == [], doc["kind"]
    [deployment] = _by_kind(docs, "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["grpc"]["port"] == 9002
    assert container["image"].endswith(":0.1.0")  # the chart's appVersion


def test_chart_options_render_valid_manifests() -> None:
    docs = render_chart(
        {
            "replicaCount": 5,
            "image": {"repository": "registry.example/gw", "tag": "1.2.3"},
            "serviceAccount": {"create": False, "name": "shared"},
            "livenessProbe": {"enabled": False},
            "readinessProbe": {"enabled": False},
            "extraEnvVars": [{"name": "OPENRESPONSES_LOG_LEVEL", "value": "DEBUG"}],
            "config": {"redisUrl": "rediss://cache:6380/0", "qdrantUrl": "http://qdrant:6333"},
            "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        }
    )
    assert sorted(doc["kind"] for doc in docs) == ["Deployment", "Service", "ServiceMonitor"]
    for doc in docs:
        if doc["kind"] not in UNSCHEMED:
            assert schema_errors(doc) == [], doc["kind"]
    [deployment] = _by_kind(docs, "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert deployment["spec"]["replicas"] == 5 and spec["serviceAccountName"] == "shared"
    assert container["image"] == "registry.example/gw:1.2.3"
    assert "readinessProbe" not in container and "livenessProbe" not in container
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["OPENRESPONSES_LOG_LEVEL"] == "DEBUG"
    assert env["OPENRESPONSES_QDRANT_URL"] == "http://qdrant:6333"
    [monitor] = _by_kind(docs, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]


@pytest.mark.parametrize(
    "values",
    [{"replicaCount": "two"}, {"config": {"redisUrl": "http://not-redis"}}, {"unknown": 1}],
)
def test_chart_refuses_values_its_schema_rejects(values: dict[str, Any]) -> None:
    import helm_python

    with pytest.raises(helm_python.HelmValuesError):
        render_chart(values)
