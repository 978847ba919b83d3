"""The Conversations API."""

from core.conversations.api import ConversationsApi
from core.conversations.errors import conversation_not_found

__all__ = ["ConversationsApi", "conversation_not_found"]
