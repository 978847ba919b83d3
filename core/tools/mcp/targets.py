"""Where an MCP server may be: http(s) only, and never an internal address unless allowed.

The check is on the addresses the host resolves to, so a public name pointing at a
private address is refused too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.common.errors import InvalidRequestError

__all__ = ["check_target"]


def _allow_list(
    entries: str,
) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for entry in (e.strip() for e in entries.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower())
    return hosts, networks


async def check_target(url: str, param: str, allowed: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError(
            f"Invalid '{param}': expected an http or https URL.", param=param, code="invalid_value"
        )
    host = parts.hostname.lower()
    hosts, networks = _allow_list(allowed)
    if host in hosts:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError:
        raise InvalidRequestError(
            f"Invalid '{param}': the host '{host}' cannot be resolved.",
            param=param,
            code="invalid_value",
        ) from None
    for info in found:
        address = ipaddress.ip_address(info[4][0])
        internal = (
            address.is_private or address.is_loopback or address.is_link_local
            or address.is_reserved or address.is_multicast or address.is_unspecified
        )  # fmt: skip
        if internal and not any(address in network for network in networks):
            raise InvalidRequestError(
                f"Invalid '{param}': MCP servers on private, loopback or link-local addresses "
                "are not allowed here.",
                param=param,
                code="invalid_value",
            )
