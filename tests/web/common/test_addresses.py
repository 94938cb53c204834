"""Which address a request came from, and which subject the per-address rate limits count for it
(onaboard/web/common/addresses.py)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from onaboard.web.common.addresses import UNKNOWN_ADDRESS, client_address, rate_limit_address


def _request(remote: str, forwarded: str = ""):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_ipv6_addresses_of_one_64_network_count_as_one_client():
    """Two addresses of one /64 (one home or host draws a fresh one at will) are one subject of the limits, while
    the address itself, for the audit trail, stays the full one."""
    first, second = _request("2001:db8:1:2::1"), _request("2001:db8:1:2:ffff:abcd:0:9")
    assert rate_limit_address(first) == rate_limit_address(second) == "2001:db8:1:2::/64"
    assert (client_address(first), client_address(second)) == ("2001:db8:1:2::1", "2001:db8:1:2:ffff:abcd:0:9")


def test_ipv6_addresses_of_neighbouring_networks_count_apart():
    """The next /64 is another client: the limits do not lump neighbours together beyond the /64."""
    assert rate_limit_address(_request("2001:db8:1:2::1")) != rate_limit_address(_request("2001:db8:1:3::1"))


@pytest.mark.parametrize(
    ("remote", "subject"),
    [("::ffff:192.0.2.7", "192.0.2.7"), ("192.0.2.7", "192.0.2.7"), ("", UNKNOWN_ADDRESS)],
)
def test_ipv4_clients_count_by_their_own_address(remote, subject):
    """An IPv4 client, written plainly or as an IPv4-mapped IPv6 address, counts by its IPv4 address alone (one
    address, not a network); a request with no address counts as the unknown one."""
    assert rate_limit_address(_request(remote)) == subject


def test_behind_a_trusted_proxy_the_forwarded_ipv6_client_counts_by_its_network(settings):
    """Behind a trusted proxy the client the proxy names is the one counted, by its /64 as any IPv6 client."""
    settings.ONABOARD_TRUSTED_PROXIES = frozenset({"10.0.0.10"})
    request = _request("10.0.0.10", forwarded="2001:db8:5:6::42")
    assert client_address(request) == "2001:db8:5:6::42"
    assert rate_limit_address(request) == "2001:db8:5:6::/64"
