"""The Prompts API and `prompt` on responses, end to end through Envoy and the sidecar."""

from __future__ import annotations

import uuid
from typing import Any, cast

import httpx
import openai
import pytest
from support.fake_backend import BackendRecorder

JSON = dict[str, Any]
Http = httpx.Client
Sdk = openai.OpenAI
IMAGE = {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"}
VARIABLES: JSON = {"persona": "a pirate", "topic": {"type": "input_text", "text": "ships"}}


def marker() -> str:
    return uuid.uuid4().hex[:12]


def ok(reply: httpx.Response) -> JSON:
    assert reply.status_code == 200, reply.text
    return cast(JSON, reply.json())


def error(reply: httpx.Response, status: int, param: str | None, code: str | None = None) -> str:
    assert reply.status_code == status, reply.text
    found = reply.json()["error"]
    assert (found["type"], found["param"]) == ("invalid_request_error", param)
    assert code is None or found["code"] == code
    return str(found["message"])


def template(m: str, n: int = 1) -> JSON:
    look = [{"type": "input_text", "text": "Look:"}, {"type": "input_text", "text": "{{picture}}"}]
    developer = {"role": "developer", "content": f"Topic: {{{{topic}}}} {m}"}
    instructions = f"v{n} {m}: answer as {{{{ persona }}}}"
    return {"instructions": instructions, "input": [developer, {"role": "user", "content": look}]}


def new_prompt(http: httpx.Client, body: JSON) -> str:
    return str(ok(http.post("/prompts", json=body))["id"])


def numbers(prompt: JSON) -> tuple[str, str, str]:
    return prompt["version"], prompt["default_version"], prompt["latest_version"]


def sent(recorder: BackendRecorder) -> JSON:
    calls = [r for r in recorder.requests if r.path == "/v1/responses"]
    assert len(calls) == 1, [r.path for r in recorder.requests]
    return cast(JSON, calls[0].body)


def test_create_and_retrieve(http: Http) -> None:
    m = marker()
    created = ok(http.post("/prompts", json={**template(m), "name": m, "metadata": {"k": m}}))
    fields = {k: v for k, v in created.items() if k not in ("id", "input")}
    assert isinstance(fields.pop("created_at"), int)
    assert isinstance(fields.pop("version_created_at"), int)
    assert created["id"].startswith("pmpt_")
    assert fields == {
        "object": "prompt", "name": m, "version": "1", "default_version": "1",
        "latest_version": "1", "instructions": f"v1 {m}: answer as {{{{ persona }}}}",
        "variables": ["persona", "picture", "topic"], "metadata": {"k": m},
    }  # fmt: skip
    first, second = created["input"]
    assert first["id"].startswith("msg_") and second["id"].startswith("msg_")
    assert first == {
        "id": first["id"], "type": "message", "role": "developer", "status": "completed",
        "content": [{"type": "input_text", "text": f"Topic: {{{{topic}}}} {m}"}],
    }  # fmt: skip
    assert second["content"] == template(m)["input"][1]["content"]
    assert ok(http.get(f"/prompts/{created['id']}")) == created
    assert ok(http.get(f"/prompts/{created['id']}?version=1")) == created


def test_versions_are_immutable(http: Http) -> None:
    m = marker()
    v1 = ok(http.post("/prompts", json=template(m, 1)))
    pid = v1["id"]
    v2 = ok(http.post(f"/prompts/{pid}/versions", json={"instructions": f"only v2 {m}"}))
    assert (v2["id"], *numbers(v2)) == (pid, "2", "2", "2")
    assert (v2["instructions"], v2["input"], v2["variables"]) == (f"only v2 {m}", [], [])
    assert ok(http.get(f"/prompts/{pid}")) == v2
    old = ok(http.get(f"/prompts/{pid}", params={"version": "1"}))
    assert old == {**v1, "latest_version": "2", "default_version": "2"}
    error(http.get(f"/prompts/{pid}", params={"version": "3"}), 404, "version")
    v3 = ok(http.post(f"/prompts/{pid}/versions", json=template(m, 3)))
    assert v3["version"] == "3" and v3["input"][0]["id"] != v1["input"][0]["id"]


def test_set_default(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    pid = new_prompt(http, {"instructions": f"one {m}"})
    for n in ("two", "three"):
        ok(http.post(f"/prompts/{pid}/versions", json={"instructions": f"{n} {m}"}))
    pinned = ok(http.post(f"/prompts/{pid}", json={"default_version": "2"}))
    assert numbers(pinned) == ("2", "2", "3") and pinned["instructions"] == f"two {m}"
    assert ok(http.get(f"/prompts/{pid}")) == pinned
    ok(http.post(f"/prompts/{pid}/versions", json={"instructions": f"four {m}"}))
    assert numbers(ok(http.get(f"/prompts/{pid}"))) == ("2", "2", "4")
    recorder.clear()
    resp = client.responses.create(model="m", input=f"q {m}", prompt={"id": pid})
    assert sent(recorder)["instructions"] == f"two {m}" == resp.instructions
    assert resp.model_dump()["prompt"]["version"] == "2"
    resp = client.responses.create(model="m", input="q", prompt={"id": pid, "version": "3"})
    assert resp.instructions == f"three {m}" and resp.model_dump()["prompt"]["version"] == "3"
    for bad in ("9", "0", "abc", "", True, None):
        body = {"default_version": bad}
        error(http.post(f"/prompts/{pid}", json=body), 400, "default_version", "invalid_value")
    error(http.post(f"/prompts/{pid}", json={}), 400, "default_version")
    assert numbers(ok(http.post(f"/prompts/{pid}", json={"default_version": 4}))) == ("4",) * 3


def test_list_versions(http: Http) -> None:
    m = marker()
    pid = new_prompt(http, {"instructions": f"1 {m}"})
    for n in (2, 3):
        ok(http.post(f"/prompts/{pid}/versions", json={"instructions": f"{n} {m}"}))
    listing = ok(http.get(f"/prompts/{pid}/versions"))
    assert [(v["id"], v["version"], v["instructions"]) for v in listing["data"]] == [
        (pid, str(n), f"{n} {m}") for n in (3, 2, 1)
    ]
    summary = (listing["object"], listing["first_id"], listing["last_id"], listing["has_more"])
    assert summary == ("list", "3", "1", False)
    page = ok(http.get(f"/prompts/{pid}/versions", params={"order": "asc", "limit": 2}))
    assert [v["version"] for v in page["data"]] == ["1", "2"] and page["has_more"] is True
    params = {"order": "asc", "limit": 2, "after": page["last_id"]}
    rest = ok(http.get(f"/prompts/{pid}/versions", params=params))
    assert [v["version"] for v in rest["data"]] == ["3"] and rest["has_more"] is False


def test_list_prompts(stranger: Http) -> None:
    assert ok(stranger.get("/prompts"))["data"] == []
    ids = [new_prompt(stranger, {"instructions": f"p{i}"}) for i in range(3)]
    ok(stranger.post(f"/prompts/{ids[0]}/versions", json={"instructions": "p0 v2"}))
    listing = ok(stranger.get("/prompts"))
    expected = [(ids[2], "1", "p2"), (ids[1], "1", "p1"), (ids[0], "2", "p0 v2")]
    assert [(p["id"], p["version"], p["instructions"]) for p in listing["data"]] == expected
    assert {p["object"] for p in listing["data"]} == {"prompt"}
    page = ok(stranger.get("/prompts", params={"limit": 2}))
    assert [p["id"] for p in page["data"]] == [ids[2], ids[1]] and page["has_more"] is True
    assert (page["first_id"], page["last_id"]) == (ids[2], ids[1])
    rest = ok(stranger.get("/prompts", params={"limit": 2, "after": ids[1]}))
    assert [p["id"] for p in rest["data"]] == [ids[0]] and rest["has_more"] is False


def test_delete(http: Http, client: Sdk) -> None:
    pid = new_prompt(http, {"instructions": marker()})
    deleted = ok(http.delete(f"/prompts/{pid}"))
    assert deleted == {"id": pid, "object": "prompt.deleted", "deleted": True}
    error(http.get(f"/prompts/{pid}"), 404, "prompt_id")
    error(http.delete(f"/prompts/{pid}"), 404, "prompt_id")
    error(http.get(f"/prompts/{pid}/versions"), 404, "prompt_id")
    error(http.post(f"/prompts/{pid}/versions", json={"instructions": "x"}), 404, "prompt_id")
    assert pid not in {p["id"] for p in ok(http.get("/prompts", params={"limit": 100}))["data"]}
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="m", input="x", prompt={"id": pid})


INVALID = [
    ({}, "instructions", "missing_required_parameter"),
    ({"instructions": "", "input": []}, "instructions", "missing_required_parameter"),
    ({"instructions": 5}, "instructions", "invalid_type"),
    ({"input": "hello"}, "input", "invalid_type"),
    ({"input": [{"type": "function_call_output", "call_id": "c", "output": "o"}]}, "input[0]",
     "invalid_value"),
    ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role", "invalid_value"),
    ({"instructions": "x", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata",
     "object_above_max_properties"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "param", "code"), INVALID)
def test_invalid_prompt_bodies(http: Http, body: JSON, param: str, code: str) -> None:
    error(http.post("/prompts", json=body), 400, param, code)
    pid = new_prompt(http, {"instructions": marker()})
    error(http.post(f"/prompts/{pid}/versions", json=body), 400, param, code)
    assert ok(http.get(f"/prompts/{pid}"))["latest_version"] == "1"
    error(http.post("/prompts", json={"instructions": "x", "name": 5}), 400, "name", "invalid_type")


@pytest.mark.parametrize("raw", [b"{not json", b"[1]", b""])
def test_malformed_bodies(http: Http, raw: bytes) -> None:
    pid = new_prompt(http, {"instructions": marker()})
    for path in ("/prompts", f"/prompts/{pid}", f"/prompts/{pid}/versions"):
        error(http.post(path, content=raw, headers={"content-type": "application/json"}), 400, None)


@pytest.mark.parametrize("bad", ["0", "abc", "-1", "1.5", "", "²"])
def test_bad_version_strings(http: Http, client: Sdk, recorder: BackendRecorder, bad: str) -> None:
    pid = new_prompt(http, {"instructions": marker()})
    error(http.get(f"/prompts/{pid}", params={"version": bad}), 400, "version", "invalid_value")
    update = http.post(f"/prompts/{pid}", json={"default_version": bad})
    error(update, 400, "default_version", "invalid_value")
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="m", input="x", prompt={"id": pid, "version": bad})
    assert (raised.value.param, raised.value.code) == ("prompt.version", "invalid_value")
    assert recorder.requests == []


def test_response_renders_prompt(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    prompt = ok(http.post("/prompts", json=template(m)))
    variables = {**VARIABLES, "picture": IMAGE}
    recorder.clear()
    resp = client.responses.create(
        model="m", input=f"question {m}", prompt={"id": prompt["id"], "variables": variables}
    )
    body = sent(recorder)
    assert body["instructions"] == f"v1 {m}: answer as a pirate" == resp.instructions
    developer, pictured, question = body["input"]
    topic = [{"type": "input_text", "text": f"Topic: ships {m}"}]
    assert developer == {**prompt["input"][0], "content": topic}
    assert pictured == {**prompt["input"][1], "content": [prompt["input"][1]["content"][0], IMAGE]}
    assert question["role"] == "user" and question["content"][0]["text"] == f"question {m}"
    assert "prompt" not in body and resp.output_text == f"reply to: question {m}"
    echo = {"id": prompt["id"], "version": "1", "variables": variables}
    assert resp.model_dump(exclude_none=True)["prompt"] == echo
    assert client.responses.retrieve(resp.id).model_dump() == resp.model_dump()
    assert [i.id for i in client.responses.input_items.list(resp.id).data] == [question["id"]]


def test_response_with_version_and_without_input(
    http: Http, client: Sdk, recorder: BackendRecorder
) -> None:
    m = marker()
    pid = new_prompt(http, {"input": [{"role": "user", "content": f"v1 {m}"}]})
    ok(http.post(f"/prompts/{pid}/versions", json={"input": [{"role": "user", "content": "v2"}]}))
    recorder.clear()
    resp = client.responses.create(model="m", prompt={"id": pid, "version": "1"})
    assert [i["content"][0]["text"] for i in sent(recorder)["input"]] == [f"v1 {m}"]
    assert resp.output_text == f"reply to: v1 {m}"
    assert resp.prompt is not None and (resp.prompt.version, resp.prompt.variables) == ("1", {})
    assert client.responses.input_items.list(resp.id).data == []


PROMPT_ERRORS = [
    ({"variables": {"persona": "x"}}, 400, "prompt.variables", "missing_required_parameter"),
    ({"variables": {**VARIABLES, "picture": "p", "mood": "x"}}, 400, "prompt.variables",
     "unknown_parameter"),
    ({"variables": {**VARIABLES, "persona": IMAGE, "picture": "p"}}, 400,
     "prompt.variables.persona", "invalid_value"),
    ({"variables": {**VARIABLES, "picture": 7}}, 400, "prompt.variables.picture", "invalid_value"),
    ({"id": "pmpt_nope", "variables": VARIABLES}, 404, "prompt.id", None),
    ({"version": "2", "variables": {**VARIABLES, "picture": "p"}}, 404, "prompt.version", None),
]  # fmt: skip


@pytest.mark.parametrize(("prompt", "status", "param", "code"), PROMPT_ERRORS)
def test_response_prompt_errors(
    http: Http, recorder: BackendRecorder, prompt: JSON, status: int, param: str, code: str
) -> None:
    pid = new_prompt(http, template(marker()))
    recorder.clear()
    body = {"model": "m", "input": "x", "prompt": {"id": pid, **prompt}}
    message = error(http.post("/responses", json=body), status, param, code)
    if code in ("missing_required_parameter", "unknown_parameter"):
        assert message.endswith(": picture, topic." if code[0] == "m" else ": mood.")
    assert recorder.requests == []


def test_conflicting_instructions(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    pid = new_prompt(http, {"instructions": f"p {m}"})
    recorder.clear()
    with pytest.raises(openai.BadRequestError) as raised:
        client.responses.create(model="m", input="x", instructions="mine", prompt={"id": pid})
    assert (raised.value.param, raised.value.code) == ("instructions", "conflicting_parameters")
    assert recorder.requests == []
    pid = new_prompt(http, {"input": [{"role": "developer", "content": f"d {m}"}]})
    resp = client.responses.create(model="m", input="x", instructions="mine", prompt={"id": pid})
    assert sent(recorder)["instructions"] == "mine" == resp.instructions


def parts(body: JSON) -> list[str]:
    return [p.get("text", p["type"]) for item in body["input"] for p in item["content"]]


def test_prompt_with_previous_response(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    pid = new_prompt(http, template(m))
    prompt: Any = {"id": pid, "variables": {**VARIABLES, "picture": "no picture"}}
    first = client.responses.create(model="m", input=f"one {m}", prompt=prompt)
    recorder.clear()
    second = client.responses.create(
        model="m", input=f"two {m}", prompt=prompt, previous_response_id=first.id
    )
    assert parts(sent(recorder)) == [
        f"Topic: ships {m}", "Look:", "no picture", f"one {m}", f"reply to: one {m}", f"two {m}"
    ]  # fmt: skip
    assert second.previous_response_id == first.id and second.prompt is not None
    listed = client.responses.input_items.list(second.id).data
    assert [i.model_dump()["content"][0]["text"] for i in listed] == [f"two {m}"]


def test_prompt_with_conversation(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    pid = new_prompt(http, {"input": [{"role": "developer", "content": f"rules {{{{x}}}} {m}"}]})
    conversation = client.conversations.create()
    for turn in ("a", "b"):
        recorder.clear()
        prompt: Any = {"id": pid, "variables": {"x": turn}}
        client.responses.create(model="m", input=turn, prompt=prompt, conversation=conversation.id)
    assert parts(sent(recorder)) == [f"rules b {m}", "a", "reply to: a", "b"]
    items = client.conversations.items.list(conversation.id, order="asc").data
    texts = [i.model_dump()["content"][0]["text"] for i in items]
    assert texts == ["a", "reply to: a", "b", "reply to: b"]


def test_streaming_with_prompt(http: Http, client: Sdk, recorder: BackendRecorder) -> None:
    m = marker()
    pid = new_prompt(http, template(m))
    variables: Any = {**VARIABLES, "picture": IMAGE}
    recorder.clear()
    with client.responses.create(
        model="m", input=f"s {m}", prompt={"id": pid, "variables": variables}, stream=True
    ) as stream:
        events = list(stream)
    created, done = events[0], events[-1]
    assert created.type == "response.created" and done.type == "response.completed"
    echo = {"id": pid, "version": "1", "variables": variables}
    assert [e.response.model_dump(exclude_none=True)["prompt"] for e in (created, done)] == [
        echo,
        echo,
    ]
    body = sent(recorder)
    assert body["stream"] is True and body["instructions"] == f"v1 {m}: answer as a pirate"
    assert len(body["input"]) == 3 and body["input"][1]["content"][1] == IMAGE
    assert done.response.output_text == f"reply to: s {m}"
    assert client.responses.retrieve(done.response.id).model_dump() == done.response.model_dump()


def test_other_tenant_sees_nothing(http: Http, stranger: Http, recorder: BackendRecorder) -> None:
    pid = new_prompt(http, {"instructions": marker()})
    error(stranger.get(f"/prompts/{pid}"), 404, "prompt_id")
    error(stranger.get(f"/prompts/{pid}", params={"version": "1"}), 404, "prompt_id")
    error(stranger.post(f"/prompts/{pid}", json={"default_version": "1"}), 404, "prompt_id")
    error(stranger.post(f"/prompts/{pid}/versions", json={"instructions": "x"}), 404, "prompt_id")
    error(stranger.get(f"/prompts/{pid}/versions"), 404, "prompt_id")
    error(stranger.delete(f"/prompts/{pid}"), 404, "prompt_id")
    assert ok(stranger.get("/prompts"))["data"] == []
    recorder.clear()
    body = {"model": "m", "input": "x", "prompt": {"id": pid}}
    error(stranger.post("/responses", json=body), 404, "prompt.id")
    assert recorder.requests == []
    assert numbers(ok(http.get(f"/prompts/{pid}"))) == ("1", "1", "1")
