"""Scripted, deterministic fake ``/v1/responses`` model backend.

Stands in for a model server such as vLLM in integration tests and benchmarks.
Pure stdlib (asyncio streams + json), minimal HTTP/1.1 with keep-alive and
chunked request/response bodies.

Behaviour is selected by the request's ``model`` field and by the last user text:

* default: one assistant message ``"reply to: <text>"`` (``"tool said: <output>"`` when
  the last input item is a ``function_call_output``)
* instructions starting ``Summarise the conversation`` (the gateway compacting a
  context): ``"SUMMARY: <n> items"``, n the input items before the final request
* text ``call <name> <json-args>``: a single ``function_call`` item
* ``fake-reasoning``: a ``reasoning`` item followed by the normal output; the reasoning
  carries ``encrypted_content`` and the answer ``logprobs`` only when ``include`` asks
* ``fake-verbose``: as ``fake-reasoning``, with both whatever ``include`` asks
* ``fake-echo-id``: the message takes the id of the last input item (when it has one)
* ``fail-400`` / ``fail-500`` / ``fail-plain`` / ``fail-vllm``: HTTP errors
* ``fail-context``: vLLM's 400 for a context longer than the model's window
* ``fail-503``: HTTP 503 with an OpenAI error body (as an overloaded server answers)
* ``fail-after-tool``: normal, but a 503 for a request whose last input item is a
  ``function_call_output`` (the follow-up turn of a tool loop)
* ``slow``: sleeps ``metadata["delay"]`` seconds (default 5) first
* ``ctx-<N>``: a context window of N tokens, enforced as vLLM does; ``GET /v1/models``
  and vLLM's ``POST /tokenize`` tell it (see `support.fake_context` for the rules)
* streaming only: ``stream-fail`` (``response.failed``), ``stream-cut`` (connection dropped
  mid-stream), ``chunky`` (SSE bytes written in tiny irregular pieces, non-ASCII text)

Requests are handed to the recorders attached at the time (see `support.recording`); a
test reads its own with the `recorder` fixture.

Run standalone from `tests/`: ``python -m support.fake_backend --port P``; prints
``READY <port>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import json
import re
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from support.fake_chat import chat_chunks, chat_completion, responses_body
from support.fake_context import models_page, overflow_error, tokenize_answer
from support.recording import Recorder, Recorders
from support.server_thread import ServerThread

__all__ = ["BackendRecorder", "BackendThread", "FakeBackend", "RecordedRequest"]

JSON = dict[str, Any]

# When the request being answered on this connection began (its head read), so every
# answer can say how long the backend itself took: the bench subtracts it
# (`x-backend-handling-us`) to get the gateway's own latency.
_received_at: contextvars.ContextVar[float] = contextvars.ContextVar("received_at", default=0.0)
HANDLING_HEADER = "x-backend-handling-us"
# model "ticker": one output_text.delta per tick, as a model server emits tokens.
TICK_SECONDS = 0.01

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}
_ROUTES = frozenset({"/v1/responses", "/responses"})
_CHAT_ROUTES = frozenset({"/v1/chat/completions", "/chat/completions"})
_MODELS = frozenset({"/v1/models", "/models"})
_CHUNKY_SIZES = (7, 13, 1, 29, 3, 17, 2, 11, 5, 23)
_CHUNKY_SUFFIX = " — ünïcödé ✓"
_WORD_RE = re.compile(r"\S+\s*|\s+")
_UTF8_LEAD_RE = re.compile(rb"[\xc0-\xff]")
_HEAD_LIMIT = 1 << 20
_SUMMARY_ASKED = "Summarise the conversation"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


BackendRecorder = Recorder[RecordedRequest]


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(message: str, type_: str, param: str | None = None, code: str | None = None) -> JSON:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _hex() -> str:
    return uuid.uuid4().hex


def _words(text: str) -> int:
    return len(text.split())


def _text_of(value: Any) -> str:
    """Text of a tool output / content that may be a string or a list of parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(str(p.get("text", "")) for p in value if isinstance(p, dict) and "text" in p)
    return "" if value is None else json.dumps(value)


