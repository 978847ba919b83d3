"""Tenants never see each other's responses: by API key, trusted header, or default."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import openai
import pytest
from support.harness import Stack
from support.served_bodies import checked_http, checked_sdk

Factory = Callable[..., openai.OpenAI]


@pytest.fixture
def make_client(stack: Stack) -> Iterator[Factory]:
    """SDK clients with their own key (and headers), closed after the test."""
    made: list[openai.OpenAI] = []

    def make(key: str, **headers: str) -> openai.OpenAI:
        sdk = checked_sdk(stack.base_url, api_key=key, max_retries=0, default_headers=headers)
        made.append(sdk)
        return sdk

    yield make
    for sdk in made:
        sdk.close()


def new_key() -> str:
    return f"sk-{uuid.uuid4().hex}"


def assert_invisible(sdk: openai.OpenAI, response_id: str) -> None:
    """`response_id` does not exist for this client, whatever it tries."""
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(response_id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.delete(response_id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.input_items.list(response_id)
    with pytest.raises(openai.BadRequestError) as error:
        sdk.responses.create(model="m", input="steal", previous_response_id=response_id)
    assert error.value.code == "previous_response_not_found"


def test_keys_are_isolated(make_client: Factory) -> None:
    owner, other = make_client(new_key()), make_client(new_key())
    created = owner.responses.create(model="m", input=f"secret {uuid.uuid4().hex}")
    assert_invisible(other, created.id)
    # The other tenant's delete attempt removed nothing.
    assert owner.responses.retrieve(created.id).output_text == created.output_text
    assert len(owner.responses.input_items.list(created.id).data) == 1
    chained = owner.responses.create(model="m", input="more", previous_response_id=created.id)
    assert chained.previous_response_id == created.id


def test_same_key_is_same_tenant(make_client: Factory) -> None:
    key = new_key()
    created = make_client(key).responses.create(model="m", input=f"mine {uuid.uuid4().hex}")
    assert make_client(key).responses.retrieve(created.id).id == created.id


def test_trusted_header_overrides_key(make_client: Factory) -> None:
    tenant = f"t-{uuid.uuid4().hex}"
    first = make_client(new_key(), **{"x-tenant": tenant})
    second = make_client(new_key(), **{"x-tenant": tenant})
    created = first.responses.create(model="m", input=f"shared {uuid.uuid4().hex}")
    assert second.responses.retrieve(created.id).output_text == created.output_text
    chained = second.responses.create(model="m", input="on", previous_response_id=created.id)
    assert first.responses.retrieve(chained.id).previous_response_id == created.id
    # The key alone, or the key under another tenant header, is another tenant.
    key = new_key()
    by_key = make_client(key)
    keyed = by_key.responses.create(model="m", input=f"keyed {uuid.uuid4().hex}")
    assert_invisible(make_client(key, **{"x-tenant": tenant}), keyed.id)
    assert_invisible(by_key, created.id)
    assert_invisible(make_client(new_key(), **{"x-tenant": f"{tenant}-other"}), created.id)
    second.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        first.responses.retrieve(created.id)


def test_no_auth_uses_default_tenant(stack: Stack, make_client: Factory) -> None:
    body = {"model": "m", "input": f"anonymous {uuid.uuid4().hex}"}
    with checked_http(stack.base_url, timeout=30) as anonymous:
        created = anonymous.post("/responses", json=body)
        assert created.status_code == 200, created.text
        response_id = created.json()["id"]
    with checked_http(stack.base_url, timeout=30) as again:
        fetched = again.get(f"/responses/{response_id}")
        assert fetched.status_code == 200
        assert fetched.json()["output"] == created.json()["output"]
        follow = {"model": "m", "input": "next", "previous_response_id": response_id}
        assert again.post("/responses", json=follow).status_code == 200
    assert_invisible(make_client(new_key()), response_id)
