"""What configures an MCP server, one validator per concept, for both the inline `mcp`
tool and registered connectors: its URL, the headers and authorization sent to it, which
of its tools may be used (`allowed_tools`) and which need approval (`require_approval`).

Header values and tokens are credentials: no error raised here ever includes one
(header names are fine).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self
from urllib.parse import SplitResult, urlsplit

from pydantic import Field, PlainValidator, TypeAdapter, model_validator

from core.common.model_errors import absent, refusal, wrong_type
from core.common.models import ClosedModel, OpenModel

__all__ = [
    "ALLOWED_TOOLS",
    "APPROVAL_SETTING",
    "AllowedTools",
    "ApprovalFilters",
    "ApprovalSetting",
    "Authorization",
    "Headers",
    "McpToolSpec",
    "ServerUrl",
    "ToolFilter",
    "bearer",
    "check_authorization",
]

_MAX_URL = 2048
_MAX_HEADERS = 32
_MAX_TOOLS = 256
# RFC 9110 token characters: anything else cannot be sent as a header name.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
# Framing headers the MCP client sets itself; a given one would break or smuggle requests.
_RESERVED = frozenset(("host", "content-length", "transfer-encoding", "connection", "upgrade"))
_BREAKS = ("\r", "\n", "\0")
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _split(value: str) -> SplitResult | None:
    if len(value) > _MAX_URL or any(c.isspace() or not c.isprintable() for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def _server_url(value: Any) -> str:
    """An http(s) URL with a host. Whether the host is allowed (not private, loopback...)
    is checked when a response calls it, on the addresses it resolves to then."""
    if value is None:
        raise absent(())
    if not isinstance(value, str):
        raise wrong_type("a string", value)
    parts = _split(value)
    if parts is None:
        raise refusal(
            "invalid_value", "Invalid '{param}': expected an http or https URL with a host."
        )
    if parts.username is not None or parts.password is not None:
        # The URL is shown to clients; credentials belong in headers, which are not.
        raise refusal(
            "invalid_value",
            "Invalid '{param}': the URL may not carry credentials; send them in "
            "'headers' or 'authorization'.",
        )
    return value


ServerUrl = Annotated[str, PlainValidator(_server_url)]


def _headers(value: Any) -> dict[str, str]:
    """Names lower-cased (HTTP names are case-insensitive, so one name is given once)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong_type("an object of strings", value)
    headers: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(item, str):
            raise wrong_type("a string", item, (name,))
        lowered = name.lower()
        if not _HEADER_NAME.fullmatch(name) or lowered in _RESERVED:
            raise refusal(
                "invalid_value", "Invalid '{param}': this cannot be sent as a header name.", (name,)
            )
        if any(c in item for c in _BREAKS):
            raise refusal(
                "invalid_value",
                "Invalid '{param}': header values may not contain line breaks or NUL.",
                (name,),
            )
        if lowered in headers:
            raise refusal(
                "invalid_value",
                "Invalid '{param}': the header is given more than once (names ignore case).",
                (name,),
            )
        headers[lowered] = item
    if len(headers) > _MAX_HEADERS:
        raise refusal(
            "object_above_max_properties",
            f"Invalid '{{param}}': too many properties. Expected an object with at most "
            f"{_MAX_HEADERS} properties, but got {len(headers)} instead.",
        )
    return headers


# Headers sent to the server, by lower-cased name; null is none.
Headers = Annotated[dict[str, str], PlainValidator(_headers)]


def _token(value: Any) -> str:
    if not isinstance(value, str):
        raise wrong_type("a string", value)
    token = value.strip()
    if not token or any(c in token for c in _BREAKS):
        raise refusal(
            "invalid_value",
            "Invalid '{param}': expected a non-empty token without line breaks.",
        )
    return token


# An OAuth token, sent as `authorization: Bearer <token>`.
Authorization = Annotated[str, PlainValidator(_token)]


def bearer(token: str) -> str:
    return f"Bearer {token}"


def check_authorization(headers: dict[str, str], token: str | None) -> None:
    """The authorization is given once: as `authorization` or in `headers`."""
    if token is not None and "authorization" in headers:
        raise refusal(
            "conflicting_parameters",
            "Give the authorization either as 'authorization' or in 'headers', not both.",
            ("authorization",),
        )


