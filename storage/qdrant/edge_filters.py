"""Qdrant filters, as built for qdrant-client (`storage.qdrant.filters`), in the embedded
engine's own types.

The OpenAI attribute filters are translated once, into qdrant-client models, and this
module carries that result over, so both engines evaluate exactly the same conditions.
"""

from __future__ import annotations

from typing import Any

import qdrant_edge as edge
from qdrant_client import models

from storage.qdrant.filters import attribute_field, attribute_payload

__all__ = ["bool_field", "edge_attribute_payload", "edge_condition", "edge_filter"]

# The engine's Python binding reads a boolean match value as an integer (True as 1), which
# then matches the number 1 and never a stored boolean. Boolean attributes are therefore
# also written as "true"/"false" strings under a field of their own, which equality on a
# boolean matches instead. The prefix cannot collide with `attr_` fields.
_BOOL_PREFIX = "attrbool_"


def bool_field(field: str) -> str:
    """The string shadow of the flat attribute field `field` (`attr_<escaped key>`)."""
    return _BOOL_PREFIX + field.removeprefix("attr_")


def edge_attribute_payload(attributes: dict[str, Any]) -> dict[str, Any]:
    """`attribute_payload` plus the string shadows of boolean attributes."""
    payload = attribute_payload(attributes)
    for key, value in attributes.items():
        if isinstance(value, bool):
            payload[bool_field(attribute_field(key))] = "true" if value else "false"
    return payload


def edge_filter(spec: models.Filter) -> edge.Filter:
    return edge.Filter(
        must=_conditions(spec.must),
        should=_conditions(spec.should),
        must_not=_conditions(spec.must_not),
    )


def edge_condition(condition: Any) -> Any:
    """One condition (a nested filter, or a field condition) as the engine's type."""
    if isinstance(condition, models.Filter):
        return edge_filter(condition)
    if isinstance(condition, models.FieldCondition):
        return _field(condition)
    # Only the condition kinds `storage.qdrant.filters` builds are translated.
    raise TypeError(f"no embedded-engine form for {type(condition).__name__}")


def _conditions(part: Any) -> list[Any] | None:
    if part is None:
        return None
    items = part if isinstance(part, list) else [part]
    return [edge_condition(item) for item in items]


def _field(condition: models.FieldCondition) -> edge.FieldCondition:
    match = condition.match
    if isinstance(match, models.MatchValue) and isinstance(match.value, bool):
        shadow = "true" if match.value else "false"
        return edge.FieldCondition(bool_field(condition.key), match=edge.MatchValue(shadow))
    if isinstance(match, models.MatchValue):
        return edge.FieldCondition(condition.key, match=edge.MatchValue(match.value))
    if isinstance(match, models.MatchAny):
        values: list[Any] = list(match.any)
        return edge.FieldCondition(condition.key, match=edge.MatchAny(values))
    bound = condition.range
    if match is None and isinstance(bound, models.Range):
        return edge.FieldCondition(
            condition.key,
            range=edge.RangeFloat(gte=bound.gte, gt=bound.gt, lte=bound.lte, lt=bound.lt),
        )
    raise TypeError(f"no embedded-engine form for the condition on {condition.key!r}")
