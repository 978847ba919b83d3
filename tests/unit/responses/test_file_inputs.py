"""Files given as input by `file_id`: what the backend is sent for them (text, PDF, DOCX,
images, inline data), what is stored (the client's form), and the refusals (another
tenant's or an unknown id, files too large, files with no text). On the in-memory
stores; the test plays the backend."""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
import pytest
from support.api_calls import call
from support.documents import docx_bytes, pdf_bytes, png_bytes
from support.memory import memory_stores

from core.common.errors import InvalidRequestError, NotFoundError
from core.ports import Stores
from core.prompts.api import PromptsApi
from core.responses.create_flow import CreateResponseFlow
from core.responses.file_contents import forget_texts, text_blob_id
from core.responses.file_inputs import FileInputs, FileInputSettings

JSON = dict[str, Any]
INLINE = FileInputSettings(mode="inline")


@pytest.fixture
def stores_with_files() -> Stores:
    return memory_stores()


async def upload(stores: Stores, tenant: str, filename: str, data: bytes) -> str:
    file_id = "file-" + os.urandom(12).hex()
    await stores.files.create(
        tenant,
        {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": 0,
            "filename": filename,
            "purpose": "user_data",
        },
    )
    writer = stores.blobs.writer(tenant, file_id)
    await writer.write(data)
    await writer.commit()
    return file_id


def asking(*parts: JSON) -> list[JSON]:
    return [{"role": "user", "content": [{"type": "input_text", "text": "Read this."}, *parts]}]


def file_part(file_id: str) -> JSON:
    return {"type": "input_file", "file_id": file_id}


def answer() -> bytes:
    message = {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "read", "annotations": []}],
    }
    return orjson.dumps(
        {"id": "resp_b", "object": "response", "status": "completed", "output": [message]}
    )


async def turn(
    stores: Stores, tenant: str, settings: FileInputSettings | None = None, **body: Any
) -> tuple[JSON, JSON]:
    """(what the backend was sent, the client's response)"""
    flow = CreateResponseFlow(stores, tenant, file_inputs=settings)
    sent = orjson.loads(await flow.prepare(orjson.dumps({"model": "m", **body})))
    response = orjson.loads(await flow.finish_json(answer()))
    return sent, response


async def refusal(
    stores: Stores, tenant: str, settings: FileInputSettings | None = None, **body: Any
) -> InvalidRequestError | NotFoundError:
    flow = CreateResponseFlow(stores, tenant, file_inputs=settings)
    with pytest.raises((InvalidRequestError, NotFoundError)) as refused:
        await flow.prepare(orjson.dumps({"model": "m", **body}))
    error = refused.value
    assert isinstance(error, InvalidRequestError | NotFoundError)
    return error


async def test_a_text_file_is_sent_as_text_headed_by_its_name_and_stored_by_id(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "notes.txt", b"The launch code is 4242.\n")
    sent, response = await turn(stores, tenant, input=asking(file_part(file_id)))
    [message] = sent["input"]
    assert message["content"] == [
        {"type": "input_text", "text": "Read this."},
        {"type": "input_text", "text": "File: notes.txt\n\nThe launch code is 4242.\n"},
    ]
    stored = orjson.loads(await stores.responses.input_items(tenant, response["id"]) or b"")
    assert stored[0]["content"][1] == file_part(file_id)


async def test_a_pdf_is_parsed_once_and_its_text_reused_on_later_turns(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "report.pdf", pdf_bytes(["Quarterly revenue rose."]))
    sent, first = await turn(stores, tenant, input=asking(file_part(file_id)))
    assert sent["input"][0]["content"][1]["text"] == "File: report.pdf\n\nQuarterly revenue rose."
    assert await stores.blobs.read(tenant, text_blob_id(file_id)) == b"Quarterly revenue rose."
    # The PDF itself is not read again: later turns take the kept text.
    writer = stores.blobs.writer(tenant, file_id)
    await writer.write(b"no longer a PDF")
    await writer.commit()
    sent, _ = await turn(stores, tenant, input="And?", previous_response_id=first["id"])
    assert sent["input"][0]["content"][1]["text"].endswith("Quarterly revenue rose.")
    assert [item["role"] for item in sent["input"]] == ["user", "assistant", "user"]


