"""Errors of the conversations domain, shared by its API and the create flow."""

from __future__ import annotations

from core.common.errors import NotFoundError

__all__ = ["conversation_not_found"]


def conversation_not_found(conversation_id: str, param: str = "conversation_id") -> NotFoundError:
    return NotFoundError(f"Conversation with id '{conversation_id}' not found.", param=param)
