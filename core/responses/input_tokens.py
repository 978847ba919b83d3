"""`POST /v1/responses/input_tokens`: how many input tokens a would-be request has.

The gateway answers it for every request, stateful or not: a stateless backend cannot
see what `previous_response_id`, `conversation` or `prompt` add (only the gateway holds
them), vLLM has no such endpoint at all, and one way of counting keeps the answer
consistent with what `truncation: "auto"` measures. The body is validated as a create
request is (`model` may be left out, as the API allows); the count is that of the input
the backend would be sent: a prompt's instructions and messages, the conversation's or
chain's items, the new input, and the tool definitions as given (see `tokens` for how).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from core.common.http import Call, Reply
from core.common.validation import json_object
from core.prompts.resolve import resolve_prompt
from core.responses.create_flow import CreateResponseFlow
from core.responses.create_request import parse_create_request
from core.responses.replay import for_backend
from core.responses.tokens import TokenCounter
from core.responses.truncation import truncation_mode

if TYPE_CHECKING:
    from core.ports import Stores

__all__ = ["count_input_tokens"]


async def count_input_tokens(
    call: Call, stores: Stores, counter: TokenCounter, authorization: str | None
) -> Reply:
    body = json_object(call.body)
    model = body.get("model")
    # Validated as create validates; `model` only names the tokenizer here, and may be
    # left out (then no backend model is named and the count is the cl100k estimate).
    request = parse_create_request(orjson.dumps({**body, "model": model or ""}))
    truncation_mode(request.body)
    instructions = request.body.get("instructions")
    preamble: list[bytes] = []
    if request.body.get("prompt") is not None:
        prompt = await resolve_prompt(stores.prompts, call.tenant, request.body["prompt"])
        preamble = prompt.messages
        if prompt.instructions is not None:
            instructions = prompt.instructions
    flow = CreateResponseFlow(stores, call.tenant)
    context = await flow.context_for(request)
    joined = for_backend(b",".join(p for p in (*preamble, context, *request.input_items) if p))
    items = orjson.loads(b"[" + joined + b"]")
    count = await counter.count_tokens(
        items,
        model if isinstance(model, str) and model else "",
        instructions=instructions,
        tools=request.body.get("tools"),
        authorization=authorization,
    )
    return Reply(
        200, orjson.dumps({"object": "response.input_tokens", "input_tokens": count.tokens})
    )
