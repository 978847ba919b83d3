"""Vector store objects as the API shows them, and their shared checks."""

from __future__ import annotations

import time
from typing import Any

from core.common.errors import InvalidRequestError, NotFoundError
from core.common.validation import invalid_type

__all__ = [
    "attributes",
    "expires_after",
    "file_counts",
    "presented_store",
    "store_not_found",
]

_ATTRIBUTE_KEYS = 16
_DAY = 86400


def store_not_found(store_id: str, param: str = "vector_store_id") -> NotFoundError:
    return NotFoundError(f"No vector store found with id '{store_id}'.", param=param)


def attributes(value: Any, param: str = "attributes") -> dict[str, Any]:
    """At most 16 keys of up to 64 characters; strings (<= 512), numbers or booleans."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_type(param, "an object", value)
    if len(value) > _ATTRIBUTE_KEYS:
        raise InvalidRequestError(
            f"Invalid '{param}': too many properties. Expected an object with at most "
            f"{_ATTRIBUTE_KEYS} properties, but got {len(value)} instead.",
            param=param,
            code="object_above_max_properties",
        )
    for key, item in value.items():
        if len(key) > 64:
            raise InvalidRequestError(
                f"Invalid '{param}': key '{key[:20]}...' is longer than 64 characters.",
                param=param,
                code="string_above_max_length",
            )
        if isinstance(item, str):
            if len(item) > 512:
                raise InvalidRequestError(
                    f"Invalid '{param}.{key}': string longer than 512 characters.",
                    param=f"{param}.{key}",
                    code="string_above_max_length",
                )
        elif not isinstance(item, int | float | bool):
            raise invalid_type(f"{param}.{key}", "a string, number or boolean", item)
    return value


def expires_after(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type("expires_after", "an object", value)
    if value.get("anchor") != "last_active_at":
        raise InvalidRequestError(
            "Invalid value for 'expires_after.anchor': expected 'last_active_at'.",
            param="expires_after.anchor",
            code="invalid_value",
        )
    days = value.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        raise InvalidRequestError(
            "Invalid value for 'expires_after.days': expected an integer from 1 to 365.",
            param="expires_after.days",
            code="invalid_value",
        )
    return {"anchor": "last_active_at", "days": days}


def file_counts(files: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0}
    for file in files:
        counts[file["status"]] = counts.get(file["status"], 0) + 1
    return {**counts, "total": len(files)}


def presented_store(store: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored object with what derives from its files and the clock filled in."""
    counts = file_counts(files)
    expiry = store.get("expires_after")
    expires_at = store["last_active_at"] + expiry["days"] * _DAY if expiry else None
    if expires_at is not None and expires_at <= time.time():
        status = "expired"
    else:
        status = "in_progress" if counts["in_progress"] else "completed"
    return {
        **store,
        "usage_bytes": sum(int(file.get("usage_bytes", 0)) for file in files),
        "file_counts": counts,
        "status": status,
        "expires_at": expires_at,
    }