def _last_input(body: JSON) -> tuple[str, str | None]:
    """Return (last user text, function_call_output output or None)."""
    inp = body.get("input")
    if isinstance(inp, str):
        return inp, None
    if not isinstance(inp, list) or not inp:
        return "", None
    last = inp[-1]
    if not isinstance(last, dict):
        return "", None
    kind = last.get("type")
    if kind == "function_call_output":
        return "", _text_of(last.get("output"))
    if kind == "message" or (kind is None and "role" in last):
        content = last.get("content")
        if isinstance(content, str):
            return content, None
        if isinstance(content, list):
            for part in reversed(content):
                if isinstance(part, dict) and part.get("type") in ("input_text", "output_text"):
                    return str(part.get("text", "")), None
    return "", None


def _last_input_id(body: JSON) -> str | None:
    inp = body.get("input")
    last = inp[-1] if isinstance(inp, list) and inp else None
    item_id = last.get("id") if isinstance(last, dict) else None
    return item_id if isinstance(item_id, str) else None


def _logprobs(text: str) -> list[JSON]:
    """One made-up log probability per word."""
    return [
        {"token": word, "logprob": -0.25, "bytes": list(word.encode()), "top_logprobs": []}
        for word in text.split()
    ]


def _deltas(text: str) -> list[str]:
    return _WORD_RE.findall(text) or [text]


class _Plan:
    """Everything decided about one /v1/responses request."""

    __slots__ = ("base", "input_tokens", "output")

    def __init__(self, body: JSON, model: str) -> None:
        text, tool_output = _last_input(body)
        output: list[JSON] = []
        include = body.get("include") or []
        verbose = model == "fake-verbose"  # sends both whatever `include` asks
        if model == "fake-reasoning" or verbose:
            encrypted = verbose or "reasoning.encrypted_content" in include
            output.append(
                {
                    "type": "reasoning",
                    "id": "rs_" + _hex(),
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": f"thinking about {text}"}],
                    "encrypted_content": f"enc:{text}" if encrypted else None,
                    "status": "completed",
                }
            )
        if tool_output is None and text.startswith("call "):
            _, _, rest = text.partition(" ")
            name, _, args = rest.strip().partition(" ")
            output.append(
                {
                    "type": "function_call",
                    "id": "fc_" + _hex(),
                    "call_id": "call_" + _hex(),
                    "name": name,
                    "arguments": args.strip() or "{}",
                    "status": "completed",
                }
            )
        else:
            reply = f"tool said: {tool_output}" if tool_output is not None else f"reply to: {text}"
            if str(body.get("instructions") or "").startswith(_SUMMARY_ASKED):
                reply = f"SUMMARY: {len(body.get('input') or []) - 1} items"
            if model == "chunky":
                reply += _CHUNKY_SUFFIX
            message_id = "msg_" + _hex()
            if model == "fake-echo-id":
                message_id = _last_input_id(body) or message_id
            output.append(
                {
                    "type": "message",
                    "id": message_id,
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {
                            "type": "output_text",
                            "text": reply,
                            "annotations": [],
                            "logprobs": _logprobs(reply)
                            if verbose or "message.output_text.logprobs" in include
                            else [],
                        }
                    ],
                }
            )
        self.output = output
        instructions = body.get("instructions")
        self.input_tokens = max(1, _words(text or (tool_output or "")) + _words(instructions or ""))
        now = int(time.time())
        temperature = body.get("temperature")
        top_p = body.get("top_p")
        tool_choice = body.get("tool_choice")
        tools = body.get("tools")
        metadata = body.get("metadata")
        store = body.get("store")
        self.base: JSON = {
            "id": "resp_" + _hex(),
            "object": "response",
            "created_at": now,
            "status": "completed",
            "completed_at": now,
            "error": None,
            "incomplete_details": None,
            "instructions": instructions,
            "max_output_tokens": body.get("max_output_tokens"),
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": None,
            "store": True if store is None else store,
            "temperature": 1.0 if temperature is None else temperature,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto" if tool_choice is None else tool_choice,
            "tools": [] if tools is None else tools,
            "top_p": 1.0 if top_p is None else top_p,
            "truncation": "disabled",
            "usage": None,
            "user": None,
            "metadata": {} if metadata is None else metadata,
            "background": False,
            "service_tier": "auto",
        }

    def usage(self) -> JSON:
        out = 0
        for item in self.output:
            if item["type"] == "message":
                out += _words(item["content"][0]["text"])
            elif item["type"] == "function_call":
                out += _words(item["arguments"])
            else:
                out += _words(item["content"][0]["text"])
        out = max(out, 1)
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + out,
        }

    def completed(self) -> JSON:
        return {**self.base, "usage": self.usage()}

    def in_progress(self) -> JSON:
        return {**self.base, "status": "in_progress", "completed_at": None, "output": []}

    def failed(self) -> JSON:
        return {
            **self.base,
            "status": "failed",
            "completed_at": None,
            "output": [],
            "error": {"code": "server_error", "message": "model crashed"},
        }


