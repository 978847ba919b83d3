"""What the engine needs to keep versioned prompts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["PromptHeader", "PromptStore"]


class PromptStore(Protocol):
    """Versioned prompt templates, scoped by tenant. Versions are immutable and numbered
    1, 2, 3...; the default version is the newest unless one was set."""

    async def create(self, tenant: str, prompt_id: str, header: bytes, version: bytes) -> None:
        """A new prompt whose version 1 is `version`."""

    async def add_version(self, tenant: str, prompt_id: str, version: bytes) -> int | None:
        """Store the next version; its number, or None without the prompt."""

    async def get(
        self, tenant: str, prompt_id: str, version: int | None
    ) -> tuple[PromptHeader, bytes | None] | None:
        """The prompt's header and a version (the default when None; None if unknown)."""

    async def versions(
        self, tenant: str, prompt_id: str
    ) -> tuple[PromptHeader, list[bytes]] | None:
        """Every version, oldest first."""

    async def set_default(self, tenant: str, prompt_id: str, version: int) -> PromptHeader | None:
        """Pin the default version (the caller checks that it exists)."""

    async def list(self, tenant: str) -> list[tuple[PromptHeader, bytes]]:
        """Every prompt with its default version, oldest prompt first."""

    async def delete(self, tenant: str, prompt_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PromptHeader:
    header: bytes  # the prompt's own fields (name, created_at, ...), encoded
    latest: int
    default: int  # the pinned default version, or `latest`
