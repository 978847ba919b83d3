"""The engine: what the gateway does with a request, whatever the proxy in front.

`gateway.Gateway` is the front door and `routes` the registry of every operation; each
domain is a package with its API module beside the domain modules it uses. Core reaches
storage only through the Protocols in `core.ports` and never imports Envoy or gRPC types."""

__all__: list[str] = []
