"""Once set up, the code is not optional (onaboard/web/accounts/middleware.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.accounts.conftest import totp_code

pytestmark = pytest.mark.usefixtures("otp_middleware")

PAGE = reverse("accounts:otp_device_detail")
"""A page of onaboard's own that staff may open."""
CODE = reverse("accounts:login_code")


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
