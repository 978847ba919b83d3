from __future__ import annotations

import openai
from support.fake_backend import BackendRecorder


def test_create_and_chain(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    first = client.responses.create(model="m", input="hello")
    assert first.output_text == "reply to: hello"
    recorder.clear()
    second = client.responses.create(model="m", input="again", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    [sent] = [r.body for r in recorder.requests]
    assert [item.get("role") for item in sent["input"]] == ["user", "assistant", "user"]
    assert sent["store"] is False and "previous_response_id" not in sent