async def test_a_docx_is_sent_as_its_text(stores_with_files: Stores, tenant: str) -> None:
    stores = stores_with_files
    data = docx_bytes(["Minutes of the meeting", "Budget approved."])
    file_id = await upload(stores, tenant, "minutes.docx", data)
    sent, _ = await turn(stores, tenant, input=asking(file_part(file_id)))
    text = sent["input"][0]["content"][1]["text"]
    assert text == "File: minutes.docx\n\nMinutes of the meeting\nBudget approved."


async def test_an_image_by_id_becomes_a_data_url(stores_with_files: Stores, tenant: str) -> None:
    stores = stores_with_files
    png = png_bytes()
    # Named without an extension: the bytes say what it is.
    file_id = await upload(stores, tenant, "photo", png)
    image = {"type": "input_image", "file_id": file_id, "detail": "low"}
    sent, _ = await turn(stores, tenant, input=asking(image))
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert sent["input"][0]["content"][1] == {
        "type": "input_image",
        "detail": "low",
        "image_url": url,
    }


async def test_an_image_given_as_an_input_file_is_sent_as_an_image(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "chart.png", png_bytes())
    sent, _ = await turn(stores, tenant, input=asking(file_part(file_id)))
    part = sent["input"][0]["content"][1]
    assert part["type"] == "input_image"
    assert part["image_url"].startswith("data:image/png;base64,")


