"""Truncation rules, reading a backend's overflow, and fitting a request to a window."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.common.errors import InvalidRequestError
from core.responses.backend_errors import backend_error
from core.responses.context_fit import ContextFit, ContextLimits
from core.responses.context_windows import Overflow, overflow_in, parse_overflow
from core.responses.create_request import parse_create_request
from core.responses.tokens import ITEM_OVERHEAD, TokenCounter, estimate_tokens, item_text
from core.responses.truncation import (
    budget,
    choose_cut,
    cut_points,
    output_reserve,
    truncation_mode,
)

JSON = dict[str, Any]


def msg(text: str, role: str = "user") -> JSON:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def call(call_id: str) -> JSON:
    return {"type": "function_call", "call_id": call_id, "name": "f", "arguments": "{}"}


def output(call_id: str) -> JSON:
    return {"type": "function_call_output", "call_id": call_id, "output": "ok"}


REASONING: JSON = {"type": "reasoning", "summary": [], "content": []}


# -- cut points ---------------------------------------------------------------


def test_plain_messages_may_be_cut_anywhere() -> None:
    assert cut_points([msg("a"), msg("b"), msg("c")], [msg("new")]) == [0, 1, 2, 3]


def test_a_call_and_its_output_stay_together() -> None:
    context = [msg("a"), call("c1"), output("c1"), msg("b")]
    assert cut_points(context, [msg("new")]) == [0, 1, 3, 4]


def test_parallel_calls_are_one_unit() -> None:
    context = [call("c1"), call("c2"), output("c1"), output("c2"), msg("b")]
    assert cut_points(context) == [0, 4, 5]


def test_a_call_answered_by_the_new_input_pins_the_rest_of_the_context() -> None:
    context = [msg("a"), msg("b"), call("c1")]
    assert cut_points(context, [output("c1")]) == [0, 1, 2]


def test_reasoning_stays_with_the_item_it_precedes() -> None:
    context = [msg("a"), REASONING, call("c1"), output("c1"), msg("b")]
    assert cut_points(context, [msg("new")]) == [0, 1, 4, 5]


# -- choosing a cut -----------------------------------------------------------


def test_the_fewest_items_are_dropped() -> None:
    assert choose_cut([10, 10, 10], fixed=5, limit=30, cuts=[0, 1, 2, 3]) == 1
    assert choose_cut([10, 10, 10], fixed=5, limit=35, cuts=[0, 1, 2, 3]) == 0


def test_only_allowed_cuts_are_taken() -> None:
    assert choose_cut([10, 10, 10], fixed=5, limit=30, cuts=[0, 2, 3]) == 2


def test_nothing_fits_is_context_length_exceeded() -> None:
    with pytest.raises(InvalidRequestError) as raised:
        choose_cut([10], fixed=50, limit=30, cuts=[0, 1])
    error = raised.value
    assert (error.status, error.param, error.code) == (400, "input", "context_length_exceeded")
    assert orjson.loads(error.body())["error"]["type"] == "invalid_request_error"


def test_reserve_and_budget() -> None:
    assert output_reserve(1000, 300) == 300
    assert output_reserve(1000, None) == 125  # an eighth when the request sets none
    assert output_reserve(100_000, None) == 1024  # capped
    assert budget(1000, 100, 0.1) == 800


def test_truncation_is_validated() -> None:
    assert truncation_mode({}) == "disabled"
    assert truncation_mode({"truncation": "auto"}) == "auto"
    with pytest.raises(InvalidRequestError) as raised:
        truncation_mode({"truncation": "sometimes"})
    assert (raised.value.param, raised.value.code) == ("truncation", "invalid_value")


# -- the backend's overflow ---------------------------------------------------

VLLM = (
    "This model's maximum context length is 4096 tokens. However, your request has 5000 "
    "input tokens. Please reduce the length of the input messages."
)


@pytest.mark.parametrize(
    ("message", "overflow"),
    [
        (VLLM, Overflow(4096, 5000)),
        (
            "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum "
            "context length is 4096 tokens and your request has 2778 input tokens "
            "(8000 > 4096 - 2778).",
            Overflow(4096, 2778),
        ),
        (
            "This model's maximum context length is 2048 tokens. However, you requested 2100 "
            "tokens (2000 in the messages, 100 in the completion).",
            Overflow(2048, 2000),
        ),
        ("This model's maximum context length is 8192 tokens.", Overflow(8192, None)),
        ("The model `x` does not exist.", None),
    ],
)
def test_parse_overflow(message: str, overflow: Overflow | None) -> None:
    assert parse_overflow(message) == overflow


def test_overflow_in_reads_vllm_and_openai_shapes() -> None:
    vllm = {"object": "error", "message": VLLM, "type": "BadRequestError", "code": 400}
    assert overflow_in(400, orjson.dumps(vllm)) == Overflow(4096, 5000)
    assert overflow_in(400, orjson.dumps({"error": {"message": VLLM}})) == Overflow(4096, 5000)
    assert overflow_in(500, orjson.dumps(vllm)) is None


def test_an_overflow_is_context_length_exceeded_in_the_openai_shape() -> None:
    vllm = {"object": "error", "message": VLLM, "type": "BadRequestError", "code": 400}
    error = orjson.loads(backend_error(400, orjson.dumps(vllm)).body())["error"]
    assert error == {
        "message": VLLM,
        "type": "invalid_request_error",
        "param": "input",
        "code": "context_length_exceeded",
    }


# -- counting -----------------------------------------------------------------


def test_item_text_is_what_the_model_reads() -> None:
    assert item_text(msg("hello there")) == "hello there"
    assert item_text(call("c")) == "f {}"
    assert item_text(output("c")) == "ok"
    assert estimate_tokens(msg("hello world")) == 2 + ITEM_OVERHEAD


async def test_without_a_backend_the_count_is_the_cl100k_estimate() -> None:
    counted = await TokenCounter(None).count_tokens(
        [msg("hello world")], "m", instructions="be brief"
    )
    assert counted.exact is False and counted.window is None
    # The instructions, a newline and the message: 5 cl100k tokens.
    assert counted.tokens == 5 + 2 * ITEM_OVERHEAD


# -- fitting a request --------------------------------------------------------


def _fit(context: list[JSON], new: JSON, limits: ContextLimits, **fields: Any) -> ContextFit:
    body = {"model": "m", "input": [new], "instructions": "keep me", **fields}
    request = parse_create_request(orjson.dumps(body))
    joined = b",".join(orjson.dumps(item) for item in context)
    return ContextFit(limits, request, joined, [], None, None)


def _sent(body: bytes) -> list[str]:
    return [item_text(item) for item in orjson.loads(body)["input"]]


async def test_a_known_window_trims_the_oldest_and_keeps_input_and_instructions() -> None:
    limits = ContextLimits.of(None)
    limits.windows.learn("m", 120)  # 120 - 15 reserved - 12 margin: 93 to fill
    turn = " ".join(["apple"] * 40)
    context = [msg(turn), msg(turn, "assistant"), call("c1"), output("c1"), msg(turn)]
    fit = _fit(context, msg("the question"), limits)
    body = await fit.first_body()
    assert _sent(body) == ["f {}", "ok", turn, "the question"]
    assert orjson.loads(body)["instructions"] == "keep me"
    assert fit.window_known and not fit.retried


async def test_an_unknown_window_sends_everything_then_retries_once() -> None:
    limits = ContextLimits.of(None)
    turn = " ".join(["apple"] * 40)
    fit = _fit([msg(turn), msg(turn), msg(turn)], msg("q"), limits)
    assert len(_sent(await fit.first_body())) == 4 and not fit.window_known
    retry = fit.retry_body(Overflow(100, 130))
    assert retry is not None and _sent(retry) == [turn, "q"]
    assert limits.windows.get("m") == 100  # remembered for the next requests
    assert fit.retry_body(Overflow(100, 90)) is None  # only once


async def test_max_output_tokens_is_kept_free() -> None:
    limits = ContextLimits.of(None)
    limits.windows.learn("m", 200)
    turn = " ".join(["apple"] * 40)
    fit = _fit([msg(turn), msg(turn)], msg("q"), limits, max_output_tokens=140)
    assert _sent(await fit.first_body()) == ["q"]


async def test_nothing_to_drop_refuses_before_sending() -> None:
    limits = ContextLimits.of(None)
    limits.windows.learn("m", 50)
    fit = _fit([msg("a")], msg(" ".join(["apple"] * 60)), limits)
    with pytest.raises(InvalidRequestError) as raised:
        await fit.first_body()
    assert raised.value.code == "context_length_exceeded"


class _Backend:
    """Answers the gateway's own lookups as a vLLM server would, and counts them."""

    def __init__(self, tokenize_status: int = 200) -> None:
        self.calls: list[str] = []
        self._tokenize_status = tokenize_status

    async def lookup(
        self, method: str, path: str, body: JSON | None, authorization: str | None
    ) -> tuple[int, Any]:
        self.calls.append(path)
        if path == "/models":
            return 200, {"data": [{"id": "listed", "max_model_len": 4096}, {"id": "bare"}]}
        assert body is not None
        if self._tokenize_status != 200:
            return self._tokenize_status, {"message": "no such model"}
        return 200, {"count": len(body["prompt"].split()), "max_model_len": 64}


async def test_windows_come_from_the_model_listing_once() -> None:
    backend = _Backend()
    limits = ContextLimits.of(backend)  # type: ignore[arg-type]
    assert await limits.windows.lookup("listed", None) == 4096
    assert await limits.windows.lookup("listed", None) == 4096
    assert await limits.windows.lookup("bare", None) is None  # listed without a window
    assert await limits.windows.lookup("bare", None) is None  # not asked again at once
    assert backend.calls == ["/models", "/models"]


async def test_the_backends_tokenizer_counts_and_tells_the_window() -> None:
    counter = TokenCounter(_Backend())  # type: ignore[arg-type]
    counted = await counter.count_tokens([msg("a b c")], "m", instructions="x y")
    assert (counted.tokens, counted.exact, counted.window) == (5 + 2 * ITEM_OVERHEAD, True, 64)


async def test_a_backend_without_a_tokenizer_is_not_asked_every_time() -> None:
    backend = _Backend(tokenize_status=404)
    counter = TokenCounter(backend)  # type: ignore[arg-type]
    for _ in range(3):
        counted = await counter.count_tokens([msg("hello world")], "m")
        assert counted.exact is False and counted.tokens == 2 + ITEM_OVERHEAD
    assert backend.calls == ["/tokenize"]
