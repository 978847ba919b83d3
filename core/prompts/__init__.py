"""Versioned prompt templates: their API, and resolving a response's `prompt`."""

from core.prompts.api import PromptsApi
from core.prompts.resolve import ResolvedPrompt, resolve_prompt

__all__ = ["PromptsApi", "ResolvedPrompt", "resolve_prompt"]
