"""Signing in, the one-time code step, and setting up two-step sign-in (onaboard/web/accounts/views.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts import ratelimit, views
from onaboard.web.accounts.services import WRONG_CODE
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.accounts.conftest import next_code, totp_code, wrong_code
from tests.web.factories import PASSWORD

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:login_code")
TWO_STEP = reverse("accounts:otp_device_detail")
CONFIRM = reverse("accounts:otp_device_confirm")
REMOVE = reverse("accounts:otp_device_remove")
HOME = reverse(settings.LOGIN_REDIRECT_URL)


def _sign_in(client, user, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": user.username, "password": password, **extra})


def _signed_in_as(client):
    return client.session.get("_auth_user_id")


# --- The password step --------------------------------------------------------------------------------------------


def test_the_sign_in_page_labels_its_inputs(client):
    """The sign-in page has a labelled name and password field."""
    page = client.get(LOGIN).content.decode()
    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page


def test_a_user_without_an_authenticator_is_signed_in_by_the_password(client, world):
    """Without two-step sign-in the right password signs in and goes to the home page; the sign-in is audited."""
    nurse = world.users["nurse"]
    response = _sign_in(client, nurse)
    assert response.status_code == 302
    assert response.url == HOME
    assert _signed_in_as(client) == str(nurse.pk)
    event = AuditEvent.objects.get(action=Action.LOGIN)
    assert (event.username, event.detail) == ("nurse", "password")


def test_a_wrong_password_rerenders_with_the_name_kept_and_is_audited(client, world):
    """A wrong password shows the error, keeps the name typed, signs nobody in, and records the failure."""
    response = _sign_in(client, world.users["nurse"], password="wrong")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert 'value="nurse"' in page
    assert _signed_in_as(client) is None
    assert AuditEvent.objects.get(action=Action.LOGIN_FAILED).detail == "nurse"


def test_after_the_failure_limit_even_the_right_password_is_refused(client, world):
    """After LOGIN_FAILURE_LIMIT wrong passwords the account is locked: the right one is refused too."""
    nurse = world.users["nurse"]
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(client, nurse, password="wrong")
    response = _sign_in(client, nurse)
    assert response.status_code == 200
    assert _signed_in_as(client) is None
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).first().detail == "nurse (account locked)"


# --- The sign-in limits per name and per address --------------------------------------------------------------------


@pytest.fixture
def small_limits(settings, monkeypatch):
    """3 failed sign-ins per name or per address, on a clock held in the middle of the limits' windows (a window
    ending between two tries would start the count again), with the account lockout out of the way."""
    moment = time.time() // 3600 * 3600 + 450
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: moment))
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_address": "3/900", "login_account": "3/3600"}
    settings.LOGIN_FAILURE_LIMIT = 100


def test_full_width_look_alikes_of_a_name_count_against_the_names_limit(client, world, small_limits):
    """The sign-in form reads "nurse" in full-width letters as "nurse" (NFKC), so wrong passwords typed under it, from
    several addresses, use up "nurse"'s own limit: then even the right password under the plain name is refused."""
    look_alikes = ("\uff4e\uff55\uff52\uff53\uff45", "\uff4eurse", "\uff2eurse")  # all full-width, a full-width n or N
    for index, name in enumerate(look_alikes):
        response = client.post(LOGIN, {"username": name, "password": "wrong"}, REMOTE_ADDR=f"192.0.2.{index + 1}")
        assert response.status_code == 200
    refused = client.post(LOGIN, {"username": "nurse", "password": PASSWORD}, REMOTE_ADDR="192.0.2.9")
    assert refused.status_code == 429
    assert _signed_in_as(client) is None


def test_ipv6_clients_are_limited_by_their_64_network_and_audited_by_their_address(client, world, small_limits):
    """Failed sign-ins from fresh addresses of one IPv6 /64 use up one address limit (a client holds the whole
    /64), while another /64 is not refused; the trail names each full address."""
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"]
    for address, name in zip(addresses, ("nurse", "clinician", "billing"), strict=True):
        response = client.post(LOGIN, {"username": name, "password": "wrong"}, REMOTE_ADDR=address)
        assert response.status_code == 200
    same_network = client.post(LOGIN, {"username": "admin", "password": PASSWORD}, REMOTE_ADDR="2001:db8:1:2::99")
    assert same_network.status_code == 429
    other_network = client.post(LOGIN, {"username": "admin", "password": PASSWORD}, REMOTE_ADDR="2001:db8:1:3::1")
    assert other_network.status_code == 302
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("pk")
    assert [event.ip_address for event in failures] == addresses


