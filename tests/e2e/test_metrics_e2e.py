"""Prometheus metrics: requests by operation (the route's name) and the status the client
got, and their durations, scraped from the sidecar's metrics port."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.harness import Stack, wait_until
from support.mcp_servers import McpServerProcess

from core.gateway import Gateway
from core.ports import Stores

# Every route's name, from the gateway's table (built without using its stores).
_NO_STORES = Stores(**dict.fromkeys(Stores.__dataclass_fields__))  # type: ignore[arg-type]
# ... and the name of a path under the gateway's prefixes that no route matches.
ROUTE_NAMES = {route.name for route in Gateway(_NO_STORES).routes.routes()} | {"invalid_url"}


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _scrape(stack: Stack) -> Samples:
    # The metrics port is not the gateway's API: read it plainly.
    url = f"http://127.0.0.1:{stack.settings['metrics_port']}/metrics"
    with urllib.request.urlopen(url, timeout=10) as scraped:
        text = scraped.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _requests(samples: Samples, op: str, code: str) -> float:
    key = ("openresponses_requests_total", frozenset({("operation", op), ("code", code)}))
    return samples.get(key, 0.0)


def _scrape_until(stack: Stack, before: Samples, wanted: Iterable[tuple[str, str]]) -> Samples:
    """A request is counted when its ext_proc stream ends, which may be just after the
    client has its answer: scrape until every wanted count has grown."""
    scraped: list[Samples] = []

    def grown() -> bool:
        scraped.append(_scrape(stack))
        return all(
            _requests(scraped[-1], op, code) > _requests(before, op, code) for op, code in wanted
        )

    wait_until(grown, 10, "the counts")
    return scraped[-1]


def test_requests_are_counted_by_operation_and_status(
    stack: Stack, client: openai.OpenAI, http: httpx.Client
) -> None:
    before = _scrape(stack)
    created = client.responses.create(model="m", input="Count me.")
    client.responses.retrieve(created.id)
    assert http.get("/responses/resp_nothing_here").status_code == 404
    assert http.get("/conversations/conv_nothing/items").status_code == 404
    expected = (
        ("create_response", "200"),
        ("get_response", "200"),
        ("get_response", "404"),
        ("list_conversation_items", "404"),
    )
    after = _scrape_until(stack, before, expected)
    for operation, code in expected:
        grown = _requests(after, operation, code) - _requests(before, operation, code)
        assert grown == 1, (operation, code)
    # Labels are route names only: no ids, tenants or paths.
    labelled = {
        dict(labels).get("operation") for name, labels in after if "operation" in dict(labels)
    }
    assert labelled <= ROUTE_NAMES
    count = (
        "openresponses_request_duration_seconds_count",
        frozenset({("operation", "create_response")}),
    )
    assert after[count] - before.get(count, 0.0) == 1


def test_a_backend_error_counts_with_its_status(stack: Stack, client: openai.OpenAI) -> None:
    before = _scrape(stack)
    with pytest.raises(openai.APIStatusError) as failed:
        client.responses.create(model="fail-503", input="x")
    assert failed.value.status_code == 503
    after = _scrape_until(stack, before, [("create_response", "503")])
    grown = _requests(after, "create_response", "503") - _requests(before, "create_response", "503")
    assert grown == 1, {k: v for k, v in after.items() if k[0] == "openresponses_requests_total"}


def _count(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_tool_calls_turns_and_first_bytes_are_measured(
    gateway: Stack, sdk: openai.OpenAI, servers: dict[str, McpServerProcess]
) -> None:
    before = _scrape(gateway)
    tool = {
        "type": "mcp",
        "server_label": "calc",
        "server_url": servers["healthy"].url,
        "require_approval": "never",
    }
    answer = sdk.responses.create(
        model="m",
        input='call calc__add {"a": 1, "b": 1}',
        tools=[tool],  # type: ignore[list-item]
    )
    assert answer.output_text == "tool said: 2"
    with sdk.responses.stream(model="m", input="Stream me.") as stream:
        assert stream.get_final_response().status == "completed"
    after = _scrape_until(gateway, before, [("create_response", "200")])
    tools = "openresponses_tool_call_seconds_count"
    assert (
        _count(after, tools, tool="mcp", outcome="ok")
        - _count(before, tools, tool="mcp", outcome="ok")
        == 1
    )
    turns = "openresponses_backend_turn_seconds_count"
    assert _count(after, turns, outcome="ok") - _count(before, turns, outcome="ok") == 1
    first = "openresponses_first_byte_seconds_count"
    assert _count(after, first) - _count(before, first) == 1


def test_the_ingestion_queue_depth_is_reported(stack: Stack) -> None:
    # The worker reports the queue's length at every poll; an idle queue reads 0.
    depth = ("openresponses_ingestion_queue_depth", frozenset())
    wait_until(lambda: _scrape(stack).get(depth) == 0.0, 10, "the queue depth")
