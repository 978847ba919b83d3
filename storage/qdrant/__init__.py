"""The chunk index in Qdrant: a server, or the embedded engine under the data dir."""

__all__: list[str] = []
