"""Which address a request came from: the one answer the rate limits and the audit trail use.

Behind a reverse proxy every request reaches the app from the proxy's address, so counting failed sign-ins per
REMOTE_ADDR would lock every client out together, and the audit trail would name the proxy. A request whose
REMOTE_ADDR is one of ``ONABOARD_TRUSTED_PROXIES`` is attributed to the nearest address its ``X-Forwarded-For``
names that is not itself a trusted proxy: nginx's ``$proxy_add_x_forwarded_for`` appends the address it saw, so
whatever a client wrote into the header itself sits to the left and is never believed. A request from anywhere
else keeps its REMOTE_ADDR: a client cannot pick its own address by sending the header.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN_ADDRESS = "unknown"


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
