"""Every body the gateway serves to the e2e suite, checked against the OpenAPI documents.

The e2e clients are made here (`checked_http`, `checked_sdk`; the openai SDK runs on the
httpx2 fork of httpx, with the same hooks) with a response hook,
so no request to the gateway escapes the check. JSON bodies are read and validated by the
hook; `text/event-stream` bodies are teed as the client reads them (the client's view is
neither buffered nor changed, so the SDK's streaming keeps working) and each event is
validated against the stream event schema its `type` names. Violations are recorded in
`VIOLATIONS`; the e2e conftest fails the test during which they were served.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import openai
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from support.openapi_documents import (
    OPENAI_URI,
    Operation,
    error_envelope,
    find_operation,
    stream_event_schemas,
    validator,
)

__all__ = [
    "UNDOCUMENTED",
    "VIOLATIONS",
    "SseCheck",
    "check_response",
    "checked_http",
    "checked_sdk",
    "drain_violations",
    "json_violations",
]

VIOLATIONS: list[str] = []

# Gateway operations no document describes, each with why. Any other path the gateway
# answers without a schema is a violation.
UNDOCUMENTED: dict[tuple[str, str], str] = {
    # Connectors are the gateway's own registry of MCP servers: OpenAI has no such API
    # (its connectors are hosted ones named by `connector_id`) and we publish no document.
    ("POST", "/v1/connectors"): "gateway's own API, no OpenAPI document",
    ("GET", "/v1/connectors"): "gateway's own API, no OpenAPI document",
    ("GET", "/v1/connectors/{id}"): "gateway's own API, no OpenAPI document",
    ("POST", "/v1/connectors/{id}"): "gateway's own API, no OpenAPI document",
    ("DELETE", "/v1/connectors/{id}"): "gateway's own API, no OpenAPI document",
}

# Exceptions to the document that the live API shows, each as narrow as it can be.
# `deleteResponse` documents its 200 without a body; the live API (and the document's own
# example) answers `{id, object: "response", deleted: true}`.
_DELETED_RESPONSE = Draft202012Validator(
    {
        "type": "object",
        "required": ["id", "object", "deleted"],
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "response"},
            "deleted": {"const": True},
        },
    }
)
# `downloadFile` documents its body as a JSON string; the live API serves the file's bytes
# as they were uploaded, with their own content type.
_RAW_CONTENT = {"downloadFile"}


def _where(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(root)"


def _as_documented(node: Any) -> Any:
    """`node` with the gateway's documented extensions put in the document's terms.

    An `mcp` tool's `connector_id` names one of the gateway's own connectors (`conn_...`,
    README "Connectors") where OpenAI's names one of its hosted ones (an enum): it is
    checked as if it named a hosted one, so the rest of the tool is still checked."""
    if isinstance(node, list):
        return [_as_documented(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _as_documented(value) for key, value in node.items()}
    connector = out.get("connector_id")
    if out.get("type") == "mcp" and isinstance(connector, str) and connector.startswith("conn_"):
        out["connector_id"] = "connector_dropbox"
    return out


def _live_exception(body: Any, error: ValidationError) -> bool:
    """Where the live API and the document disagree, the live API is followed.

    An empty page has no first or last id: the live API sends `first_id` and `last_id` as
    null (its SDK prints `first_id=None` for an empty `vector_stores.list()`), the
    document declares them required strings."""
    return (
        len(error.absolute_path) == 1
        and error.absolute_path[0] in ("first_id", "last_id")
        and error.instance is None
        and isinstance(body, dict)
        and body.get("object") == "list"
        and body.get("data") == []
    )


def json_violations(body: Any, check: Draft202012Validator) -> list[str]:
    """Why `body` does not conform to `check` (nothing when it does): each failing keyword,
    and for a union the member that came closest."""
    found: list[str] = []
    for error in check.iter_errors(_as_documented(body)):
        if _live_exception(body, error):
            continue
        closest = best_match([error])
        assert closest is not None
        problem = f"at {_where(closest)}: {closest.message}"
        if problem not in found:
            found.append(problem)
    return found


def _undocumented(method: str, raw_path: str) -> bool:
    segments = raw_path.split("/")
    for allowed_method, template in UNDOCUMENTED:
        parts = template.split("/")
        if (
            allowed_method == method
            and len(parts) == len(segments)
            and all(p.startswith("{") or p == s for p, s in zip(parts, segments, strict=True))
        ):
            return True
    return False


def _media_type(response: httpx.Response | httpx2.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


@dataclass
class SseCheck:
    """Checks a `text/event-stream` body frame by frame as its bytes pass by."""

    label: str
    report: list[str] = field(default_factory=list)
    _pending: bytes = b""
    _last_sequence: int | None = None
    done: bool = False

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk.replace(b"\r\n", b"\n")
        *frames, self._pending = self._pending.split(b"\n\n")
        for frame in frames:
            self._frame(frame.decode())

    def finish(self) -> None:
        """The body ended: what is left is the last frame; the stream must have closed
        with `data: [DONE]`."""
        if self._pending.strip():
            self._frame(self._pending.decode())
        self._pending = b""
        if not self.done:
            self._violation("the stream ended without `data: [DONE]`")

    def _violation(self, problem: str) -> None:
        self.report.append(f"{self.label}: {problem}")

    def _frame(self, frame: str) -> None:
        event: str | None = None
        data: list[str] = []
        for line in frame.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
        if not data:
            return
        text = "\n".join(data)
        if self.done:
            self._violation(f"an event after `data: [DONE]`: {text[:200]}")
            return
        if text == "[DONE]":
            self.done = True
            return
        self._event(event, text)

    def _event(self, event: str | None, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            self._violation(f"an event whose data is not JSON: {text[:200]}")
            return
        kind = payload.get("type") if isinstance(payload, dict) else None
        if event != kind:
            self._violation(f"`event: {event}` names another type than the payload's {kind!r}")
        pointer = stream_event_schemas().get(kind) if isinstance(kind, str) else None
        if pointer is None:
            self._violation(f"an event type the stream event union lacks: {kind!r}")
            return
        for problem in json_violations(payload, validator(OPENAI_URI, pointer)):
            self._violation(f"event {kind} #{payload.get('sequence_number')} {problem}")
        sequence = payload.get("sequence_number")
        if isinstance(sequence, int):
            if self._last_sequence is not None and sequence <= self._last_sequence:
                self._violation(f"sequence_number {sequence} after {self._last_sequence}")
            self._last_sequence = sequence


def _teed_stream(base: type[Any]) -> type[Any]:
    """A byte stream of `base`'s library showing the response's bytes to a check as the
    client reads them (httpx for raw clients, the httpx2 fork for the openai SDK)."""

    class Teed(base):  # type: ignore[misc, valid-type]
        def __init__(self, inner: Any, check: SseCheck) -> None:
            self._inner = inner
            self._check = check

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self._inner:
                self._check.feed(chunk)
                yield chunk
            # Only a stream read to its end must close with [DONE]: a client may stop early.
            self._check.finish()

        def close(self) -> None:
            self._inner.close()

    return Teed


_TEED = {httpx.Response: _teed_stream(httpx.SyncByteStream)}
_TEED[httpx2.Response] = _teed_stream(httpx2.SyncByteStream)


def _success_violations(
    operation: Operation, status: int, media_type: str, body: bytes, label: str
) -> list[str]:
    if operation.operation_id == "deleteResponse" and status == 200:
        check = _DELETED_RESPONSE
    else:
        pointer = operation.media_schema(status, media_type)
        if pointer is None:
            return [f"{label}: the document describes no {status} {media_type or 'body'}"]
        check = validator(operation.uri, pointer)
    try:
        payload = json.loads(body)
    except ValueError:
        return [f"{label}: the body is not JSON: {body[:200]!r}"]
    return [f"{label} {problem}" for problem in json_violations(payload, check)]


def check_response(response: httpx.Response | httpx2.Response) -> None:
    """The response hook: validate what the gateway served (JSON now, SSE as it is read)."""
    request = response.request
    raw_path = request.url.raw_path.split(b"?")[0].decode()
    method = request.method
    label = f"{method} {raw_path} -> {response.status_code}"
    media_type = _media_type(response)
    operation = find_operation(method, raw_path)
    if media_type == "text/event-stream":
        if response.status_code != 200 or operation is None:
            VIOLATIONS.append(f"{label}: an event stream where none is documented")
            return
        teed = _TEED[type(response)]
        response.stream = teed(response.stream, SseCheck(label, VIOLATIONS))
        return
    if response.status_code >= 400:
        # Errors are checked wherever they come from, documented path or not.
        body = response.read()
        try:
            payload = json.loads(body)
        except ValueError:
            VIOLATIONS.append(f"{label}: an error body that is not JSON: {body[:200]!r}")
            return
        VIOLATIONS.extend(f"{label} {p}" for p in json_violations(payload, error_envelope()))
        return
    if operation is None:
        if not _undocumented(method, raw_path):
            VIOLATIONS.append(f"{label}: no document describes this operation")
        return
    if operation.operation_id in _RAW_CONTENT:
        return
    body = response.read()
    VIOLATIONS.extend(_success_violations(operation, response.status_code, media_type, body, label))


def drain_violations() -> list[str]:
    """The violations recorded so far, which are then forgotten."""
    found = list(VIOLATIONS)
    del VIOLATIONS[: len(found)]
    return found


def _hooks(extra: dict[str, list[Any]] | None) -> dict[str, list[Any]]:
    hooks = {key: list(value) for key, value in (extra or {}).items()}
    hooks.setdefault("response", []).insert(0, check_response)
    return hooks


def checked_http(base_url: str, **options: Any) -> httpx.Client:
    """An httpx client of the gateway whose every response is checked."""
    event_hooks = _hooks(options.pop("event_hooks", None))
    return httpx.Client(base_url=base_url, event_hooks=event_hooks, **options)


def checked_sdk(
    base_url: str, api_key: str, transport: httpx2.BaseTransport | None = None, **options: Any
) -> openai.OpenAI:
    """An openai SDK client of the gateway whose every response is checked (`transport`
    replaces the network, for tests of the check itself)."""
    http_client = openai.DefaultHttpxClient(event_hooks=_hooks(None), transport=transport)
    return openai.OpenAI(base_url=base_url, api_key=api_key, http_client=http_client, **options)
