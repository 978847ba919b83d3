"""Sealing what a compaction item carries, so clients can hold it but not read or forge it.

AES-256-GCM under the gateway's compaction key, with the tenant bound as associated
data: an item sealed for one tenant fails authentication for every other, and any change
to the text fails for all. The payload is compressed before sealing (kept messages and
summaries are text); it is only decompressed once authenticated, so only data the
gateway itself sealed is ever inflated.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.common.errors import InvalidRequestError

__all__ = ["KEY_BYTES", "Sealed", "Sealer", "process_sealer"]

KEY_BYTES = 32
_VERSION = b"\x01"  # the layout below; a later one can be told apart and refused
_NONCE_BYTES = 12
_CONTEXT = b"openresponses-gw compaction v1\x00"  # keeps the key's use to this purpose


@dataclass(frozen=True, slots=True)
class Sealed:
    """What a compaction item stands for: the summary of what came before it, and the
    items kept verbatim after the summary."""

    summary: str
    kept: list[dict[str, Any]]


def _refused(param: str) -> InvalidRequestError:
    return InvalidRequestError(
        "The encrypted content of the compaction item could not be verified: it was not "
        "produced for this organization, or it was altered.",
        param=param,
        code="invalid_value",
    )


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a compaction key is {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def seal(self, tenant: str, content: Sealed) -> str:
        plain = zlib.compress(orjson.dumps({"summary": content.summary, "kept": content.kept}))
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain, _CONTEXT + tenant.encode())
        return base64.urlsafe_b64encode(_VERSION + nonce + sealed).decode()

    def open(self, tenant: str, token: object, param: str) -> Sealed:
        """The content of an item's `encrypted_content`, or a 400 naming `param`."""
        if not isinstance(token, str):
            raise _refused(param)
        try:
            raw = base64.b64decode(token.encode(), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise _refused(param) from None
        version, nonce, sealed = raw[:1], raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        if version != _VERSION or len(sealed) < 16:
            raise _refused(param)
        try:
            plain = self._aead.decrypt(nonce, sealed, _CONTEXT + tenant.encode())
        except InvalidTag:
            raise _refused(param) from None
        content = orjson.loads(zlib.decompress(plain))
        return Sealed(str(content["summary"]), list(content["kept"]))


@functools.cache
def process_sealer() -> Sealer:
    """A key of this process only, for an engine built without one (tests, tools): the
    items it seals stop opening when the process ends. The sidecar always has a key
    shared by every replica."""
    return Sealer(os.urandom(KEY_BYTES))
