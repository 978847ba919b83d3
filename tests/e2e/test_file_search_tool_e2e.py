"""The server-side `file_search` tool (non-streaming) end to end: real Envoy, sidecar,
Redis and Qdrant local, driven with the official SDK against the scripted fake model.

The fake model answers a user text `call file_search <json>` with a function call and a
trailing `function_call_output` with `tool said: <output>`, so every turn of the loop is
observable both in what the client gets and in what the backend received."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
import redis
from support.fake_backend import BackendRecorder
from support.harness import Stack
from support.vector_fixtures import new_key, sdk_for, upload, wait_ingested, word

RESULT_KEYS = {"file_id", "filename", "score", "text", "attributes"}


@dataclass
class Corpus:
    client: openai.OpenAI
    store_id: str
    tag: str  # in every file
    words: dict[str, str]  # file name -> a term only that file holds
    ids: dict[str, str]  # file name -> file id
    texts: dict[str, str]

    def tool(self, **extra: Any) -> dict[str, Any]:
        return {"type": "file_search", "vector_store_ids": [self.store_id], **extra}

    def ask(self, *queries: str, **kwargs: Any) -> Any:
        text = "call file_search " + json.dumps({"queries": list(queries)})
        kwargs.setdefault("tools", [self.tool()])
        return self.client.responses.create(model="m", input=text, **kwargs)


@pytest.fixture
def tool_corpus(stack: Stack) -> Iterator[Corpus]:
    client = sdk_for(stack, new_key())
    tag = word()
    store = client.vector_stores.create(name="fs-tool")
    words, ids, texts = {}, {}, {}
    for name, team, body in (
        ("alpha.txt", "red", "crimson apples ripen slowly in autumn orchards"),
        ("beta.txt", "blue", "cobalt ocean waves crash against the rocky shore"),
    ):
        words[name] = word()
        texts[name] = f"{tag} {words[name]} {body}"
        f = upload(client, name, texts[name])
        client.vector_stores.files.create(
            vector_store_id=store.id, file_id=f.id, attributes={"team": team}
        )
        ids[name] = f.id
    for file_id in ids.values():
        assert wait_ingested(client, store.id, file_id).status == "completed"
    yield Corpus(client, store.id, tag, words, ids, texts)
    client.close()


def tool_said(response: Any) -> list[dict[str, Any]]:
    """The tool output the fake model echoed back in its final message."""
    text = response.output[-1].content[0].text
    assert text.startswith("tool said: "), text
    return json.loads(text.removeprefix("tool said: "))


def test_call_shows_file_search_call_and_answer(
    tool_corpus: Corpus, recorder: BackendRecorder
) -> None:
    query = f"{tool_corpus.words['alpha.txt']} apples"
    resp = tool_corpus.ask(query)
    assert resp.status == "completed"
    assert [item.type for item in resp.output] == ["file_search_call", "message"]
    call = resp.output[0]
    assert (call.queries, call.status, call.results) == ([query], "completed", None)
    raw = resp.model_dump()
    assert raw["output"][0]["results"] is None
    said = tool_said(resp)
    assert said[0]["file_id"] == tool_corpus.ids["alpha.txt"]
    assert said[0]["text"] == tool_corpus.texts["alpha.txt"]
    assert [t.model_dump(exclude_none=True) for t in resp.tools] == [
        {"type": "file_search", "vector_store_ids": [tool_corpus.store_id]}
    ]
    first, second = (r.body for r in recorder.requests)
    assert first["tools"] == [
        {**first["tools"][0], "type": "function", "name": "file_search"}
    ]  # fmt: skip
    assert all(t.get("type") != "file_search" for t in first["tools"] + second["tools"])
    fc, fco = second["input"][len(first["input"]) :]
    assert second["input"][: len(first["input"])] == first["input"]
    assert (fc["type"], fc["name"]) == ("function_call", "file_search")
    assert json.loads(fc["arguments"]) == {"queries": [query]}
    assert (fco["type"], fco["call_id"]) == ("function_call_output", fc["call_id"])
    assert json.loads(fco["output"]) == said
    # Usage sums both turns; the fake counts words of the last input text.
    first_text = first["input"][-1]["content"]
    first_text = first_text if isinstance(first_text, str) else first_text[-1]["text"]
    turns = len(first_text.split()) + len(fco["output"].split())
    assert resp.usage is not None
    assert resp.usage.input_tokens == turns
    assert resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens
    got = tool_corpus.client.responses.retrieve(resp.id)
    assert got.model_dump() == resp.model_dump()


def test_results_included_on_request(tool_corpus: Corpus) -> None:
    resp = tool_corpus.ask(tool_corpus.words["beta.txt"], include=["file_search_call.results"])
    assert [item.type for item in resp.output] == ["file_search_call", "message"]
    raw = resp.model_dump()["output"][0]
    results = raw["results"]
    assert isinstance(results, list) and results
    assert all(set(r) >= RESULT_KEYS for r in results)
    top = results[0]
    assert (top["file_id"], top["filename"]) == (tool_corpus.ids["beta.txt"], "beta.txt")
    assert (top["text"], top["attributes"]) == (tool_corpus.texts["beta.txt"], {"team": "blue"})
    assert isinstance(top["score"], float) and top["score"] > 0
    assert tool_corpus.client.responses.retrieve(resp.id).model_dump()["output"][0] == raw


def test_chained_turn_replays_function_call_pair(
    tool_corpus: Corpus, recorder: BackendRecorder
) -> None:
    first = tool_corpus.ask(tool_corpus.words["alpha.txt"])
    recorder.clear()
    follow = tool_corpus.client.responses.create(
        model="m", input=f"thanks {word()}", previous_response_id=first.id
    )
    assert follow.status == "completed"
    [sent] = [r.body for r in recorder.requests]
    kinds = [item.get("type") for item in sent["input"]]
    assert "file_search_call" not in kinds
    assert kinds.count("function_call") == 1 and kinds.count("function_call_output") == 1
    fc = sent["input"][kinds.index("function_call")]
    fco = sent["input"][kinds.index("function_call_output")]
    assert kinds.index("function_call") + 1 == kinds.index("function_call_output")
    assert (fc["name"], fco["call_id"]) == ("file_search", fc["call_id"])
    assert json.loads(fco["output"])[0]["file_id"] == tool_corpus.ids["alpha.txt"]


def test_max_tool_calls_zero_is_incomplete(tool_corpus: Corpus, recorder: BackendRecorder) -> None:
    resp = tool_corpus.ask(tool_corpus.words["alpha.txt"], max_tool_calls=0)
    assert resp.status == "incomplete"
    assert resp.incomplete_details is not None
    assert resp.incomplete_details.reason is None  # no documented reason fits
    assert all(item.type != "function_call" for item in resp.output)
    assert len(recorder.requests) == 1


def test_filters_and_max_num_results(tool_corpus: Corpus) -> None:
    include = ["file_search_call.results"]
    every = tool_corpus.ask(tool_corpus.tag, include=include).output[0].results
    assert {r.file_id for r in every} == set(tool_corpus.ids.values())
    red = {"type": "eq", "key": "team", "value": "red"}
    only = tool_corpus.ask(tool_corpus.tag, include=include, tools=[tool_corpus.tool(filters=red)])
    assert [r.file_id for r in only.output[0].results] == [tool_corpus.ids["alpha.txt"]]
    assert [r["file_id"] for r in tool_said(only)] == [tool_corpus.ids["alpha.txt"]]
    one = tool_corpus.ask(
        tool_corpus.tag, include=include, tools=[tool_corpus.tool(max_num_results=1)]
    )
    assert len(one.output[0].results) == 1
    assert len(tool_said(one)) == 1


@pytest.mark.parametrize(
    ("tool", "status", "param", "code"),
    [
        ({"max_num_results": 0}, 400, "tools[0].max_num_results", "integer_below_min_value"),
        ({"max_num_results": 51}, 400, "tools[0].max_num_results", "integer_above_max_value"),
        ({"vector_store_ids": ["vs_missing"]}, 404, "tools[0].vector_store_ids", None),
    ],
)
def test_invalid_tool_rejected_before_backend(
    tool_corpus: Corpus,
    recorder: BackendRecorder,
    tool: dict[str, Any],
    status: int,
    param: str,
    code: str | None,
) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        tool_corpus.ask("anything", tools=[tool_corpus.tool(**tool)])
    assert caught.value.status_code == status
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    assert recorder.requests == []


def test_other_tenants_store_is_not_found(
    stack: Stack, tool_corpus: Corpus, recorder: BackendRecorder
) -> None:
    with sdk_for(stack, new_key()) as stranger, pytest.raises(openai.NotFoundError) as caught:
        stranger.responses.create(model="m", input="hi", tools=[tool_corpus.tool()])
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "tools[0].vector_store_ids"
    assert tool_corpus.store_id in caught.value.body["message"]
    assert recorder.requests == []


def test_loopback_mcp_refused(tool_corpus: Corpus, recorder: BackendRecorder) -> None:
    mcp = {"type": "mcp", "server_label": "x", "server_url": "http://127.0.0.1:9/mcp"}
    with pytest.raises(openai.BadRequestError) as caught:
        tool_corpus.client.responses.create(model="m", input="hi", tools=[mcp])
    assert isinstance(caught.value.body, dict)
    # Loopback is not allow-listed for this gateway: refused before anything is called.
    assert caught.value.body["param"] == "tools[0].server_url"
    assert "loopback" in caught.value.body["message"]
    assert recorder.requests == []


def test_backend_failing_on_the_follow_up_turn_is_relayed_and_stores_nothing(
    tool_corpus: Corpus, recorder: BackendRecorder, redis_sync: redis.Redis
) -> None:
    before = set(redis_sync.keys("or:*r:*"))
    text = "call file_search " + json.dumps({"queries": [tool_corpus.words["beta.txt"]]})
    with pytest.raises(openai.APIStatusError) as failure:
        tool_corpus.client.responses.create(
            model="fail-after-tool", input=text, tools=[tool_corpus.tool()]
        )
    assert failure.value.status_code == 503
    assert failure.value.body == {
        "message": "overloaded after the tool",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    # The first turn called the tool; the second, carrying its output, failed.
    assert [r.body["input"][-1]["type"] for r in recorder.requests] == [
        "message",
        "function_call_output",
    ]
    assert set(redis_sync.keys("or:*r:*")) == before


def test_answer_cites_the_files_it_names(tool_corpus: Corpus) -> None:
    # The fake model's answer repeats the tool output, naming the files found: each
    # named file gets a citation at the place it is named, and no other file does.
    query = f"{tool_corpus.words['alpha.txt']} apples"
    resp = tool_corpus.ask(
        query, tools=[tool_corpus.tool(filters={"type": "eq", "key": "team", "value": "red"})]
    )
    part = resp.output[-1].content[0]
    citations = [a for a in part.annotations if a.type == "file_citation"]
    assert [(c.file_id, c.filename) for c in citations] == [
        (tool_corpus.ids["alpha.txt"], "alpha.txt")
    ]
    assert part.text[citations[0].index :].startswith(tool_corpus.ids["alpha.txt"])


def test_conversation_keeps_results_for_later_turns(
    tool_corpus: Corpus, recorder: BackendRecorder
) -> None:
    conversation = tool_corpus.client.conversations.create()
    first = tool_corpus.ask(tool_corpus.words["alpha.txt"], conversation=conversation.id)
    assert first.output[0].results is None  # not asked for
    items = tool_corpus.client.conversations.items.list(conversation.id, order="asc").data
    call = next(item for item in items if item.type == "file_search_call")
    assert call.results is None  # hidden from the client...
    included = tool_corpus.client.conversations.items.list(
        conversation.id, include=["file_search_call.results"]
    ).data
    shown = next(item for item in included if item.type == "file_search_call")
    assert shown.results and shown.results[0].file_id == tool_corpus.ids["alpha.txt"]
    one = tool_corpus.client.conversations.items.retrieve(call.id, conversation_id=conversation.id)
    assert one.type == "file_search_call" and one.results is None
    recorder.clear()
    tool_corpus.client.responses.create(model="m", input="and now?", conversation=conversation.id)
    replayed = recorder.requests[0].body["input"]
    # ...while the next turn's model gets the search as a call with its results.
    fc = next(i for i in replayed if i.get("type") == "function_call")
    fco = next(i for i in replayed if i.get("type") == "function_call_output")
    assert (fc["name"], fc["call_id"], fco["call_id"]) == ("file_search", call.id, call.id)
    assert json.loads(fco["output"])[0]["file_id"] == tool_corpus.ids["alpha.txt"]
    assert all(not str(i.get("type", "")).startswith("file_search") for i in replayed)
