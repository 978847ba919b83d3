"""Attribute filters (comparison and compound), validated once for every search.

`/vector_stores/{id}/search` and the `file_search` tool both take them; the chunk index
receives only filters that passed here, as plain dicts.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from core.common.model_errors import refusal, wrong_type
from core.common.models import ClosedModel, tagged

__all__ = ["ComparisonFilter", "CompoundFilter", "Filter", "Filters"]

MAX_DEPTH = 16
_RANGES = frozenset(("gt", "gte", "lt", "lte"))
_SCALAR = "a string, number or boolean"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or _number(value)


class ComparisonFilter(ClosedModel):
    """`key` compared with `value`: eq/ne take a scalar, ranges a number, in/nin an array."""

    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: Annotated[str, Field(min_length=1)]
    value: Any

    @model_validator(mode="after")
    def _value_fits(self) -> Self:
        value = self.value
        if self.type in _RANGES:
            if not _number(value):
                raise wrong_type("a number", value, ("value",))
        elif self.type in ("in", "nin"):
            if not isinstance(value, list):
                raise wrong_type("an array", value, ("value",))
            for i, item in enumerate(value):
                if not _scalar(item):
                    raise wrong_type(_SCALAR, item, ("value", i))
        elif not _scalar(value):
            raise wrong_type(_SCALAR, value, ("value",))
        return self

    def plain(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key, "value": self.value}


class CompoundFilter(ClosedModel):
    """All (`and`) or any (`or`) of its filters."""

    type: Literal["and", "or"]
    filters: Annotated[list[Filter], Field(min_length=1)]

    def plain(self) -> dict[str, Any]:
        return {"type": self.type, "filters": [part.plain() for part in self.filters]}


def _shallow_enough(value: Any) -> Any:
    # Checked once, at the top and without recursion, so that a deeply nested body is
    # refused before validating it recursively could exhaust the stack.
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [
            part
            for spec in level
            if isinstance(spec, dict) and isinstance(spec.get("filters"), list)
            for part in spec["filters"]
        ]
        if not level:
            return value
    raise refusal(
        "invalid_value", f"Invalid '{{param}}': filters nest deeper than {MAX_DEPTH} levels."
    )


_KINDS: dict[str, type[ComparisonFilter] | type[CompoundFilter]] = {
    **{kind: ComparisonFilter for kind in ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")},
    "and": CompoundFilter,
    "or": CompoundFilter,
}
Filter = Annotated[ComparisonFilter | CompoundFilter, tagged("type", _KINDS)]
CompoundFilter.model_rebuild()

# A request's `filters`: a filter, nested at most MAX_DEPTH levels.
Filters = Annotated[Filter, BeforeValidator(_shallow_enough)]