async def test_inline_mode_sends_the_file_as_file_data(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    pdf = pdf_bytes(["inline me"])
    file_id = await upload(stores, tenant, "doc.pdf", pdf)
    sent, response = await turn(stores, tenant, INLINE, input=asking(file_part(file_id)))
    assert sent["input"][0]["content"][1] == {
        "type": "input_file",
        "filename": "doc.pdf",
        "file_data": "data:application/pdf;base64," + base64.b64encode(pdf).decode(),
    }
    assert await stores.blobs.read(tenant, text_blob_id(file_id)) is None  # nothing parsed
    stored = orjson.loads(await stores.responses.input_items(tenant, response["id"]) or b"")
    assert stored[0]["content"][1] == file_part(file_id)


@pytest.mark.parametrize("owner", ["another", "nobody"])
async def test_another_tenants_file_or_an_unknown_id_is_a_404_naming_the_part(
    stores_with_files: Stores, tenant: str, owner: str
) -> None:
    stores = stores_with_files
    file_id = "file-unknown"
    if owner == "another":
        file_id = await upload(stores, f"{tenant}-other", "secret.txt", b"top secret words")
    error = await refusal(stores, tenant, input=asking(file_part(file_id)))
    assert isinstance(error, NotFoundError)
    assert error.param == "input[0].content[1].file_id"
    assert error.message == f"No such File object: {file_id}"
    assert b"secret" not in error.body()
    assert await stores.blobs.read(tenant, text_blob_id(file_id)) is None


async def test_files_over_the_limit_are_a_400(stores_with_files: Stores, tenant: str) -> None:
    stores = stores_with_files
    small = await upload(stores, tenant, "a.txt", b"x" * 60)
    other = await upload(stores, tenant, "b.txt", b"y" * 60)
    limit = FileInputSettings(max_bytes=100)
    sent, _ = await turn(stores, tenant, limit, input=asking(file_part(small)))
    assert sent["input"][0]["content"][1]["text"].endswith("x" * 60)
    # Two files together go over it; the error names the part that did.
    parts = [file_part(small), file_part(other)]
    error = await refusal(stores, tenant, limit, input=asking(*parts))
    assert (error.status, error.code) == (400, "file_too_large")
    assert error.param == "input[0].content[2].file_id"
    assert "at most 100 bytes" in error.message
    inline = FileInputSettings(mode="inline", max_bytes=50)
    error = await refusal(stores, tenant, inline, input=asking(file_part(small)))
    assert (error.code, error.param) == ("file_too_large", "input[0].content[1].file_id")


async def test_a_file_with_no_text_or_no_image_is_a_400(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    binary = await upload(stores, tenant, "archive.bin", b"\x00\x01\x02binary")
    error = await refusal(stores, tenant, input=asking(file_part(binary)))
    assert (error.status, error.code) == (400, "unsupported_file")
    assert error.param == "input[0].content[1].file_id"
    text = await upload(stores, tenant, "notes.txt", b"words")
    image = {"type": "input_image", "file_id": text}
    error = await refusal(stores, tenant, input=asking(image))
    assert (error.status, error.code) == (400, "invalid_image_format")


async def test_a_conversation_resolves_its_files_on_every_turn(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "plan.md", b"# Plan\nShip it.")
    record = orjson.dumps({"id": "conv_f", "object": "conversation", "metadata": {}})
    await stores.conversations.create(tenant, "conv_f", record, [])
    await turn(stores, tenant, input=asking(file_part(file_id)), conversation="conv_f")
    sent, _ = await turn(stores, tenant, input="Again?", conversation="conv_f")
    assert sent["input"][0]["content"][1]["text"] == "File: plan.md\n\n# Plan\nShip it."
    found = await stores.conversations.context(tenant, "conv_f")
    assert found is not None
    kept = orjson.loads(b"[" + found[0] + b"]")
    assert kept[0]["content"][1] == file_part(file_id)


async def test_a_file_deleted_since_an_earlier_turn_is_a_404_on_the_next(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "gone.html", b"<p>Soon gone</p>")
    _, first = await turn(stores, tenant, input=asking(file_part(file_id)))
    assert await stores.blobs.read(tenant, text_blob_id(file_id)) == b"Soon gone"
    await stores.files.delete(tenant, file_id)
    await forget_texts(stores.blobs)(tenant, file_id)
    assert await stores.blobs.read(tenant, text_blob_id(file_id)) is None
    error = await refusal(stores, tenant, input="more", previous_response_id=first["id"])
    assert isinstance(error, NotFoundError)
    assert error.param == "previous_response_id"


async def test_items_without_file_ids_are_left_as_they_are(
    stores_with_files: Stores, tenant: str
) -> None:
    files = FileInputs(stores_with_files, tenant, FileInputSettings())
    items = [orjson.dumps({"type": "message", "role": "user", "content": 'say "file_id"'})]
    assert await files.items(items, "input") is items
    joined = b",".join(items)
    assert await files.joined(joined, "previous_response_id") is joined
    search = {"type": "file_search_call", "id": "fs_1", "results": [{"file_id": "file-x"}]}
    joined = b",".join([*items, orjson.dumps(search)])
    assert await files.joined(joined, "previous_response_id") is joined
    url = {"type": "input_image", "image_url": "https://example.com/a.png", "file_id": None}
    given = [orjson.dumps({"type": "message", "role": "user", "content": [url]})]
    assert orjson.loads((await files.items(given, "input"))[0])["content"] == [url]


async def test_a_prompt_variable_given_as_a_file_is_resolved_too(
    stores_with_files: Stores, tenant: str
) -> None:
    stores = stores_with_files
    file_id = await upload(stores, tenant, "brief.txt", b"Be brief.")
    parts = [{"type": "input_text", "text": "Rules:"}, {"type": "input_text", "text": "{{rules}}"}]
    template = {"name": "t", "input": [{"role": "developer", "content": parts}]}
    prompt = (await call(PromptsApi(stores.prompts).create, tenant, body=template)).json
    variables = {"rules": file_part(file_id)}
    sent, _ = await turn(
        stores, tenant, input="Hi", prompt={"id": prompt["id"], "variables": variables}
    )
    assert sent["input"][0]["role"] == "developer"
    assert sent["input"][0]["content"] == [
        {"type": "input_text", "text": "Rules:"},
        {"type": "input_text", "text": "File: brief.txt\n\nBe brief."},
    ]
    gone = {"rules": file_part("file-gone")}
    error = await refusal(
        stores, tenant, input="Hi", prompt={"id": prompt["id"], "variables": gone}
    )
    assert (error.status, error.param) == (404, "prompt.variables")
