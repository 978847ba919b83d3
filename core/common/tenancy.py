"""Which tenant a request belongs to.

Every stored object is keyed by tenant, so one tenant can never read another's data.
The tenant comes from a header that the operator's auth layer sets (and strips from
clients), else from the bearer key, else everyone shares the default tenant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

__all__ = ["DEFAULT_TENANT", "tenant_for"]

DEFAULT_TENANT = "default"


def tenant_for(headers: Mapping[str, str], trusted_header: str | None) -> str:
    if trusted_header:
        # Header names arrive lower-cased; the setting may be written in any case.
        value = headers.get(trusted_header.lower(), "").strip()
        if value:
            return "h:" + value
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        key = auth[7:].strip()
        if key:
            # Only a digest is kept: the key itself never reaches storage or logs.
            return "k:" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return DEFAULT_TENANT
