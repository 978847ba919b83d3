"""Every piece of Envoy configuration embedded in an EnvoyPatchPolicy or an EnvoyFilter,
put where the patch puts it in a bootstrap that holds the rest, is accepted by the real
Envoy (`envoy --mode validate`); so is the compose stack's rendered configuration."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from support.manifests import DEPLOY, documents, envoy_accepts

from extproc.envoy_config import render
from extproc.settings import Settings

_TYPES = "type.googleapis.com/envoy.extensions"
HCM = f"{_TYPES}.filters.network.http_connection_manager.v3.HttpConnectionManager"
EXT_PROC = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor"
ROUTER = {
    "name": "envoy.filters.http.router",
    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"},
}
PROCESSOR = "openresponses_extproc"


def _cluster(name: str, http2: bool = False) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {"address": "127.0.0.1", "port_value": 9}
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    if http2:
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": f"{_TYPES}.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        }
    return cluster


def _bootstrap(
    hcm: dict[str, Any], route: dict[str, Any], clusters: list[dict[str, Any]]
) -> dict[str, Any]:
    hcm = {
        "@type": HCM,
        "stat_prefix": "checked",
        "route_config": {
            "name": "checked",
            "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [route]}],
        },
        **hcm,
    }
    listener = {
        "name": "checked",
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 10000}},
        "filter_chains": [
            {
                "filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}
                ]
            }
        ],
    }
    return {"static_resources": {"listeners": [listener], "clusters": clusters}}


def _backend_route() -> dict[str, Any]:
    return {"match": {"prefix": "/"}, "route": {"cluster": "backend", "timeout": "0s"}}


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    """Istio's MERGE: objects merge key by key, anything else is replaced."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


# --- Envoy Gateway: the EnvoyPatchPolicy's patches, applied to the filters Envoy Gateway
# generates from the EnvoyExtensionPolicies (same fields, in Envoy's terms).


def _generated_ext_proc(policy: dict[str, Any]) -> dict[str, Any]:
    ext_proc = policy["spec"]["extProc"][0]
    body = ext_proc["processingMode"].get("request", {}).get("body")
    modes = {None: "NONE", "FullDuplexStreamed": "FULL_DUPLEX_STREAMED", "Buffered": "BUFFERED"}
    return {
        "@type": EXT_PROC,
        "grpc_service": {"envoy_grpc": {"cluster_name": PROCESSOR}},
        "failure_mode_allow": ext_proc["failOpen"],
        "status_on_error": {"code": ext_proc["statusOnError"]},
        "allow_mode_override": ext_proc["processingMode"].get("allowModeOverride", False),
        "message_timeout": ext_proc["messageTimeout"],
        "processing_mode": {
            "request_header_mode": "SEND",
            "response_header_mode": "SKIP",
            "request_body_mode": modes[body],
            "request_trailer_mode": "SEND" if body == "FullDuplexStreamed" else "SKIP",
        },
    }


def test_envoy_gateway_patches_are_valid_envoy_config() -> None:
    policies = {
        doc["metadata"]["name"]: doc
        for doc in documents(DEPLOY / "envoy-gateway" / "ext-proc.yaml")
    }
    filters = {name: _generated_ext_proc(policy) for name, policy in policies.items()}
    [patch] = documents(DEPLOY / "envoy-gateway" / "envoy-patch.yaml")
    hcm: dict[str, Any] = {}
    applied = 0
    for json_patch in patch["spec"]["jsonPatches"]:
        operation = json_patch["operation"]
        assert operation["op"] == "add"
        if "jsonPath" in operation:  # a field of one named ext_proc filter
            [target] = [
                name
                for name in filters
                if f"/openresponses/{name}/extproc/0'" in operation["jsonPath"]
            ]
            filters[target][operation["path"].lstrip("/")] = operation["value"]
        else:  # a field of the listener's HTTP connection manager
            prefix = "/default_filter_chain/filters/0/typed_config/"
            assert operation["path"].startswith(prefix)
            hcm[operation["path"].removeprefix(prefix)] = operation["value"]
        applied += 1
    assert applied == 3
    assert filters["openresponses"]["max_message_timeout"] == "300s"
    assert "local_reply_config" in hcm
    http_filters = [
        {"name": f"envoy.filters.http.ext_proc/{name}", "typed_config": config}
        for name, config in filters.items()
    ]
    hcm["http_filters"] = [*http_filters, ROUTER]
    envoy_accepts(
        _bootstrap(hcm, _backend_route(), [_cluster("backend"), _cluster(PROCESSOR, http2=True)])
    )


# --- Istio: the EnvoyFilters' patches applied as Istio applies them.


def test_istio_filters_are_valid_envoy_config() -> None:
    filters = documents(DEPLOY / "istio" / "ext-proc-filters.yaml")
    hcm: dict[str, Any] = {"http_filters": [ROUTER]}
    route = _backend_route()
    clusters = {"backend": _cluster("backend")}
    seen = set()
    for envoy_filter in filters:
        for patch in envoy_filter["spec"]["configPatches"]:
            value, operation = patch["patch"]["value"], patch["patch"]["operation"]
            seen.add((patch["applyTo"], operation))
            if patch["applyTo"] == "HTTP_FILTER":
                assert operation == "INSERT_BEFORE"
                assert (
                    patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"]
                    == (ROUTER["name"])
                )
                hcm["http_filters"].insert(len(hcm["http_filters"]) - 1, copy.deepcopy(value))
                grpc = value["typed_config"]["extension_config"]["typed_config"]["grpc_service"]
                name = grpc["envoy_grpc"]["cluster_name"]
                clusters[name] = _cluster(name, http2=True)
            elif patch["applyTo"] == "NETWORK_FILTER":
                assert operation == "MERGE" and value["typed_config"]["@type"] == HCM
                _merge(hcm, {k: v for k, v in value["typed_config"].items() if k != "@type"})
            elif patch["applyTo"] == "HTTP_ROUTE":
                assert operation == "MERGE"
                _merge(route, value)
            else:
                pytest.fail(f"unexpected patch {patch['applyTo']}")
    assert seen == {
        ("HTTP_FILTER", "INSERT_BEFORE"),
        ("NETWORK_FILTER", "MERGE"),
        ("HTTP_ROUTE", "MERGE"),
    }
    assert route["route"]["retry_policy"]["num_retries"] == 0
    envoy_accepts(_bootstrap(hcm, route, list(clusters.values())))


def test_the_compose_stacks_envoy_config_is_valid() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    environment = compose["services"]["envoy-config"]["environment"]
    settings = Settings(
        **{key.removeprefix("OPENRESPONSES_").lower(): value for key, value in environment.items()}
    )
    config = yaml.safe_load(render(settings))
    [cluster] = [c for c in config["static_resources"]["clusters"] if c["name"] == PROCESSOR]
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    hosts = [e["endpoint"]["address"]["socket_address"]["address"] for e in endpoints]
    assert hosts == ["sidecar-1", "sidecar-2"]
    envoy_accepts(config)
