"""Implementations of core's ports: Redis for state, Qdrant for chunks, blobs for file
contents; `factory.build_stores` puts them together."""

__all__: list[str] = []
