"""Where webhooks may go: http(s) URLs whose host resolves to public addresses only.

A marketplace chooses the URL, and Assay's servers make the request: a URL aimed at
Assay's own network (a database, a cloud metadata service, a router) would let an
integration reach what it must not. So every address the host resolves to is
checked, at registration and again before each send (DNS answers change)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from assay.domain.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# socket.getaddrinfo's signature; tests pass a fake that answers without a network.
Resolver = Callable[..., list[tuple[Any, ...]]]

MAX_URL_LENGTH = 2000  # the column's size


def check_url(url: str, *, allow_private: bool = False, resolve: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """The addresses `url`'s host resolves to, all of them public, or `ValidationFailed`
    saying what is wrong with the URL. `allow_private` admits any address (development)."""
    host, port = _host_and_port(url)
    addresses = resolve_host(host, port, resolve)
    if not allow_private:
        for address in addresses:
            if (kind := non_public_kind(address)) is not None:
                raise ValidationFailed([f"url: host {host} resolves to {shown(address)}, a {kind} address; "
                                        "webhooks go to public addresses only"])
    return addresses


def resolve_host(host: str, port: int, resolve: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    try:
        answers = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as problem:  # socket.gaierror is an OSError
        raise ValidationFailed([f"url: host {host} does not resolve ({problem})"]) from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # drop an IPv6 zone ("fe80::1%eth0")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ValidationFailed([f"url: host {host} resolves to no address"])
    return addresses


def non_public_kind(address: IPAddress) -> str | None:
    """What makes an address unfit for a webhook (loopback, private, ...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 (::ffff:10.0.0.1, or 6to4's 2002:0a00:0001::) is judged as itself.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return non_public_kind(embedded)
    for kind, test in (
        ("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
        ("reserved", address.is_reserved), ("private", address.is_private),
        # what is left, e.g. carrier-grade NAT's 100.64.0.0/10: not private, yet not reachable from outside
        ("non-global", not address.is_global),
    ):
        if test:
            return kind
    return None


def shown(address: IPAddress) -> str:
    """The address as people write it, with the IPv4 address inside an IPv6 one spelled out."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"::ffff:{address.ipv4_mapped}"
        if address.sixtofour is not None:
            return f"{address} (6to4 for {address.sixtofour})"
    return str(address)


def _host_and_port(url: str) -> tuple[str, int]:
    if len(url) > MAX_URL_LENGTH:
        raise ValidationFailed([f"url: at most {MAX_URL_LENGTH} characters, not {len(url)}"])
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as problem:
        raise ValidationFailed([f"url: not a valid URL ({problem})"]) from None
    if parts.scheme not in ("http", "https"):
        shown = f"'{parts.scheme}'" if parts.scheme else "none"
        raise ValidationFailed([f"url: must start with https:// (or http://); its scheme is {shown}"])
    if not parts.hostname:
        raise ValidationFailed(["url: names no host"])
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed(["url: must not carry a user name or password; requests are signed instead"])
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)
