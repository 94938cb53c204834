"""Once set up, the code is not optional; refused API tokens are limited per client
(onaboard/web/accounts/middleware.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.urls import reverse

from onaboard.web.accounts import ratelimit
from tests.web.accounts.conftest import totp_code

pytestmark = pytest.mark.usefixtures("otp_middleware")

PAGE = reverse("accounts:otp_device_detail")
"""A page of onaboard's own that staff may open."""
CODE = reverse("accounts:login_code")
API_PATIENTS = "/api/patients"


def test_a_session_without_the_code_is_sent_to_the_code_page(client, enrolled):
    """A signed-in user with a confirmed authenticator whose session has no code reaches no page but the code."""
    clinician, _device = enrolled
    client.force_login(clinician)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url == f"{CODE}?next={PAGE}"


def test_entering_the_code_opens_the_pages(client, enrolled):
    """After the code the same session reaches the page it asked for."""
    clinician, device = enrolled
    client.force_login(clinician)
    response = client.post(f"{CODE}?next={PAGE}", {"code": totp_code(device)})
    assert response.url == PAGE
    assert client.get(PAGE).status_code == 200


def test_signing_out_stays_possible(client, enrolled):
    """Signing out is never blocked by the missing code."""
    clinician, _device = enrolled
    client.force_login(clinician)
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")


def test_users_without_an_authenticator_are_not_affected(client, world):
    """A user who never set up two-step sign-in reaches the pages with the password alone."""
    client.force_login(world.users["nurse"])
    assert client.get(PAGE).status_code == 200


def test_refused_tokens_from_one_ipv6_network_share_one_limit(client, world, settings, monkeypatch):
    """Made-up bearer tokens sent from fresh addresses of one IPv6 /64 use up one address's limit of refused tokens
    (a client holds the whole /64), while another /64 still gets its own 401."""
    moment = time.time() // 600 * 600 + 300  # in the middle of a 600 s window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: moment))
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_bad_token": "2/600"}
    guess = {"HTTP_AUTHORIZATION": "Bearer onb_guess"}
    assert client.get(API_PATIENTS, REMOTE_ADDR="2001:db8:1:2::1", **guess).status_code == 401
    assert client.get(API_PATIENTS, REMOTE_ADDR="2001:db8:1:2::2", **guess).status_code == 401
    assert client.get(API_PATIENTS, REMOTE_ADDR="2001:db8:1:2::3", **guess).status_code == 429
    assert client.get(API_PATIENTS, REMOTE_ADDR="2001:db8:1:3::1", **guess).status_code == 401
