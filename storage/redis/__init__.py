"""The stores kept in Redis, one hash tag per tenant (see `storage.tenant_keys`)."""

__all__: list[str] = []
