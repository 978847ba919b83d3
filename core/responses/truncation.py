"""`truncation: "auto"`: which of the oldest items to drop so a request fits its window.

Only the replayed context (a chain's or a conversation's items) is ever dropped, oldest
first: the new input, the instructions and a prompt's messages always stay. Items are
dropped whole, and never so that a kept item loses what it belongs with: a tool call and
its output (same `call_id`) stay together, and a reasoning item stays with the item it
precedes. Nothing here does I/O: sizes come in, a cut point comes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.common.errors import InvalidRequestError

__all__ = [
    "TRUNCATION_MODES",
    "budget",
    "choose_cut",
    "context_length_exceeded",
    "cut_points",
    "output_reserve",
    "truncation_mode",
]

TRUNCATION_MODES = ("auto", "disabled")
# Room kept for the answer when the request sets no `max_output_tokens`: a trimmed
# context that leaves the model nothing to say with would "fit" but be useless.
_RESERVE_SHARE = 8
_RESERVE_CAP = 1024


def truncation_mode(body: dict[str, Any]) -> str:
    """The request's `truncation`, validated; "disabled" when absent."""
    value = body.get("truncation")
    if value is None:
        return "disabled"
    if value not in TRUNCATION_MODES:
        shown = value if isinstance(value, str) else repr(value)
        raise InvalidRequestError(
            f"Invalid value: '{shown}'. Supported values are: 'auto' and 'disabled'.",
            param="truncation",
            code="invalid_value",
        )
    return str(value)


def context_length_exceeded(message: str | None = None) -> InvalidRequestError:
    return InvalidRequestError(
        message
        or "Your input exceeds the context window of this model. Please adjust your input "
        "and try again.",
        param="input",
        code="context_length_exceeded",
    )


def output_reserve(window: int, max_output_tokens: Any) -> int:
    """Tokens kept free for the answer: `max_output_tokens`, else a share of the window."""
    if isinstance(max_output_tokens, int) and not isinstance(max_output_tokens, bool):
        return max(max_output_tokens, 0)
    return min(window // _RESERVE_SHARE, _RESERVE_CAP)


def budget(window: int, reserve: int, margin: float) -> int:
    """The input tokens a request may have: the window less the answer's room and a
    safety margin (a share of the window) for counts that are estimates."""
    return window - reserve - int(window * margin)


def _is_output(item: Any) -> bool:
    return str(item.get("type", "")).endswith("_output")


def cut_points(context: Sequence[Any], later: Sequence[Any] = ()) -> list[int]:
    """Where the kept context may start (ascending): 0 keeps everything, len(context)
    drops it all. `later` are the items sent after the context (the new input); a call
    whose output is among them pins the call, and everything after it, in the context."""
    items = [*context, *later]
    blocked = [False] * (len(context) + 1)
    calls: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        call_id = item.get("call_id")
        if isinstance(call_id, str) and call_id:
            if not _is_output(item):
                calls.setdefault(call_id, index)
            elif call_id in calls:  # no cut between a call and its output
                for cut in range(calls[call_id] + 1, min(index, len(context)) + 1):
                    blocked[cut] = True
        if item.get("type") == "reasoning" and index + 1 < len(context):
            blocked[index + 1] = True  # it stays with what it precedes
    return [cut for cut in range(len(context) + 1) if not blocked[cut]]


def choose_cut(sizes: Sequence[float], fixed: float, limit: float, cuts: Sequence[int]) -> int:
    """The first cut (fewest items dropped) after which the kept context (`sizes` per
    context item) plus what is always sent (`fixed`) is within `limit`."""
    suffix = [0.0] * (len(sizes) + 1)
    for index in range(len(sizes) - 1, -1, -1):
        suffix[index] = suffix[index + 1] + sizes[index]
    for cut in cuts:
        if fixed + suffix[cut] <= limit:
            return cut
    raise context_length_exceeded()
