"""The Envoy adapter: the ext_proc gRPC servicer, the processors it routes each request
to, settings, the Envoy configuration and the command line."""

__all__: list[str] = []
