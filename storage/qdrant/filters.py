"""OpenAI attribute filters as Qdrant filters on flattened `attr_<key>` payload fields.

Comparison filters (eq, ne, gt, gte, lt, lte, in, nin) and compound ones (and, or),
nested, become payload conditions Qdrant evaluates itself, so filtering happens in the
search and not over its results.
"""

from __future__ import annotations

import math
from typing import Any

from qdrant_client import models

__all__ = [
    "attribute_condition",
    "attribute_field",
    "attribute_payload",
    "file_filter",
    "match_keyword",
    "scope_conditions",
    "scope_filter",
    "selector",
]

_MAX_FILTER_DEPTH = 16
_COMPARISONS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})


def attribute_field(key: str) -> str:
    """The flat payload field of attribute `key`.

    Qdrant reads field names as paths (`.` descends, `[]` indexes), so any character outside
    [A-Za-z0-9_] is written as `-<hex>-`; `-` is escaped too, so distinct keys stay distinct.
    """
    safe = (ch if (ch.isascii() and ch.isalnum()) or ch == "_" else f"-{ord(ch):x}-" for ch in key)
    return "attr_" + "".join(safe)


def attribute_payload(attributes: dict[str, Any]) -> dict[str, Any]:
    flat = {attribute_field(key): value for key, value in attributes.items()}
    return {"attributes": dict(attributes), **flat}


def attribute_condition(spec: Any, depth: int = 0) -> models.Condition:
    """Translate an OpenAI attribute filter (comparison or compound) into a Qdrant condition."""
    if depth > _MAX_FILTER_DEPTH:
        raise ValueError(f"filters nest deeper than {_MAX_FILTER_DEPTH} levels")
    if not isinstance(spec, dict):
        raise ValueError(f"a filter must be an object, not {type(spec).__name__}")
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = spec.get("filters")
        if not isinstance(parts, list) or not parts:
            raise ValueError(f"an '{kind}' filter needs a non-empty 'filters' list")
        conditions = [attribute_condition(part, depth + 1) for part in parts]
        # `should` alone means "at least one"; nesting keeps it from mixing with a `must`
        if kind == "and":
            return models.Filter(must=conditions)
        return models.Filter(should=conditions)
    if kind not in _COMPARISONS:
        raise ValueError(
            f"unknown filter type {kind!r}; expected one of "
            f"{', '.join(sorted(_COMPARISONS | {'and', 'or'}))}"
        )
    key = spec.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"a '{kind}' filter needs a non-empty string 'key'")
    if "value" not in spec:
        raise ValueError(f"the '{kind}' filter on '{key}' needs a 'value'")
    return _comparison(kind, key, spec["value"])


def _comparison(kind: str, key: str, value: Any) -> models.Condition:
    field = attribute_field(key)
    if kind in ("eq", "ne"):
        equal = _equals(field, key, kind, value)
        return equal if kind == "eq" else models.Filter(must_not=[equal])
    if kind in ("gt", "gte", "lt", "lte"):
        if not _is_number(value):
            raise ValueError(f"the '{kind}' filter on '{key}' compares numbers, not {value!r}")
        bound: dict[str, float] = {kind: value}
        return models.FieldCondition(key=field, range=models.Range(**bound))
    if not isinstance(value, list):
        raise ValueError(f"the '{kind}' filter on '{key}' needs a list value")
    # `in` is an `eq` on any element; all strings go to one MatchAny (indexable on a server)
    member: models.Condition
    if all(isinstance(item, str) for item in value):
        member = models.FieldCondition(key=field, match=models.MatchAny(any=value))
    else:
        member = models.Filter(should=[_equals(field, key, kind, item) for item in value])
    # `nin` (like `ne`) also keeps chunks without the attribute, which MatchExcept would drop
    return member if kind == "in" else models.Filter(must_not=[member])


def _equals(field: str, key: str, kind: str, value: Any) -> models.Condition:
    if isinstance(value, str | bool):
        return models.FieldCondition(key=field, match=models.MatchValue(value=value))
    if _is_number(value):
        # MatchValue takes no floats, and a server's integer match skips 2.0 stored for 2:
        # a closed range compares numbers as numbers in both modes
        return models.FieldCondition(key=field, range=models.Range(gte=value, lte=value))
    raise ValueError(
        f"the '{kind}' filter on '{key}' takes strings, numbers or booleans, not {value!r}"
    )


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


# -- local directory lock ----------------------------------------------------------------


# Scopes: which points an operation may touch.


def match_keyword(key: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchValue(value=value))


def scope_filter(tenant: str, vector_store_ids: list[str]) -> models.Filter:
    return models.Filter(
        must=[
            match_keyword("tenant", tenant),
            models.FieldCondition(
                key="vector_store_id", match=models.MatchAny(any=vector_store_ids)
            ),
        ]
    )


def file_filter(tenant: str, vector_store_id: str, file_id: str) -> models.Filter:
    return models.Filter(
        must=[
            match_keyword("tenant", tenant),
            match_keyword("vector_store_id", vector_store_id),
            match_keyword("file_id", file_id),
        ]
    )


def scope_conditions(scope: models.Filter) -> list[models.Condition]:
    must = scope.must
    if must is None:
        return []
    return list(must) if isinstance(must, list) else [must]


def selector(scope: models.Filter) -> models.FilterSelector:
    return models.FilterSelector(filter=scope)
