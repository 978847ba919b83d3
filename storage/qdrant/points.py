"""Chunks as Qdrant points, and points back as search hits."""

from __future__ import annotations

import json
import uuid
from typing import Any

from qdrant_client import models

from core.ports import Chunk, Hit

__all__ = ["DENSE", "LEXICAL", "point_id", "point_vectors", "to_hit"]

LEXICAL = "lexical"
DENSE = "dense"
# Point ids derive from (tenant, store, file, chunk index) in this namespace, so re-ingesting a
# file (after a crash, or with new content) overwrites its points instead of adding copies.
_POINT_NAMESPACE = uuid.UUID("9d660570-99f8-4221-a901-5432e48670b1")


def point_id(tenant: str, vector_store_id: str, file_id: str, chunk_index: int) -> str:
    # JSON keeps the parts apart whatever characters the ids contain
    name = json.dumps([tenant, vector_store_id, file_id, chunk_index])
    return str(uuid.uuid5(_POINT_NAMESPACE, name))


def point_vectors(chunk: Chunk) -> dict[str, Any]:
    vectors: dict[str, Any] = {}
    if chunk.sparse[0]:  # a chunk without terms has no lexical vector to match
        vectors[LEXICAL] = models.SparseVector(indices=chunk.sparse[0], values=chunk.sparse[1])
    if chunk.dense is not None:
        vectors[DENSE] = chunk.dense
    return vectors


def to_hit(score: float, payload: dict[str, Any]) -> Hit:
    return Hit(
        file_id=str(payload["file_id"]),
        filename=str(payload.get("filename", "")),
        score=float(score),
        attributes=dict(payload.get("attributes") or {}),
        text=str(payload.get("text", "")),
        chunk_index=int(payload["chunk_index"]),
    )
