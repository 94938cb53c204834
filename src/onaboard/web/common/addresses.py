"""Which address a request came from: the one answer the audit trail and (by network, for IPv6) the rate limits use.

Behind a reverse proxy every request reaches the app from the proxy's address, so counting failed sign-ins per
REMOTE_ADDR would lock every client out together, and the audit trail would name the proxy. A request whose
REMOTE_ADDR is one of ``ONABOARD_TRUSTED_PROXIES`` is attributed to the nearest address its ``X-Forwarded-For``
names that is not itself a trusted proxy: nginx's ``$proxy_add_x_forwarded_for`` appends the address it saw, so
whatever a client wrote into the header itself sits to the left and is never believed. A request from anywhere
else keeps its REMOTE_ADDR: a client cannot pick its own address by sending the header.

The rate limits count an IPv6 client by its /64 network (``rate_limit_address``): one home or one host is given a
whole /64 and can send each try from a new address in it, so counting full addresses would limit nothing. An
IPv4-mapped IPv6 address (``::ffff:192.0.2.7``) counts as its IPv4 address. The audit trail keeps the full address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN_ADDRESS = "unknown"
IPV6_LIMITED_PREFIX = 64
"""The IPv6 network the rate limits count as one client: the /64 one subscriber or host is routinely given."""


def _normal(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the last untrusted X-Forwarded-For hop."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    trusted: frozenset[str] = getattr(settings, "ONABOARD_TRUSTED_PROXIES", frozenset())
    if remote and _normal(remote) in trusted:
        for hop in reversed(str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
            address = _normal(hop)
            if address is None:
                break  # a hop that is not an address: nothing left of it can be believed
            if address not in trusted:
                return address
    return remote or UNKNOWN_ADDRESS


def rate_limit_address(request: HttpRequest) -> str:
    """The subject the per-address rate limits count for this request: ``client_address``, but an IPv6 address by its
    /64 network (``2001:db8:1:2::/64``) and an IPv4-mapped one as its IPv4 address. For the limits only: the audit
    trail names the full address."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", or a REMOTE_ADDR that is not an address: counted as it is
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_LIMITED_PREFIX), strict=False))
    return str(parsed)