def test_the_right_password_works_again_once_the_lock_expires(client, world):
    """When the lockout time has passed, the right password signs in again."""
    nurse = world.users["nurse"]
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _sign_in(client, nurse, password="wrong")
    type(nurse).objects.filter(pk=nurse.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert _sign_in(client, nurse).status_code == 302
    assert _signed_in_as(client) == str(nurse.pk)


def test_an_outside_next_address_is_ignored(client, world):
    """A ``next`` pointing to another site is not followed after signing in."""
    response = _sign_in(client, world.users["nurse"], next="https://elsewhere.example/")
    assert response.url == HOME


# --- The code step --------------------------------------------------------------------------------------------------


def test_the_password_alone_does_not_sign_in_a_user_with_an_authenticator(client, enrolled):
    """With a confirmed authenticator the password leads to the code page and nobody is signed in yet."""
    clinician, _device = enrolled
    response = _sign_in(client, clinician)
    assert response.url == CODE
    assert _signed_in_as(client) is None
    assert not AuditEvent.objects.filter(action=Action.LOGIN).exists()
    page = client.get(CODE).content.decode()
    assert 'autocomplete="one-time-code"' in page
    assert '<label for="id_code">' in page


def test_the_right_code_signs_in_and_verifies_the_session(client, enrolled):
    """The current code signs the user in, marks the session verified and goes where they were heading."""
    clinician, device = enrolled
    _sign_in(client, clinician, next="/patients/")
    response = client.post(CODE, {"code": totp_code(device)})
    assert response.status_code == 302
    assert response.url == "/patients/"
    assert _signed_in_as(client) == str(clinician.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AuditEvent.objects.get(action=Action.LOGIN).detail == "password and one-time code"


@pytest.mark.usefixtures("no_throttle")
def test_a_wrong_code_is_refused_and_audited(client, enrolled):
    """A wrong code re-renders the page with the error next to the field; nobody is signed in; it is audited."""
    clinician, device = enrolled
    _sign_in(client, clinician)
    response = client.post(CODE, {"code": wrong_code(device)})
    assert response.status_code == 200
    assert str(WRONG_CODE) in response.content.decode()
    assert _signed_in_as(client) is None
    failure = AuditEvent.objects.get(action=Action.LOGIN_FAILED, object_type="otp_device")
    assert failure.detail == "sign-in: wrong one-time code"


def test_a_malformed_code_is_refused_without_checking_the_device(client, enrolled):
    """Letters or a short code are refused by the form itself."""
    clinician, device = enrolled
    _sign_in(client, clinician)
    response = client.post(CODE, {"code": "12ab"})
    assert response.status_code == 200
    assert _signed_in_as(client) is None
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(client, world):
    """Nobody can start at the code page: without the password step it sends you to sign in."""
    assert client.get(CODE).url == LOGIN


def test_the_password_step_expires(client, enrolled, monkeypatch):
    """After PENDING_SECONDS the password step no longer counts and the code page sends you back to sign in."""
    clinician, device = enrolled
    _sign_in(client, clinician)
    later = time.time() + views.PENDING_SECONDS + 1
    monkeypatch.setattr(views.time, "time", lambda: later)
    response = client.post(CODE, {"code": totp_code(device)})
    assert response.url == LOGIN
    assert _signed_in_as(client) is None


# --- Setting up two-step sign-in ----------------------------------------------------------------------------------


def test_staff_see_two_step_sign_in_off_and_can_start(client, world):
    """A clinician without an authenticator sees it is off, and starting creates an unconfirmed device."""
    clinician = world.users["clinician"]
    client.force_login(clinician)
    assert "Set up two-step sign-in" in client.get(TWO_STEP).content.decode()
    response = client.post(TWO_STEP)
    assert response.url == CONFIRM
    device = TOTPDevice.objects.get(user=clinician)
    assert not device.confirmed
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="otp_device").exists()


def test_the_confirm_page_shows_the_otpauth_address_and_the_secret(client, world):
    """Setting up shows the otpauth:// address and the secret to type in, with a labelled code field."""
    client.force_login(world.users["clinician"])
    client.post(TWO_STEP)
    page = client.get(CONFIRM).content.decode()
    assert "otpauth://totp/" in page
    assert 'id="otp-secret"' in page
    assert '<label for="id_code">' in page


@pytest.mark.usefixtures("no_throttle")
def test_a_wrong_code_does_not_confirm_the_device(client, world):
    """A wrong first code leaves two-step sign-in off and says why."""
    clinician = world.users["clinician"]
    client.force_login(clinician)
    client.post(TWO_STEP)
    device = TOTPDevice.objects.get(user=clinician)
    response = client.post(CONFIRM, {"code": wrong_code(device)})
    assert str(WRONG_CODE) in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_confirming_turns_it_on_and_the_next_sign_in_asks_for_a_code(client, world):
    """The app's first code confirms the device (audited); signing in again then asks for a code."""
    clinician = world.users["clinician"]
    client.force_login(clinician)
    client.post(TWO_STEP)
    device = TOTPDevice.objects.get(user=clinician)
    response = client.post(CONFIRM, {"code": totp_code(device)})
    assert response.url == TWO_STEP
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_type="otp_device").exists()
    client.post(reverse("accounts:logout"))
    assert _sign_in(client, clinician).url == CODE


