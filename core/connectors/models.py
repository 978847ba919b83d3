"""The Connectors API's bodies and its object. Every field of a connector is checked by
the same validators as the inline `mcp` tool's (`core.tools.mcp.models`)."""

from __future__ import annotations

from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from core.common.errors import InvalidRequestError
from core.common.model_errors import absent
from core.common.models import ClosedModel, Metadata, OpenModel
from core.tools.mcp.models import (
    AllowedTools,
    ApprovalSetting,
    Authorization,
    Headers,
    ServerUrl,
    bearer,
    check_authorization,
)

__all__ = ["ConnectorCreate", "ConnectorObject", "ConnectorUpdate", "same_origin"]

_MAX_HEADERS = 32


class ConnectorUpdate(ClosedModel):
    """Fields to change; only those given change (`model_fields_set`), null clears."""

    server_url: ServerUrl | None = None
    name: str | None = None
    description: str | None = None
    headers: Headers = Field(default_factory=dict)
    authorization: Authorization | None = None
    allowed_tools: AllowedTools | None = None
    require_approval: ApprovalSetting | None = None
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "server_url" in self.model_fields_set and self.server_url is None:
            raise absent(("server_url",))
        check_authorization(self.headers, self.authorization)
        return self

    def credentials(self, current: dict[str, str]) -> dict[str, str]:
        """The headers to store: `headers` replaces the whole set when given;
        `authorization` then sets (or, when null, removes) that header alone."""
        given = self.model_fields_set
        headers = dict(self.headers) if "headers" in given else dict(current)
        if "authorization" in given:
            if self.authorization is None:
                headers.pop("authorization", None)
            else:
                headers["authorization"] = bearer(self.authorization)
        if len(headers) > _MAX_HEADERS:
            raise InvalidRequestError(
                f"Invalid 'headers': too many properties. Expected an object with at most "
                f"{_MAX_HEADERS} properties, but got {len(headers)} instead.",
                param="headers",
                code="object_above_max_properties",
            )
        return headers

    def changes(self) -> dict[str, Any]:
        """The object's fields this body sets, in their stored form."""
        given = self.model_fields_set
        changed: dict[str, Any] = {
            key: getattr(self, key)
            for key in ("server_url", "name", "description", "metadata")
            if key in given
        }
        if "allowed_tools" in given:
            allowed = self.allowed_tools
            changed["allowed_tools"] = None if allowed is None else allowed.stored()
        if "require_approval" in given:
            rule = self.require_approval
            if rule is not None and not isinstance(rule, str):
                changed["require_approval"] = rule.model_dump(exclude_none=True)
            else:
                changed["require_approval"] = rule
        return changed


class ConnectorCreate(ConnectorUpdate):
    @model_validator(mode="after")
    def _has_url(self) -> Self:
        if self.server_url is None:
            raise absent(("server_url",))
        return self


class ConnectorObject(OpenModel):
    """A connector as clients see it: `header_names` lists the headers' names only."""

    id: str
    object: Literal["connector"] = "connector"
    created_at: int
    name: str | None = None
    description: str | None = None
    server_url: str
    header_names: list[str] = Field(default_factory=list)
    allowed_tools: list[str] | dict[str, Any] | None = None
    require_approval: str | dict[str, Any] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


def same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first), urlsplit(second)
    default = {"http": 80, "https": 443}
    return (a.scheme, a.hostname, a.port or default[a.scheme]) == (
        b.scheme,
        b.hostname,
        b.port or default[b.scheme],
    )