def _item_events(index: int, item: JSON) -> Iterator[JSON]:
    kind = item["type"]
    if kind == "message":
        item_id = item["id"]
        part = item["content"][0]
        text = part["text"]
        yield {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        }
        ids = {"item_id": item_id, "output_index": index, "content_index": 0}
        yield {
            "type": "response.content_part.added",
            **ids,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        }
        for delta in _deltas(text):
            yield {"type": "response.output_text.delta", **ids, "delta": delta, "logprobs": []}
        yield {"type": "response.output_text.done", **ids, "text": text, "logprobs": []}
        yield {"type": "response.content_part.done", **ids, "part": part}
    elif kind == "function_call":
        yield {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "arguments": ""},
        }
        ids = {"item_id": item["id"], "output_index": index}
        yield {"type": "response.function_call_arguments.delta", **ids, "delta": item["arguments"]}
        yield {
            "type": "response.function_call_arguments.done",
            **ids,
            "name": item["name"],
            "arguments": item["arguments"],
        }
    else:
        yield {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        }
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def _sse(seq: int, event: JSON) -> bytes:
    event["sequence_number"] = seq
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + _dumps(event) + b"\n\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class FakeBackend:
    """Asyncio fake OpenAI-Responses server. Use from the loop that runs it."""

    def __init__(self, chat_only: bool = False) -> None:
        # A backend that serves only /v1/chat/completions (llama.cpp, TGI, ...).
        self.chat_only = chat_only
        self.recorders: Recorders[RecordedRequest] = Recorders()
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("FakeBackend only binds to 127.0.0.1")
        self._server = await asyncio.start_server(
            self._on_connect, "127.0.0.1", port, limit=_HEAD_LIMIT, backlog=1024
        )
        sock = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        conns = list(self._conns)
        for task in conns:
            task.cancel()
        if conns:
            await asyncio.gather(*conns, return_exceptions=True)
        await server.wait_closed()

    # -- connection handling ----------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._conns.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Handle one request; return True to keep the connection open."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError:
            await self._send_json(writer, 431, _error("headers too large", "invalid_request_error"))
            return False
        _received_at.set(time.perf_counter())
        lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            await self._send_json(writer, 400, _error("bad request line", "invalid_request_error"))
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        conn_hdr = headers.get("connection", "").lower()
        keep_alive = "keep-alive" in conn_hdr if version == "HTTP/1.0" else "close" not in conn_hdr
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        raw = await self._read_body(reader, headers)

        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self.recorders.record(RecordedRequest(method, target, headers, body))

        path = target.split("?", 1)[0]
        if method == "GET" and path in _MODELS:
            await self._send_json(writer, 200, models_page(int(time.time())), keep_alive)
            return keep_alive
        if method == "POST" and path == "/tokenize" and isinstance(body, dict):
            status, answer = tokenize_answer(body)
            await self._send_json(writer, status, answer, keep_alive)
            return keep_alive
        chat = path in _CHAT_ROUTES
        if (path in _ROUTES and self.chat_only) or (path not in _ROUTES and not chat):
            await self._send_json(
                writer, 404, _error("not found", "invalid_request_error"), keep_alive
            )
            return keep_alive
        if method != "POST":
            err = _error("method not allowed", "invalid_request_error")
            await self._send_json(writer, 405, err, keep_alive)
            return keep_alive
        if not isinstance(body, dict):
            err = _error("request body must be a JSON object", "invalid_request_error")
            await self._send_json(writer, 400, err, keep_alive)
            return keep_alive
        if chat:
            return await self._respond(writer, responses_body(body), headers, keep_alive, chat=True)
        return await self._respond(writer, body, headers, keep_alive)

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # trailers until blank line
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    return b"".join(parts)
                data = await reader.readexactly(size + 2)
                parts.append(data[:-2])
        length = headers.get("content-length")
        if length:
            return await reader.readexactly(int(length))
        return b""

    # -- responses ---------------------------------------------------------

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter,
        status: int,
        content_type: str,
        payload: bytes,
        keep_alive: bool = True,
    ) -> None:
        handling_us = (time.perf_counter() - _received_at.get()) * 1e6
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
            f"content-type: {content_type}\r\n"
            f"{HANDLING_HEADER}: {handling_us:.0f}\r\n"
            f"content-length: {len(payload)}\r\n"
            f"connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode()
        writer.write(head + payload)
        await writer.drain()

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, obj: Any, keep_alive: bool = False
    ) -> None:
        await self._send(writer, status, "application/json", _dumps(obj), keep_alive)

    async def _respond(
        self,
        writer: asyncio.StreamWriter,
        body: JSON,
        headers: dict[str, str],
        keep_alive: bool,
        chat: bool = False,
    ) -> bool:
        model = str(body.get("model") or "")
        if model == "fail-400":
            err = _error(
                f"The model `{model}` does not exist.",
                "invalid_request_error",
                "model",
                "model_not_found",
            )
            await self._send_json(writer, 400, err, keep_alive)
            return keep_alive
        if model == "fail-500":
            await self._send_json(
                writer, 500, _error("internal failure", "server_error"), keep_alive
            )
            return keep_alive
        if model == "fail-plain":
            await self._send(writer, 500, "text/plain", b"boom", keep_alive)
            return keep_alive
        if model == "fail-503":
            await self._send_json(
                writer, 503, _error("backend overloaded", "server_error"), keep_alive
            )
            return keep_alive
        if model == "fail-after-tool" and _last_input(body)[1] is not None:
            # Answers the first turn (a tool call) but fails the one carrying its output.
            await self._send_json(
                writer, 503, _error("overloaded after the tool", "server_error"), keep_alive
            )
            return keep_alive
        if model == "fail-context":
            err = {
                "object": "error",
                "message": "This model's maximum context length is 4096 tokens. However, your "
                "request has 5120 input tokens. Please reduce the length of the input messages.",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
            await self._send_json(writer, 400, err, keep_alive)
            return keep_alive
        if model == "fail-vllm":
            err = {
                "object": "error",
                "message": "bad request from vllm",
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
            await self._send_json(writer, 400, err, keep_alive)
            return keep_alive
        overflow = overflow_error(body)
        if overflow is not None:
            await self._send_json(writer, 400, overflow, keep_alive)
            return keep_alive
        if model == "slow":
            metadata = body.get("metadata")
            delay = metadata.get("delay", "5") if isinstance(metadata, dict) else "5"
            await asyncio.sleep(float(delay))

        plan = _Plan(body, model)
        if chat:
            return await self._respond_chat(writer, plan, body.get("stream") is True, keep_alive)
        if body.get("stream") is not True:
            await self._send_json(writer, 200, plan.completed(), keep_alive)
            return keep_alive
        return await self._stream(
            writer, plan, model, headers.get("x-fake-done") == "1", keep_alive
        )

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        plan: _Plan,
        model: str,
        done_marker: bool,
        keep_alive: bool,
    ) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\n"
            b"content-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n"
            + (b"connection: keep-alive\r\n\r\n" if keep_alive else b"connection: close\r\n\r\n")
        )
        seq = 0

        def event(ev: JSON) -> bytes:
            nonlocal seq
            data = _sse(seq, ev)
            seq += 1
            return data

        head = [
            event({"type": "response.created", "response": plan.in_progress()}),
            event({"type": "response.in_progress", "response": plan.in_progress()}),
        ]
        if model == "stream-fail":
            for data in head:
                writer.write(_chunk(data))
            writer.write(_chunk(event({"type": "response.failed", "response": plan.failed()})))
        elif model == "ticker":
            for data in head:
                writer.write(_chunk(data))
            await self._tick(writer, plan, event)
        elif model == "stream-cut":
            for data in head:
                writer.write(_chunk(data))
            first = next(_item_events(0, plan.output[0]))
            writer.write(_chunk(event(first)))
            await writer.drain()
            return False  # caller closes the socket: no terminating 0-chunk
        else:
            events = head
            for index, item in enumerate(plan.output):
                events.extend(event(ev) for ev in _item_events(index, item))
            events.append(event({"type": "response.completed", "response": plan.completed()}))
            if done_marker:
                events.append(b"data: [DONE]\n\n")
            if model == "chunky":
                await self._write_chunky(writer, b"".join(events))
            else:
                for data in events:
                    writer.write(_chunk(data))
                    await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return keep_alive
        if done_marker:
            writer.write(_chunk(b"data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return keep_alive

    async def _respond_chat(
        self, writer: asyncio.StreamWriter, plan: _Plan, stream: bool, keep_alive: bool
    ) -> bool:
        if not stream:
            await self._send_json(writer, 200, chat_completion(plan.completed()), keep_alive)
            return keep_alive
        writer.write(
            b"HTTP/1.1 200 OK\r\n"
            b"content-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n"
            + (b"connection: keep-alive\r\n\r\n" if keep_alive else b"connection: close\r\n\r\n")
        )
        for piece in chat_chunks(plan.completed()):
            writer.write(_chunk(b"data: " + _dumps(piece) + b"\n\n"))
            await writer.drain()
        writer.write(_chunk(b"data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return keep_alive

    @staticmethod
    async def _tick(
        writer: asyncio.StreamWriter, plan: _Plan, event: Callable[[JSON], bytes]
    ) -> None:
        """A model producing a token every TICK_SECONDS, each delta stamped with its send
        time (`sent_ns`, CLOCK_MONOTONIC: one clock for every process on the host), so
        the bench measures the delay a relay adds per event."""
        for index, item in enumerate(plan.output):
            for ev in _item_events(index, item):
                if ev["type"] == "response.output_text.delta":
                    await asyncio.sleep(TICK_SECONDS)
                    ev["sent_ns"] = time.monotonic_ns()
                writer.write(_chunk(event(ev)))
                await writer.drain()
        writer.write(_chunk(event({"type": "response.completed", "response": plan.completed()})))

    @staticmethod
    async def _write_chunky(writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write ``data`` as many tiny HTTP chunks of irregular size.

        Sizes cycle through ``_CHUNKY_SIZES``; additionally a piece is always cut right
        after a UTF-8 lead byte, so every multi-byte character is split across chunks.
        """
        pos = 0
        i = 0
        n = len(_CHUNKY_SIZES)
        total = len(data)
        while pos < total:
            end = min(pos + _CHUNKY_SIZES[i % n], total)
            i += 1
            lead = _UTF8_LEAD_RE.search(data, pos, end - 1)
            if lead is not None:
                end = lead.start() + 1
            writer.write(_chunk(data[pos:end]))
            pos = end
            await writer.drain()
            await asyncio.sleep(0)


class BackendThread(ServerThread[FakeBackend]):
    """Runs a FakeBackend in a daemon thread with its own event loop."""

    def __init__(self, chat_only: bool = False) -> None:
        super().__init__(FakeBackend(chat_only), "fake-backend")

    @property
    def backend(self) -> FakeBackend:
        return self.server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BackendThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve_forever(port: int) -> None:
    backend = FakeBackend()
    bound = await backend.start(port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(f"READY {bound}", flush=True)
    try:
        await stop.wait()
    finally:
        await backend.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake /v1/responses backend")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.port))


if __name__ == "__main__":
    main()
