"""The Conversations API's request bodies. Items are checked as input items (the same
rules as a response's `input`), after the array itself is."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from core.common.models import Metadata, OpenModel

__all__ = ["ConversationCreate", "ConversationUpdate", "ItemsAdd"]

MAX_ITEMS = 20
Items = Annotated[list[Any], Field(max_length=MAX_ITEMS)]


class ConversationCreate(OpenModel):
    metadata: Metadata = Field(default_factory=dict)
    items: Items | None = None


class ConversationUpdate(OpenModel):
    metadata: Metadata


class ItemsAdd(OpenModel):
    items: Items
