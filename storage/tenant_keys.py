"""Key prefixes: one Redis hash tag per tenant, so a cluster keeps each tenant's keys
(and so every script's keys) on one slot."""

from __future__ import annotations

import hashlib
from functools import lru_cache

__all__ = ["tenant_prefix"]


@lru_cache(maxsize=65536)
def tenant_prefix(tenant: str) -> str:
    digest = hashlib.blake2b(tenant.encode(), digest_size=10).hexdigest()
    return f"or:{{{digest}}}:"
