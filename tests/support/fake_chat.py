"""The fake backend's Chat Completions face: a chat request read as the Responses request
the scripted plan understands, and the plan's answer written as a chat completion or as
chat stream chunks (text in word deltas, each tool call's arguments split in two, reasoning
as `reasoning_content`, usage in a last chunk of its own)."""

from __future__ import annotations

import re
import time
from typing import Any

JSON = dict[str, Any]


def responses_body(chat: JSON) -> JSON:
    """The Responses request a chat request stands for (enough for the scripted plan)."""
    items: list[JSON] = []
    instructions = None
    for message in chat.get("messages") or []:
        role = message.get("role")
        if role == "system" and instructions is None and not items:
            instructions = message.get("content")
        elif role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id"),
                    "output": message.get("content"),
                }
            )
        elif role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                function = call.get("function") or {}
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call.get("id"),
                        "name": function.get("name"),
                        "arguments": function.get("arguments"),
                    }
                )
        else:
            content = message.get("content")
            if isinstance(content, list):
                content = [
                    {"type": "input_text", "text": part.get("text", "")}
                    for part in content
                    if part.get("type") == "text"
                ]
            items.append({"type": "message", "role": role, "content": content})
    body: JSON = {"model": chat.get("model"), "input": items, "stream": chat.get("stream")}
    if instructions is not None:
        body["instructions"] = instructions
    for key in ("temperature", "top_p", "tools", "tool_choice"):
        if key in chat:
            body[key] = chat[key]
    return body


def _parts(output: list[JSON]) -> tuple[str, str, list[JSON]]:
    text = "".join(
        part["text"] for item in output if item["type"] == "message" for part in item["content"]
    )
    reasoning = "".join(
        part["text"] for item in output if item["type"] == "reasoning" for part in item["content"]
    )
    calls = [item for item in output if item["type"] == "function_call"]
    return text, reasoning, calls


def _usage(usage: JSON) -> JSON:
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def _finish(model: str, calls: list[JSON]) -> str:
    return "length" if model == "fake-length" else "tool_calls" if calls else "stop"


def chat_completion(completed: JSON) -> JSON:
    text, reasoning, calls = _parts(completed["output"])
    message: JSON = {"role": "assistant", "content": text or None}
    if reasoning:
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = [
            {
                "id": call["call_id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in calls
        ]
    return {
        "id": "chatcmpl-" + completed["id"].removeprefix("resp_"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completed["model"],
        "choices": [
            {"index": 0, "message": message, "finish_reason": _finish(completed["model"], calls)}
        ],
        "usage": _usage(completed["usage"]),
    }


def chat_chunks(completed: JSON) -> list[JSON]:
    text, reasoning, calls = _parts(completed["output"])
    base = {
        "id": "chatcmpl-" + completed["id"].removeprefix("resp_"),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": completed["model"],
    }

    def chunk(delta: JSON, finish: str | None = None) -> JSON:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"reasoning_content": piece}) for piece in _pieces(reasoning)]
    chunks += [chunk({"content": piece}) for piece in _pieces(text)]
    for index, call in enumerate(calls):
        half = len(call["arguments"]) // 2
        head = {"index": index, "id": call["call_id"], "type": "function"}
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            **head,
                            "function": {
                                "name": call["name"],
                                "arguments": call["arguments"][:half],
                            },
                        }
                    ]
                }
            )
        )
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {"index": index, "function": {"arguments": call["arguments"][half:]}}
                    ]
                }
            )
        )
    chunks.append(chunk({}, _finish(completed["model"], calls)))
    chunks.append({**base, "choices": [], "usage": _usage(completed["usage"])})
    return chunks


def _pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)
