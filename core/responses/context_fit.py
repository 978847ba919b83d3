"""Fitting one request into its model's window (`truncation: "auto"`).

Before sending, when the model's window is known (learned earlier, listed by the
backend, or told by its tokenizer), the request is counted and, if it does not fit, its
oldest context items are dropped (see `truncation` for which). When the window is not
known yet the request goes as it is; if the backend rejects it as too long, its answer
gives the window (and the request's size), and the request is sent again, trimmed, once.

Sizes per item are cl100k estimates scaled to the best whole-request count at hand (the
backend's tokenizer, or the backend's own count from its error), so one count per
request is enough to choose what to drop. Only what the backend is sent is trimmed: the
stored chain or conversation keeps every item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from core.responses.context_windows import ContextWindows, Overflow
from core.responses.create_request import CreateRequest, backend_body
from core.responses.replay import for_backend
from core.responses.tokens import (
    ESTIMATE_MARGIN,
    TokenCounter,
    estimate_request,
    estimate_tokens,
)
from core.responses.truncation import budget, choose_cut, cut_points, output_reserve

if TYPE_CHECKING:
    from core.responses.backend_client import BackendClient

__all__ = ["ContextFit", "ContextLimits"]


@dataclass(frozen=True, slots=True)
class ContextLimits:
    """What the sidecar knows of its backend's models, shared by every request."""

    windows: ContextWindows
    counter: TokenCounter

    @classmethod
    def of(cls, backend: BackendClient | None) -> ContextLimits:
        return cls(ContextWindows(backend), TokenCounter(backend))


def _decoded(joined: bytes) -> list[Any]:
    translated = for_backend(joined)
    return list(orjson.loads(b"[" + translated + b"]")) if translated else []


class ContextFit:
    def __init__(
        self,
        limits: ContextLimits,
        request: CreateRequest,
        context: bytes,
        preamble: list[bytes],
        instructions: str | None,
        authorization: str | None,
        inputs: list[bytes] | None = None,
    ) -> None:
        self._limits = limits
        self._inputs = inputs  # the new input as the backend gets it (files resolved)
        self._request = request
        self._preamble_raw = preamble
        self._instructions_override = instructions
        self._authorization = authorization
        body = request.body
        self.model = str(body.get("model"))
        self._instructions = instructions if instructions is not None else body.get("instructions")
        self._tools = body.get("tools")
        self._max_output = body.get("max_output_tokens")
        self._context = _decoded(context)
        self._preamble = _decoded(b",".join(preamble))
        self._input = _decoded(b",".join(request.input_items if inputs is None else inputs))
        self._sizes = [estimate_tokens(item) for item in self._context]
        self._fixed = estimate_request(
            [*self._preamble, *self._input], self._instructions, self._tools
        )
        self._cuts = cut_points(self._context, self._input)
        self.cut = 0  # the context sent starts at this item
        self.window_known = False  # whether the first body could be fitted
        self.retried = False

    def _body(self) -> bytes:
        kept = b",".join(orjson.dumps(item) for item in self._context[self.cut :])
        return backend_body(
            self._request,
            kept,
            self._preamble_raw,
            self._instructions_override,
            inputs=self._inputs,
        )

    async def first_body(self) -> bytes:
        """The body to send first: trimmed when the window is known and it would not fit."""
        limits = self._limits
        window = await limits.windows.lookup(self.model, self._authorization)
        items = [*self._preamble, *self._context, *self._input]
        count = await limits.counter.count_tokens(
            items,
            self.model,
            instructions=self._instructions,
            tools=self._tools,
            authorization=self._authorization,
        )
        limits.windows.learn(self.model, count.window)
        window = window or count.window
        if window is None:
            return self._body()  # learnt from the backend's answer if it overflows
        self.window_known = True
        self._trim(window, count.tokens, count.exact)
        return self._body()

    def learn(self, overflow: Overflow) -> None:
        """Remember the window a backend's overflow error gave, for later requests."""
        self._limits.windows.learn(self.model, overflow.window)

    def retry_body(self, overflow: Overflow) -> bytes | None:
        """After the backend rejected the request as too long: the body to send again
        (once), trimmed to the window its answer gave; None when no retry is left."""
        self.learn(overflow)
        if self.retried:
            return None
        self.retried = True
        sent = self._fixed + sum(self._sizes[self.cut :])
        # The backend's own count is exact; without it, the estimate has its margin.
        if overflow.tokens is not None:
            self._trim(overflow.window, overflow.tokens, True, force=True)
        else:
            self._trim(overflow.window, sent, False, force=True)
        return self._body()

    def _trim(self, window: int, total: int, exact: bool, *, force: bool = False) -> None:
        """Move the cut so the kept context fits; `total` counts what the current cut
        sends. Raises context_length_exceeded when even the fewest items do not fit."""
        margin = 0.0 if exact else ESTIMATE_MARGIN
        limit = budget(window, output_reserve(window, self._max_output), margin)
        if total <= limit and not force:
            return
        estimate = self._fixed + sum(self._sizes[self.cut :])
        ratio = total / estimate if estimate > 0 else 1.0
        sizes = [size * ratio for size in self._sizes]
        cuts = [cut for cut in self._cuts if cut > self.cut] if force else self._cuts
        self.cut = choose_cut(sizes, self._fixed * ratio, limit, cuts)
