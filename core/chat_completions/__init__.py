"""Chat Completions backends: Responses requests and answers translated both ways."""

from core.chat_completions.request import chat_request
from core.chat_completions.response import response_object
from core.chat_completions.stream import ChatEventStream, ChatSseTranslator

__all__ = ["ChatEventStream", "ChatSseTranslator", "chat_request", "response_object"]
