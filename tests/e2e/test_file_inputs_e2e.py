"""Files given as input by `file_id`, end to end: uploaded with the SDK, named in
`responses.create`, and resolved for the fake backend on every turn (chains and
conversations), while what is stored and listed keeps the client's `file_id` part."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from support.documents import docx_bytes, pdf_bytes, png_bytes
from support.fake_backend import BackendRecorder, BackendThread
from support.harness import Stack
from support.vector_fixtures import files_dir, private_stack, sdk_for

JSON = dict[str, Any]


@pytest.fixture(scope="module")
def inline_stack(backend: BackendThread) -> Iterator[Stack]:
    """A gateway that sends files inline (`file_data`), for backends that take files."""
    with private_stack(f"{backend.url}/v1", input_file_mode="inline") as stack:
        yield stack


def asking(*parts: JSON) -> Any:
    return [{"role": "user", "content": [{"type": "input_text", "text": "Read this."}, *parts]}]


def file_part(file_id: str) -> JSON:
    return {"type": "input_file", "file_id": file_id}


def sent_input(recorder: BackendRecorder) -> list[JSON]:
    """The input of the one backend call the test made since the recorder was cleared."""
    [request] = recorder.requests
    items: list[JSON] = request.body["input"]
    return items


def test_an_input_file_reaches_the_backend_as_text_and_is_listed_by_id(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    pdf = client.files.create(
        file=("report.pdf", pdf_bytes(["Revenue rose 7%."])), purpose="user_data"
    )
    response = client.responses.create(model="m", input=asking(file_part(pdf.id)))
    [message] = sent_input(recorder)
    assert message["content"][1] == {
        "type": "input_text",
        "text": "File: report.pdf\n\nRevenue rose 7%.",
    }
    listed = client.responses.input_items.list(response.id).data
    assert listed[0].model_dump(exclude_none=True)["content"] == [
        {"type": "input_text", "text": "Read this."},
        {"type": "input_file", "file_id": pdf.id},
    ]
    # A chain sends it again, resolved again, on the next turn.
    recorder.clear()
    follow = client.responses.create(model="m", input="And?", previous_response_id=response.id)
    sent = sent_input(recorder)
    assert sent[0]["content"][1]["text"] == "File: report.pdf\n\nRevenue rose 7%."
    assert [item["role"] for item in sent] == ["user", "assistant", "user"]
    assert follow.output_text == "reply to: And?"


def test_a_conversation_resolves_its_files_on_every_turn(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    word = client.files.create(
        file=("minutes.docx", docx_bytes(["Budget approved."])), purpose="user_data"
    )
    conversation = client.conversations.create()
    client.responses.create(
        model="m", input=asking(file_part(word.id)), conversation=conversation.id
    )
    recorder.clear()
    client.responses.create(model="m", input="Summarise.", conversation=conversation.id)
    sent = sent_input(recorder)
    assert sent[0]["content"][1] == {
        "type": "input_text",
        "text": "File: minutes.docx\n\nBudget approved.",
    }
    items = client.conversations.items.list(conversation.id, order="asc").data
    first = items[0].model_dump(exclude_none=True)
    assert first["content"][1] == {"type": "input_file", "file_id": word.id}


def test_an_input_image_by_id_is_sent_as_a_data_url_also_when_streamed(
    client: openai.OpenAI, recorder: BackendRecorder
) -> None:
    png = png_bytes()
    image = client.files.create(file=("dot.png", png), purpose="vision")
    part = {"type": "input_image", "file_id": image.id, "detail": "auto"}
    with client.responses.stream(model="m", input=asking(part)) as stream:
        final = stream.get_final_response()
    assert final.status == "completed"
    [message] = sent_input(recorder)
    assert message["content"][1] == {
        "type": "input_image",
        "detail": "auto",
        "image_url": "data:image/png;base64," + base64.b64encode(png).decode(),
    }


def test_another_tenants_file_is_a_404_that_never_reaches_the_backend(
    client: openai.OpenAI, stack: Stack, recorder: BackendRecorder
) -> None:
    with sdk_for(stack) as other:
        theirs = other.files.create(file=("secret.txt", b"their secret"), purpose="user_data")
    recorder.clear()
    with pytest.raises(openai.NotFoundError) as refused:
        client.responses.create(model="m", input=asking(file_part(theirs.id)))
    error = refused.value.body
    assert isinstance(error, dict)
    assert error["param"] == "input[0].content[1].file_id"
    assert error["message"] == f"No such File object: {theirs.id}"
    assert recorder.requests == []


def test_a_deleted_file_is_a_404_when_its_chain_continues(
    client: openai.OpenAI, http: httpx.Client, stack: Stack
) -> None:
    notes = client.files.create(file=("notes.html", b"<p>buy milk</p>"), purpose="user_data")
    first = client.responses.create(model="m", input=asking(file_part(notes.id)))
    # The extracted text is kept next to the file, and goes with it.
    [kept] = files_dir(stack).glob(f"*/{notes.id}.extracted-text")
    assert kept.read_bytes() == b"buy milk"
    client.files.delete(notes.id)
    assert not kept.exists()
    reply = http.post(
        "/responses", json={"model": "m", "input": "more", "previous_response_id": first.id}
    )
    assert reply.status_code == 404
    assert reply.json()["error"]["param"] == "previous_response_id"
    # The response itself is untouched: still listed with the file's id.
    listed = http.get(f"/responses/{first.id}/input_items").json()["data"]
    assert listed[0]["content"][1]["file_id"] == notes.id


def test_a_file_with_no_text_is_a_400(client: openai.OpenAI, recorder: BackendRecorder) -> None:
    binary = client.files.create(file=("blob.bin", b"\x00\x01binary"), purpose="user_data")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="m", input=asking(file_part(binary.id)))
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"]) == ("unsupported_file", "input[0].content[1].file_id")
    assert recorder.requests == []


def test_inline_mode_sends_the_file_itself(inline_stack: Stack, recorder: BackendRecorder) -> None:
    pdf = pdf_bytes(["inline"])
    with sdk_for(inline_stack) as sdk:
        uploaded = sdk.files.create(file=("doc.pdf", pdf), purpose="user_data")
        first = sdk.responses.create(model="m", input=asking(file_part(uploaded.id)))
        expected = {
            "type": "input_file",
            "filename": "doc.pdf",
            "file_data": "data:application/pdf;base64," + base64.b64encode(pdf).decode(),
        }
        assert sent_input(recorder)[0]["content"][1] == expected
        recorder.clear()
        sdk.responses.create(model="m", input="again", previous_response_id=first.id)
        assert sent_input(recorder)[0]["content"][1] == expected
        listed = sdk.responses.input_items.list(first.id).data[0]
        assert listed.model_dump(exclude_none=True)["content"][1] == file_part(uploaded.id)
