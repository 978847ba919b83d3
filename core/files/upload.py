"""`POST /v1/files`: a multipart upload streamed into the blob store as it arrives.

The body is never held whole: each chunk Envoy hands over is parsed (python-multipart)
and the file part's bytes go straight to the blob writer. Anything refused (too large,
malformed, bad fields) aborts the writer, so nothing is left behind.
"""

from __future__ import annotations

import os
import time

import orjson
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from core.common.errors import InvalidRequestError, PayloadTooLargeError
from core.common.http import Reply
from core.files.models import FileObject
from core.ports import BlobStore, BlobWriter, FileStore

__all__ = ["PURPOSES", "FileUpload"]

PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_FIELD_LIMIT = 4096  # form fields other than the file are short
_FORM_SLACK = 64 * 1024  # room for the boundaries and fields around the file
_EXPIRY_SECONDS = (3600, 2592000)


def _malformed(detail: str) -> InvalidRequestError:
    return InvalidRequestError(f"Malformed multipart body: {detail}.", code="invalid_multipart")


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"File too large: uploads are limited to {limit} bytes.",
        param="file",
        code="file_too_large",
    )


def _disposition(headers: dict[bytes, bytes]) -> tuple[str, str | None]:
    _, options = parse_options_header(headers.get(b"content-disposition", b""))
    name = options.get(b"name", b"").decode("utf-8", "replace")
    filename = options.get(b"filename")
    return name, None if filename is None else filename.decode("utf-8", "replace")


class FileUpload:
    def __init__(
        self,
        files: FileStore,
        blobs: BlobStore,
        tenant: str,
        headers: dict[str, str],
        max_bytes: int,
    ) -> None:
        kind, options = parse_options_header(headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise InvalidRequestError(
                "Uploads must be multipart/form-data with a 'file' and a 'purpose'.",
                code="invalid_content_type",
            )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > max_bytes + _FORM_SLACK:
            raise _too_large(max_bytes)
        self._files, self._tenant, self._max = files, tenant, max_bytes
        self._id = "file-" + os.urandom(12).hex()
        self._writer: BlobWriter = blobs.writer(tenant, self._id)
        self._received = 0
        self._size = 0
        self._events: list[tuple[str, bytes]] = []
        self._header_field = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: tuple[str, str | None] | None = None
        self._fields: dict[str, str] = {}
        self._field_value = bytearray()
        self._filename: str | None = None
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": lambda: self._events.append(("begin", b"")),
                "on_header_field": lambda d, s, e: self._events.append(("field", d[s:e])),
                "on_header_value": lambda d, s, e: self._events.append(("value", d[s:e])),
                "on_header_end": lambda: self._events.append(("header_end", b"")),
                "on_headers_finished": lambda: self._events.append(("headers", b"")),
                "on_part_data": lambda d, s, e: self._events.append(("data", d[s:e])),
                "on_part_end": lambda: self._events.append(("end", b"")),
                "on_end": lambda: self._events.append(("done", b"")),
            },
        )

    async def feed(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self._max + _FORM_SLACK:
            await self.abort()
            raise _too_large(self._max)
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            await self.abort()
            raise _malformed(str(error)) from None
        events, self._events = self._events, []
        for kind, data in events:
            await self._event(kind, data)

    async def _event(self, kind: str, data: bytes) -> None:
        if kind == "begin":
            self._headers, self._header_field = {}, b""
        elif kind == "field":
            self._header_field += data
        elif kind == "value":
            key = self._header_field.lower()
            self._headers[key] = self._headers.get(key, b"") + data
        elif kind == "header_end":
            self._header_field = b""
        elif kind == "headers":
            self._part = _disposition(self._headers)
            self._field_value = bytearray()
            if self._part[0] == "file":
                if self._filename is not None:
                    await self.abort()
                    raise _malformed("more than one 'file' part")
                self._filename = self._part[1] or "upload"
        elif kind == "data" and self._part is not None:
            if self._part[0] == "file":
                self._size += len(data)
                if self._size > self._max:
                    await self.abort()
                    raise _too_large(self._max)
                await self._writer.write(data)
            elif len(self._field_value) + len(data) <= _FIELD_LIMIT:
                self._field_value += data
        elif kind == "end" and self._part is not None:
            if self._part[0] != "file":
                self._fields[self._part[0]] = self._field_value.decode("utf-8", "replace")
            self._part = None
        elif kind == "done":
            self._ended = True

    def _expires_at(self, now: int) -> int | None:
        anchor = self._fields.get("expires_after[anchor]")
        seconds = self._fields.get("expires_after[seconds]")
        if anchor is None and seconds is None:
            return None
        if anchor != "created_at":
            raise InvalidRequestError(
                "Invalid value for 'expires_after.anchor': expected 'created_at'.",
                param="expires_after.anchor",
                code="invalid_value",
            )
        low, high = _EXPIRY_SECONDS
        if seconds is None or not seconds.isdigit() or not low <= int(seconds) <= high:
            raise InvalidRequestError(
                f"Invalid value for 'expires_after.seconds': expected an integer from {low} "
                f"to {high}.",
                param="expires_after.seconds",
                code="invalid_value",
            )
        return now + int(seconds)

    async def finish(self) -> Reply:
        try:
            self._parser.finalize()
            if not self._ended:
                raise _malformed("the body ended before the closing boundary")
            if self._filename is None:
                raise InvalidRequestError(
                    "Missing required parameter: 'file'.",
                    param="file",
                    code="missing_required_parameter",
                )
            purpose = self._fields.get("purpose")
            if purpose not in PURPOSES:
                raise InvalidRequestError(
                    f"Invalid value for 'purpose': expected one of {', '.join(PURPOSES)}.",
                    param="purpose",
                    code="invalid_value" if purpose else "missing_required_parameter",
                )
            now = int(time.time())
            file = FileObject(
                id=self._id,
                bytes=self._size,
                created_at=now,
                expires_at=self._expires_at(now),
                filename=self._filename,
                purpose=purpose,
            ).model_dump(exclude_none=True)
        except (InvalidRequestError, MultipartParseError) as error:
            await self.abort()
            if isinstance(error, MultipartParseError):
                raise _malformed(str(error)) from None
            raise
        await self._writer.commit()
        await self._files.create(self._tenant, file)
        return Reply(200, orjson.dumps(file))

    async def abort(self) -> None:
        await self._writer.abort()
