"""Object ids shaped like the hosted API's: a type prefix and 48 hex characters."""

from __future__ import annotations

import os

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(24).hex()}"
