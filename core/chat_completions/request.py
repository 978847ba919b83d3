"""A stateless Responses request as a Chat Completions request, for backends that serve
only `/v1/chat/completions`.

The body given here is what the gateway would send a Responses backend: the chain and
conversation already expanded into `input`, server-side tools already function tools.
"""

from __future__ import annotations

from typing import Any

from core.common.errors import InvalidRequestError

__all__ = ["chat_request"]

# Sampling fields both APIs spell the same way.
_SAME = ("temperature", "top_p", "parallel_tool_calls", "user", "seed", "stop")


def chat_request(body: dict[str, Any], *, stream: bool | None = None) -> dict[str, Any]:
    streaming = bool(body.get("stream")) if stream is None else stream
    chat: dict[str, Any] = {"model": body.get("model"), "messages": messages(body)}
    for key in _SAME:
        if body.get(key) is not None:
            chat[key] = body[key]
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    if body.get("top_logprobs"):
        chat["logprobs"] = True
        chat["top_logprobs"] = body["top_logprobs"]
    tools = [_tool(tool) for tool in body.get("tools") or []]
    if tools:
        chat["tools"] = tools
        if body.get("tool_choice") is not None:
            chat["tool_choice"] = _tool_choice(body["tool_choice"])
    response_format = _response_format((body.get("text") or {}).get("format"))
    if response_format is not None:
        chat["response_format"] = response_format
    effort = (body.get("reasoning") or {}).get("effort")
    if effort is not None:
        chat["reasoning_effort"] = effort
    if streaming:
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return chat


def messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if body.get("instructions"):
        out.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "message":
            out.append(_message(item))
        elif kind == "function_call":
            call = {
                "id": item.get("call_id") or item.get("id"),
                "type": "function",
                "function": {"name": item["name"], "arguments": item.get("arguments") or ""},
            }
            last = out[-1] if out else None
            # Consecutive calls are one assistant turn, as Chat Completions models made them.
            if last is not None and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": output if isinstance(output, str) else _text_of(output),
                }
            )
        # Reasoning and other item kinds have no Chat Completions message: the model
        # made them, and a chat backend is not shown its own reasoning again.
    return out


def _message(item: dict[str, Any]) -> dict[str, Any]:
    role = item.get("role", "user")
    role = "system" if role == "developer" else role
    content = item.get("content")
    if isinstance(content, str) or content is None:
        return {"role": role, "content": content or ""}
    if role in ("assistant", "system"):
        # Chat Completions takes text only in these roles' content.
        return {"role": role, "content": _text_of(content)}
    parts = [_part(part) for part in content]
    if all(part["type"] == "text" for part in parts):
        # Text alone as a plain string: servers without multimodal support take only that.
        return {"role": role, "content": "".join(part["text"] for part in parts)}
    return {"role": role, "content": parts}


def _part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": part.get("text", "")}
    if kind == "input_image":
        url = part.get("image_url")
        if not url:
            raise InvalidRequestError(
                "This backend takes images by URL or data URL only.",
                param="input",
                code="unsupported_parameter",
            )
        image: dict[str, Any] = {"url": url}
        if part.get("detail"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        if part.get("file_data"):
            file: dict[str, Any] = {"file_data": part["file_data"]}
            if part.get("filename"):
                file["filename"] = part["filename"]
            return {"type": "file", "file": file}
        return {"type": "text", "text": part.get("text", "")}
    raise InvalidRequestError(
        f"Content of type {kind!r} cannot be sent to this backend.",
        param="input",
        code="unsupported_parameter",
    )


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    pieces = [part.get("text", "") for part in content or [] if isinstance(part, dict)]
    return "".join(pieces)


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise InvalidRequestError(
            f"Tools of type {tool.get('type')!r} cannot be sent to a Chat Completions backend.",
            param="tools",
            code="unsupported_parameter",
        )
    function: dict[str, Any] = {"name": tool["name"]}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            function[key] = tool[key]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _response_format(text_format: Any) -> dict[str, Any] | None:
    if not isinstance(text_format, dict):
        return None
    kind = text_format.get("type")
    if kind == "json_schema":
        schema = {
            key: text_format[key]
            for key in ("name", "schema", "description", "strict")
            if key in text_format
        }
        return {"type": "json_schema", "json_schema": schema}
    if kind == "json_object":
        return {"type": "json_object"}
    return None
