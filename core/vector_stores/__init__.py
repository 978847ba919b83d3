"""Vector stores: their API, their files and batches, search, and ingestion."""

from core.vector_stores.api import VectorStoresApi

__all__ = ["VectorStoresApi"]