ToolNames = Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=_MAX_TOOLS)]
_TOOL_NAMES: TypeAdapter[list[str]] = TypeAdapter(ToolNames)


class ToolFilter(ClosedModel):
    """Tools by name and/or by the server's read-only hint (both must hold)."""

    tool_names: ToolNames | None = None
    read_only: bool | None = None

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if self.tool_names is None and self.read_only is None:
            raise absent(("tool_names",))
        return self

    def matches(self, tool: dict[str, Any]) -> bool:
        if self.tool_names is not None and tool.get("name") not in self.tool_names:
            return False
        if self.read_only is not None:
            hints = tool.get("annotations") or {}
            return bool(hints.get("readOnlyHint")) == self.read_only
        return True

    def stored(self) -> list[str] | dict[str, Any]:
        """A names-only filter is kept as its array of names, as it is shown."""
        if self.read_only is None and self.tool_names is not None:
            return list(self.tool_names)
        return self.model_dump(exclude_none=True)


def _allowed_tools(value: Any) -> ToolFilter:
    if isinstance(value, list):
        return ToolFilter(tool_names=_TOOL_NAMES.validate_python(value, strict=True))
    if isinstance(value, dict):
        return ToolFilter.model_validate(value)
    raise wrong_type("an array of tool names or a tool filter object", value)


# `allowed_tools`: an array of names, or a filter object.
AllowedTools = Annotated[ToolFilter, PlainValidator(_allowed_tools)]
ALLOWED_TOOLS: TypeAdapter[ToolFilter] = TypeAdapter(AllowedTools)


class ApprovalFilters(ClosedModel):
    """Tools that `always` / `never` need approval; a tool named by neither does."""

    always: ToolFilter | None = None
    never: ToolFilter | None = None

    @model_validator(mode="after")
    def _not_both(self) -> Self:
        always = set(self.always.tool_names or ()) if self.always else set()
        both = always & set(self.never.tool_names or ()) if self.never else set()
        if both:
            raise refusal(
                "invalid_value",
                "Invalid '{param}': tools both always and never need approval: "
                f"{', '.join(sorted(both))}.",
            )
        return self

    def needs(self, tool: dict[str, Any]) -> bool:
        # Named under `always`, or by neither: approval, the safe default.
        return self.never is None or not self.never.matches(tool)


def _approval(value: Any) -> Literal["always", "never"] | ApprovalFilters:
    if isinstance(value, str):
        if value not in ("always", "never"):
            raise refusal(
                "invalid_value",
                f"Invalid value: '{value[:64]}'. Supported values are: 'always' and 'never'.",
            )
        return "always" if value == "always" else "never"
    if isinstance(value, dict):
        return ApprovalFilters.model_validate(value)
    raise wrong_type("'always', 'never' or an approval filter object", value)


# `require_approval`: "always", "never", or `{always?: filter, never?: filter}`.
ApprovalSetting = Annotated[Literal["always", "never"] | ApprovalFilters, PlainValidator(_approval)]
APPROVAL_SETTING: TypeAdapter[Literal["always", "never"] | ApprovalFilters] = TypeAdapter(
    ApprovalSetting
)


def _label(value: Any) -> str:
    if not isinstance(value, str):
        raise wrong_type("a string", value)
    if not _LABEL.fullmatch(value):
        raise refusal(
            "invalid_value", "Invalid '{param}': expected 1 to 64 letters, digits, '_' or '-'."
        )
    return value


class McpToolSpec(OpenModel):
    """A request's `mcp` tool: a server by `server_url`, or a registered `connector_id`."""

    type: Literal["mcp"]
    server_label: Annotated[str, PlainValidator(_label)]
    server_url: ServerUrl | None = None
    connector_id: str | None = None
    headers: Headers = Field(default_factory=dict)
    authorization: Authorization | None = None
    allowed_tools: AllowedTools | None = None
    require_approval: ApprovalSetting | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        check_authorization(self.headers, self.authorization)
        if self.connector_id is None and self.server_url is None:
            raise absent(("server_url",))
        if self.connector_id is not None and self.server_url is not None:
            raise refusal(
                "conflicting_parameters",
                "Give either server_url or connector_id, not both.",
                ("connector_id",),
            )
        return self

    def sent_headers(self) -> dict[str, str]:
        if self.authorization is None:
            return dict(self.headers)
        return {**self.headers, "authorization": bearer(self.authorization)}
