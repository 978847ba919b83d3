"""One holder at a time for a local index directory."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["IndexLockedError", "lock_directory", "unlock_directory"]


class IndexLockedError(RuntimeError):
    """Another `QdrantChunkIndex` (in this process or another) holds the local index directory."""


def lock_directory(path: Path) -> int:
    """Hold `path` for this index, failing at once if another holder exists.

    qdrant-client takes its own lock only after loading every collection, and on failure
    leaves files open; taking ours first fails fast and cleanly.
    """
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / ".chunk_index.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise IndexLockedError(
            f"the vector index at {path} is already open (in this or another process); "
            "local mode allows one holder at a time, use a Qdrant server to share it"
        ) from None
    return fd


def unlock_directory(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
