"""Input parts that name an uploaded file by `file_id`, made into parts a stateless
backend accepts.

A model server such as vLLM knows nothing of the gateway's files, so every time a body
is built for it (each turn, so a chain or a conversation resolves its files again) an
`input_file` part becomes the file's extracted text, headed by its name (`text` mode),
or the file itself as a base64 data URL in `file_data` (`inline` mode, for backends that
take files); an `input_image` part becomes an `image_url` data URL. What is stored and
listed stays the client's `file_id` form: only the backend's copy is resolved.

Items stay encoded on the hot path: only those whose bytes hold `"file_id"` are decoded.
Stored and re-encoded items are compact JSON, so the key always reads exactly so, and the
same words inside a string are escaped (`\\"file_id\\"`) and never match.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from core.common.errors import InvalidRequestError
from core.common.validation import invalid_type
from core.ports import Stores
from core.responses.file_contents import FileContents, StoredFile, image_type

__all__ = ["FileInputSettings", "FileInputs"]

_MARKER = b'"file_id"'
_FILE_PARTS = frozenset(("input_file", "input_image"))
_PART_LISTS = ("content", "output")  # a message's parts; a tool output given as parts

FileInputMode = Literal["text", "inline"]


@dataclass(frozen=True, slots=True)
class FileInputSettings:
    """What the operator decides about files given as input by id."""

    mode: FileInputMode = "text"
    # File content one request may send the backend, all files together: extracted text
    # (UTF-8) in text mode, the files' own bytes when inlined (base64 adds a third, and
    # the whole body must fit Envoy's 32 MiB request buffer).
    max_bytes: int = 16 * 1024 * 1024


class FileInputs:
    """Resolves the file parts of one backend request."""

    def __init__(self, stores: Stores, tenant: str, settings: FileInputSettings) -> None:
        self._contents = FileContents(stores.files, stores.blobs, tenant)
        self._settings = settings
        self._sent = 0  # bytes of file content this request carries so far

    async def items(self, items: list[bytes], param: str, *, indexed: bool = True) -> list[bytes]:
        """Encoded items with their file parts resolved; an error names the part as
        `param[i].content[j].file_id` (or just `param` when not `indexed`)."""
        if not any(_MARKER in item for item in items):
            return items
        out = []
        for i, encoded in enumerate(items):
            if _MARKER in encoded:
                where = f"{param}[{i}]" if indexed else None
                resolved = await self._item(orjson.loads(encoded), where, param)
                encoded = orjson.dumps(resolved) if resolved is not None else encoded
            out.append(encoded)
        return out

    async def joined(self, joined: bytes, param: str) -> bytes:
        """Comma-joined encoded items (a stored context) with their file parts resolved;
        an error names `param`, the request field the context came from."""
        if _MARKER not in joined:
            return joined
        items = orjson.loads(b"[" + joined + b"]")
        resolved = [await self._item(item, None, param) for item in items]
        if all(found is None for found in resolved):  # the key was a search result's, say
            return joined
        out = [
            item if found is None else found for item, found in zip(items, resolved, strict=True)
        ]
        return b",".join(orjson.dumps(item) for item in out)

    async def _item(self, item: Any, where: str | None, param: str) -> dict[str, Any] | None:
        """The item with its file parts resolved, or None when it has none."""
        if not isinstance(item, dict):
            return None
        changed: dict[str, Any] = {}
        for key in _PART_LISTS:
            parts = item.get(key)
            if not isinstance(parts, list):
                continue
            new = list(parts)
            for j, part in enumerate(parts):
                if isinstance(part, dict) and part.get("type") in _FILE_PARTS:
                    at = f"{where}.{key}[{j}].file_id" if where is not None else param
                    new[j] = await self._part(part, at)
                    changed[key] = new
        return {**item, **changed} if changed else None

    async def _part(self, part: dict[str, Any], param: str) -> dict[str, Any]:
        file_id = part.get("file_id")
        if file_id is None:
            return part  # given by URL or inline data: the backend's to read
        if not isinstance(file_id, str):
            raise invalid_type(param, "a string", file_id)
        file = await self._contents.find(file_id, param)
        rest = {k: v for k, v in part.items() if k != "file_id"}
        if part["type"] == "input_image":
            return {**rest, "image_url": await self._image_url(file, param)}
        if self._settings.mode == "inline":
            self._spend(file, file.size, param)
            return {
                **rest,
                "filename": part.get("filename") or file.filename,
                "file_data": await self._contents.data_url(file, param),
            }
        guessed, _ = mimetypes.guess_type(file.filename)
        if guessed is not None and guessed.startswith("image/"):
            # An image has no text; a vision model takes it as an image.
            url = await self._image_url(file, param)
            return {"type": "input_image", "detail": "auto", "image_url": url}
        text = await self._contents.text(file, param)
        self._spend(file, len(text.encode("utf-8")), param)
        return {"type": "input_text", "text": f"File: {file.filename}\n\n{text}"}

    async def _image_url(self, file: StoredFile, param: str) -> str:
        self._spend(file, file.size, param)
        data = await self._contents.data(file, param)
        media_type = image_type(data, file.filename)
        if media_type is None:
            raise InvalidRequestError(
                f"The file {file.id} ({file.filename}) is not an image the gateway can "
                "send: use PNG, JPEG, GIF or WebP.",
                param=param,
                code="invalid_image_format",
            )
        return await self._contents.data_url(file, param, media_type)

    def _spend(self, file: StoredFile, size: int, param: str) -> None:
        """Count a file's content against the request's limit (checked before a file is
        read where its size is known, so an oversized file is never loaded)."""
        self._sent += size
        limit = self._settings.max_bytes
        if self._sent > limit:
            raise InvalidRequestError(
                f"The files given as input are too large: a request may send the model at "
                f"most {limit} bytes of file content (extracted text, or the files' bytes "
                f"when sent inline), and {file.id} ({file.filename}) goes over it.",
                param=param,
                code="file_too_large",
            )
