"""Versioned prompts in memory, with the semantics of `RedisPromptStore`."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from core.ports import PromptHeader
from support.memory.paging import Sequence

__all__ = ["MemoryPromptStore"]


@dataclass
class _Prompt:
    header: bytes
    versions: list[bytes] = field(default_factory=list)  # version n is versions[n - 1]
    pinned: int | None = None

    def head(self) -> PromptHeader:
        latest = len(self.versions)
        return PromptHeader(self.header, latest, latest if self.pinned is None else self.pinned)

    def version(self, number: int) -> bytes | None:
        return self.versions[number - 1] if 1 <= number <= len(self.versions) else None


class MemoryPromptStore:
    def __init__(self) -> None:
        self._prompts: dict[tuple[str, str], _Prompt] = {}
        self._order: dict[str, Sequence] = {}

    async def create(self, tenant: str, prompt_id: str, header: bytes, version: bytes) -> None:
        self._prompts[(tenant, prompt_id)] = _Prompt(header, [version])
        self._order.setdefault(tenant, Sequence()).add(prompt_id)

    async def add_version(self, tenant: str, prompt_id: str, version: bytes) -> int | None:
        found = self._prompts.get((tenant, prompt_id))
        if found is None:
            return None
        found.versions.append(version)
        return len(found.versions)

    async def get(
        self, tenant: str, prompt_id: str, version: int | None
    ) -> tuple[PromptHeader, bytes | None] | None:
        found = self._prompts.get((tenant, prompt_id))
        if found is None:
            return None
        head = found.head()
        return head, found.version(head.default if version is None else version)

    async def versions(
        self, tenant: str, prompt_id: str
    ) -> tuple[PromptHeader, builtins.list[bytes]] | None:
        found = self._prompts.get((tenant, prompt_id))
        return None if found is None else (found.head(), list(found.versions))

    async def set_default(self, tenant: str, prompt_id: str, version: int) -> PromptHeader | None:
        found = self._prompts.get((tenant, prompt_id))
        if found is None:
            return None
        found.pinned = version
        return found.head()

    async def list(self, tenant: str) -> builtins.list[tuple[PromptHeader, bytes]]:
        listed = []
        for prompt_id in self._order.get(tenant, Sequence()).ids():
            found = self._prompts[(tenant, prompt_id)]
            head = found.head()
            listed.append((head, found.version(head.default) or b""))
        return listed

    async def delete(self, tenant: str, prompt_id: str) -> bool:
        self._order.get(tenant, Sequence()).discard(prompt_id)
        return self._prompts.pop((tenant, prompt_id), None) is not None
