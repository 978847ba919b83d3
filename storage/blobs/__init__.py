"""File contents as blobs."""

__all__: list[str] = []
