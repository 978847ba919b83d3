"""RedisConnectorStore against a real redis-server: objects, headers, paging, tenants."""

from __future__ import annotations

import orjson
from redis.asyncio import Redis

from core.common.ids import new_id
from core.ports import StoredConnector
from storage.redis.connectors import RedisConnectorStore
from storage.tenant_keys import tenant_prefix


def connector(name: str = "c", headers: dict[str, str] | None = None) -> StoredConnector:
    headers = {"authorization": "Bearer tok-ünï"} if headers is None else headers
    obj = {
        "id": new_id("conn"),
        "object": "connector",
        "name": name,
        "server_url": "https://mcp.example.com/mcp",
        "header_names": sorted(headers),
        "allowed_tools": ["search"],
        "require_approval": {"never": {"tool_names": ["search"]}},
    }
    return StoredConnector(obj=obj, headers=headers)


async def test_create_get_and_typed_fields(connectors: RedisConnectorStore, tenant: str) -> None:
    created = connector()
    await connectors.create(tenant, created)
    found = await connectors.get(tenant, created.id)
    assert found == created
    assert found is not None and found.server_url == "https://mcp.example.com/mcp"
    assert (found.obj["allowed_tools"], found.obj["require_approval"]) == (
        ["search"],
        {"never": {"tool_names": ["search"]}},
    )
    assert "tok" not in repr(found)  # a logged connector never shows its credentials


async def test_unknown_and_other_tenants(connectors: RedisConnectorStore, tenant: str) -> None:
    created = connector()
    await connectors.create(tenant, created)
    other = f"{tenant}-other"
    assert await connectors.get(tenant, new_id("conn")) is None
    assert await connectors.get(other, created.id) is None
    assert await connectors.update(other, created) is False
    assert await connectors.delete(other, created.id) is False
    assert (await connectors.page(other, 10, True, None, None)).items == []
    assert await connectors.get(other, created.id) is None
    assert await connectors.get(tenant, created.id) == created


async def test_update_only_while_present(connectors: RedisConnectorStore, tenant: str) -> None:
    created = connector()
    await connectors.create(tenant, created)
    changed = StoredConnector({**created.obj, "name": "new", "header_names": []}, {})
    assert await connectors.update(tenant, changed) is True
    assert await connectors.get(tenant, created.id) == changed
    assert await connectors.delete(tenant, created.id) is True
    assert await connectors.delete(tenant, created.id) is False
    # An update racing a delete must not bring the connector back.
    assert await connectors.update(tenant, changed) is False
    assert await connectors.get(tenant, created.id) is None


async def test_pages_hold_public_objects_only(
    connectors: RedisConnectorStore, redis_client: Redis, tenant: str
) -> None:
    made = [connector(f"c{i}", {"x-key": f"secret-{i}"}) for i in range(5)]
    for item in made:
        await connectors.create(tenant, item)
    ids = [item.id for item in made]
    first = await connectors.page(tenant, 2, True, None, None)
    assert [orjson.loads(i)["id"] for i in first.items] == ids[::-1][:2] and first.has_more
    assert all(b"secret" not in item for item in first.items)
    after = await connectors.page(tenant, 10, True, ids[3], None)
    assert [orjson.loads(i)["id"] for i in after.items] == ids[2::-1] and not after.has_more
    between = await connectors.page(tenant, 10, False, ids[0], ids[3])
    assert [orjson.loads(i)["id"] for i in between.items] == ids[1:3]
    assert (await connectors.page(tenant, 10, True, new_id("conn"), None)).items == []
    await connectors.delete(tenant, ids[2])
    remaining = await connectors.page(tenant, 10, False, None, None)
    assert [orjson.loads(i)["id"] for i in remaining.items] == ids[:2] + ids[3:]
    for item_id in ids:
        await connectors.delete(tenant, item_id)
    keys = [k async for k in redis_client.scan_iter(match=f"{tenant_prefix(tenant)}*")]
    assert keys == [f"{tenant_prefix(tenant)}cnseq".encode()]