def test_a_new_set_up_replaces_an_unfinished_one(client, world):
    """Starting again discards the unconfirmed secret, so only the one on screen can be confirmed."""
    clinician = world.users["clinician"]
    client.force_login(clinician)
    client.post(TWO_STEP)
    first = TOTPDevice.objects.get(user=clinician)
    client.post(TWO_STEP)
    assert list(TOTPDevice.objects.filter(user=clinician)) != [first]
    assert TOTPDevice.objects.filter(user=clinician).count() == 1


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_two_step_sign_in_is_for_staff(client, world, role):
    """Patients and trainees get 403 on the set-up pages."""
    client.force_login(world.users[role])
    response = client.get(TWO_STEP)
    assert response.status_code == 403
    assert client.post(TWO_STEP).status_code == 403
    assert not TOTPDevice.objects.exists()


@pytest.mark.usefixtures("no_throttle")
def test_turning_it_off_needs_a_current_code(client, enrolled):
    """A wrong code leaves two-step sign-in on; the current code turns it off, audited."""
    clinician, device = enrolled
    _sign_in(client, clinician)
    client.post(CODE, {"code": totp_code(device)})
    response = client.post(REMOVE, {"code": wrong_code(device)})
    assert str(WRONG_CODE) in response.content.decode()
    assert TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
    response = client.post(REMOVE, {"code": next_code(device)})
    assert response.url == TWO_STEP
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert AuditEvent.objects.filter(action=Action.DELETE, object_type="otp_device").exists()


# --- Changing one's password ----------------------------------------------------------------------------------------

PASSWORD_PAGE = reverse("accounts:password_change")
NEW_PASSWORD = "a longer phrase for a new password"


@pytest.mark.parametrize("role", ["patient", "nurse"])
def test_a_signed_in_user_changes_their_own_password(client, world, role):
    """From the footer's link, the old password and the new one twice change it: the user stays signed in here, the
    new password signs in next time, the old one no longer does, and the change is audited."""
    user = world.users[role]
    client.force_login(user)
    assert f'href="{PASSWORD_PAGE}"' in client.get(HOME, follow=True).content.decode()
    response = client.post(
        PASSWORD_PAGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert str(views.PASSWORD_CHANGED) in response.content.decode()
    assert client.get(PASSWORD_PAGE).status_code == 200  # still signed in on this device
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_type="password", username=user.username).exists()


def test_changing_ones_password_revokes_ones_api_tokens(client, world):
    """A password change ends every way in that the old password opened: the user's API tokens stop working (401),
    each revocation is audited with who changed the password, and the page says so; a wrong current password
    revokes nothing."""
    from django.test import Client

    from onaboard.web.accounts.models import ApiToken

    nurse = world.users["nurse"]
    _token, raw = ApiToken.issue(nurse, "ward tablet")
    _other, other_raw = ApiToken.issue(world.users["clinician"], "reporting")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    client.force_login(nurse)
    client.post(PASSWORD_PAGE, {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert api.get("/api/patients").status_code == 200
    response = client.post(
        PASSWORD_PAGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert escape(views.TOKENS_REVOKED_ON_PASSWORD_CHANGE % {"count": 1}) in response.content.decode()
    assert api.get("/api/patients").status_code == 401
    assert ApiToken.user_for(other_raw) == world.users["clinician"]
    event = AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE)
    assert event.username == "nurse"
    assert event.detail.endswith("revoked: password changed by the user")


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(client, world):
    """The current password must be right and the new one pass the password rules; otherwise the page says why
    next to the field and the password stays as it was."""
    user = world.users["patient"]
    client.force_login(user)
    wrong = client.post(
        PASSWORD_PAGE, {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    weak = client.post(PASSWORD_PAGE, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert 'aria-invalid="true"' in wrong.content.decode()
    assert 'aria-invalid="true"' in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(object_type="password").exists()


def test_the_password_page_needs_a_signed_in_user(client):
    """Signed out, the page sends to the sign-in page."""
    response = client.get(PASSWORD_PAGE)
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


def test_wrong_current_passwords_count_toward_the_lockout(client, world, settings):
    """A wrong current password is a failed sign-in (audited, counted): at the limit the account locks, and then
    even the right one changes nothing, so a browser left signed in cannot be used to guess it without limit."""
    user = world.users["patient"]
    client.force_login(user)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(
            PASSWORD_PAGE, {"old_password": "a guess", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == settings.LOGIN_FAILURE_LIMIT
    user.refresh_from_db()
    assert user.is_locked()
    client.post(PASSWORD_PAGE, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- A forgotten password -----------------------------------------------------------------------------------------

FORGOTTEN_PASSWORD_HINT = "Forgotten your password? Ask your clinic: staff can set a new one for you."
"""There is no reset by email (onaboard sends none): an administrator sets a new password (docs/deploy.md)."""


def test_the_sign_in_page_says_what_to_do_about_a_forgotten_password(client):
    """The sign-in page tells someone who forgot their password to ask their clinic, whose staff set a new one."""
    assert FORGOTTEN_PASSWORD_HINT in client.get(LOGIN).content.decode()
