"""Checks for the fields of a connector, with the hosted API's messages and codes.

Header values are credentials: no message here ever includes one (names are fine).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, urlsplit

from core.common.errors import InvalidRequestError
from core.common.validation import check_array_length, invalid_type, missing

__all__ = [
    "allowed_tools",
    "credentials",
    "optional_text",
    "reject_unknown",
    "require_approval",
    "same_origin",
    "server_url",
]

_MAX_URL = 2048
_MAX_HEADERS = 32
_MAX_TOOLS = 256
# RFC 9110 token characters: anything else cannot be sent as a header name.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")
# Framing headers the MCP client sets itself; a stored one would break or smuggle requests.
_RESERVED = frozenset(("host", "content-length", "transfer-encoding", "connection", "upgrade"))
_APPROVAL_MODES = ("always", "never")


def reject_unknown(fields: dict[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    for key in fields:
        if key not in allowed:
            param = f"{prefix}.{key}" if prefix else key
            raise InvalidRequestError(
                f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter"
            )


def optional_text(value: Any, param: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid_type(param, "a string", value)
    return value


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


def server_url(value: Any) -> str:
    """An http(s) URL with a host. Whether the host is allowed (not private, loopback...)
    is checked when a response calls it, on the addresses it resolves to then."""
    if not isinstance(value, str):
        raise invalid_type("server_url", "a string", value)
    parts = _split(value)
    if parts is None:
        raise InvalidRequestError(
            "Invalid 'server_url': expected an http or https URL with a host.",
            param="server_url",
            code="invalid_value",
        )
    if parts.username is not None or parts.password is not None:
        # The URL is shown to clients; credentials belong in headers, which are not.
        raise InvalidRequestError(
            "Invalid 'server_url': the URL may not carry credentials; send them in "
            "'headers' or 'authorization'.",
            param="server_url",
            code="invalid_value",
        )
    return value


def same_origin(first: str, second: str) -> bool:
    a, b = urlsplit(first), urlsplit(second)
    default = {"http": 80, "https": 443}
    return (a.scheme, a.hostname, a.port or default[a.scheme]) == (
        b.scheme,
        b.hostname,
        b.port or default[b.scheme],
    )


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_type("headers", "an object of strings", value)
    headers: dict[str, str] = {}
    for name, item in value.items():
        param = f"headers.{name}"
        if not isinstance(item, str):
            raise invalid_type(param, "a string", item)
        lowered = name.lower()
        if not _HEADER_NAME.fullmatch(name) or lowered in _RESERVED:
            raise InvalidRequestError(
                f"Invalid 'headers': '{name}' cannot be sent as a header name.",
                param=param,
                code="invalid_value",
            )
        if any(c in item for c in "\r\n\0"):
            raise InvalidRequestError(
                f"Invalid '{param}': header values may not contain line breaks or NUL.",
                param=param,
                code="invalid_value",
            )
        if lowered in headers:
            raise InvalidRequestError(
                f"Invalid 'headers': '{lowered}' is given more than once.",
                param=param,
                code="invalid_value",
            )
        headers[lowered] = item
    return headers


def _bearer(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_type("authorization", "a string", value)
    token = value.strip()
    if not token or any(c in token for c in "\r\n\0"):
        raise InvalidRequestError(
            "Invalid 'authorization': expected a non-empty token without line breaks.",
            param="authorization",
            code="invalid_value",
        )
    return f"Bearer {token}"


def credentials(fields: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """The headers to store: `headers` replaces the whole set when given; `authorization`
    then sets (or, when null, removes) the `authorization` header alone."""
    given = "headers" in fields
    headers = _headers(fields["headers"]) if given else dict(current)
    if "authorization" in fields:
        if given and "authorization" in headers:
            raise InvalidRequestError(
                "Give the authorization either as 'authorization' or in 'headers', not both.",
                param="authorization",
                code="conflicting_parameters",
            )
        bearer = _bearer(fields["authorization"])
        if bearer is None:
            headers.pop("authorization", None)
        else:
            headers["authorization"] = bearer
    if len(headers) > _MAX_HEADERS:
        raise InvalidRequestError(
            f"Invalid 'headers': too many properties. Expected an object with at most "
            f"{_MAX_HEADERS} properties, but got {len(headers)} instead.",
            param="headers",
            code="object_above_max_properties",
        )
    return headers


def _tool_names(value: Any, param: str) -> list[str]:
    if value is None:
        raise missing(param)
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise invalid_type(param, "an array of tool names", value)
    check_array_length(value, param, _MAX_TOOLS)
    return value


def allowed_tools(value: Any) -> list[str] | None:
    """An array of tool names or `{"tool_names": [...]}`, kept as the array; None = all."""
    if value is None:
        return None
    if isinstance(value, dict):
        reject_unknown(value, frozenset(("tool_names",)), "allowed_tools")
        return _tool_names(value.get("tool_names"), "allowed_tools.tool_names")
    return _tool_names(value, "allowed_tools")


def require_approval(value: Any) -> str | dict[str, Any] | None:
    """'always', 'never', or `{"always": {"tool_names": [...]}, "never": {...}}`."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _APPROVAL_MODES:
            raise InvalidRequestError(
                f"Invalid value: '{value[:64]}'. Supported values are: 'always' and 'never'.",
                param="require_approval",
                code="invalid_value",
            )
        return value
    if not isinstance(value, dict):
        raise invalid_type("require_approval", "'always', 'never' or an object", value)
    reject_unknown(value, frozenset(_APPROVAL_MODES), "require_approval")
    rules: dict[str, Any] = {}
    for mode, rule in value.items():
        param = f"require_approval.{mode}"
        if not isinstance(rule, dict):
            raise invalid_type(param, "an object", rule)
        reject_unknown(rule, frozenset(("tool_names",)), param)
        rules[mode] = {"tool_names": _tool_names(rule.get("tool_names"), f"{param}.tool_names")}
    both = set(rules.get("always", {}).get("tool_names", ())) & set(
        rules.get("never", {}).get("tool_names", ())
    )
    if both:
        raise InvalidRequestError(
            f"Invalid 'require_approval': tools both always and never need approval: "
            f"{', '.join(sorted(both))}.",
            param="require_approval",
            code="invalid_value",
        )
    return rules
