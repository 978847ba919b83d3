"""Bodies larger than Envoy's 1 MiB connection buffer through the buffered create path."""

from __future__ import annotations

import uuid

import openai
from support.fake_backend import BackendRecorder


def test_a_5_mib_input_and_answer_pass_both_ways(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    text = uuid.uuid4().hex + "x" * (5 << 20)
    response = client.responses.create(model="m", input=text)
    assert response.output_text == f"reply to: {text}"
    # Stored and replayed whole: the next turn sends the backend both big items.
    recorder.clear()
    follow = client.responses.create(model="m", input="and?", previous_response_id=response.id)
    [sent] = [r.body["input"] for r in recorder.requests]
    assert sent[0]["content"][0]["text"] == text
    assert sent[1]["content"][0]["text"] == f"reply to: {text}"
    assert follow.output_text == "reply to: and?"


def test_a_5_mib_input_streams(client: openai.OpenAI) -> None:
    text = uuid.uuid4().hex + "y" * (5 << 20)
    with client.responses.stream(model="m", input=text) as stream:
        final = stream.get_final_response()
    assert final.output_text == f"reply to: {text}"
    assert client.responses.retrieve(final.id).output_text == final.output_text
