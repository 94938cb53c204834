"""Users, API tokens and authenticators in the admin (onaboard/web/accounts/admin.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts import ratelimit
from onaboard.web.accounts.admin import ADMIN_NEEDS_STAFF, LOCKOUT_LIFTED, SECRET_NOT_SHOWN
from onaboard.web.accounts.models import ApiToken, Role, SiteOfService
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.factories import PASSWORD, UserFactory

LOGIN = reverse("accounts:login")


def test_the_admin_sign_in_hands_over_to_onaboards(client):
    """The admin's own sign-in page sends you to onaboard's (lockout and one-time code apply there)."""
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/")
    assert response.status_code == 302
    assert response.url == reverse("accounts:login") + "?next=/admin/accounts/"


def test_tokens_are_revoked_from_the_admin_and_audited(client, world, superuser):
    """The admin's revoke action stops the selected tokens and records who revoked them."""
    token, raw = ApiToken.issue(world.users["clinician"], "reporting")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.user_for(raw) is None
    assert AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE).username == "admin"


def test_tokens_cannot_be_added_or_deleted_in_the_admin(client, world, superuser):
    """Tokens are issued by the command (the secret is shown once) and stay listed once revoked."""
    token, _raw = ApiToken.issue(world.users["clinician"], "reporting")
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:accounts_apitoken_delete", args=[token.pk])).status_code == 403


def test_an_account_is_deactivated_never_deleted(client, world, superuser):
    """The admin offers no delete for people, and deleting an account that appears in the audit trail is refused:
    its events would lose their link to it (the trail is append-only)."""
    from django.db.models import ProtectedError

    nurse = world.users["nurse"]
    client.force_login(nurse)
    client.get(reverse("patients:detail", args=[world.same_clinic_patient.external_id]))
    client.force_login(superuser)
    assert client.get(reverse("admin:accounts_user_delete", args=[nurse.pk])).status_code == 403
    events = list(AuditEvent.objects.filter(username="nurse").values_list("id", "user_id"))
    assert events
    with pytest.raises(ProtectedError):
        nurse.delete()
    assert list(AuditEvent.objects.filter(username="nurse").values_list("id", "user_id")) == events


def test_the_token_list_shows_when_each_token_expires(client, world, superuser):
    """The admin's token list has an Expires column with each token's expiry."""
    token, _raw = ApiToken.issue(world.users["clinician"], "reporting")
    client.force_login(superuser)
    page = client.get(reverse("admin:accounts_apitoken_changelist"))
    assert "column-expires" in page.content.decode()
    assert page.context["cl"].result_list[0].expires == token.expires


def test_setting_someones_password_in_the_admin_revokes_their_tokens(client, world, superuser):
    """A password set for someone in the admin (a forgotten or leaked one) also stops their API tokens: the old
    password could have been used to get one. Each revocation is audited with the administrator's name."""
    nurse = world.users["nurse"]
    _token, raw = ApiToken.issue(nurse, "ward tablet")
    client.force_login(superuser)
    new = "an entirely different long passphrase"
    passwords = {"password1": new, "password2": new, "usable_password": "true"}
    assert client.post(reverse("admin:auth_user_password_change", args=[nurse.pk]), passwords).status_code == 302
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/patients").status_code == 401
    event = AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE)
    assert (event.username, event.detail.endswith("revoked: password set in the admin")) == ("admin", True)


def test_a_refused_password_in_the_admin_revokes_nothing(client, world, superuser):
    """A new password the rules refuse changes nothing, so the tokens keep working."""
    nurse = world.users["nurse"]
    _token, raw = ApiToken.issue(nurse, "ward tablet")
    client.force_login(superuser)
    weak = {"password1": "123", "password2": "123", "usable_password": "true"}
    assert client.post(reverse("admin:auth_user_password_change", args=[nurse.pk]), weak).status_code == 200
    assert ApiToken.user_for(raw) == nurse


def test_a_deactivated_account_keeps_no_token_when_made_active_again(client, world, superuser):
    """Unticking Active revokes the account's tokens (audited); ticking it again later does not bring them back."""
    nurse = world.users["nurse"]
    _token, raw = ApiToken.issue(nurse, "ward tablet")
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    data = _change_form_data(client.get(url))
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    assert client.post(url, _change_form_data(client.get(url), is_active="on")).status_code == 302
    nurse.refresh_from_db()
    assert nurse.is_active
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/patients").status_code == 401
    event = AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE)
    assert (event.username, event.detail.endswith("revoked: account made inactive")) == ("admin", True)


# --- Lifting a sign-in lockout -------------------------------------------------------------------------------------


def _change_form_data(response, **changes):
    """The POST data of the admin change form on ``response`` as it stands, with ``changes`` applied."""
    data = {}
    for field in response.context["adminform"].form:
        if field.field.disabled:
            continue
        value = field.value()
        widget = getattr(field.field.widget, "widget", field.field.widget)  # the admin wraps related widgets
        if isinstance(widget, MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{field.html_name}_{index}"] = part or ""
        elif isinstance(value, bool):
            if value:
                data[field.html_name] = "on"
        elif value is not None:
            data[field.html_name] = value
    data.update(changes)
    return data


@pytest.fixture
def name_limit(settings):
    """The deployment's limit of failed sign-ins per account name (the test settings' limits are out of reach)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "10/3600"}


def _fail_sign_ins(client, username, times):
    for _ in range(times):
        assert client.post(LOGIN, {"username": username, "password": "wrong"}).status_code == 200


def test_clearing_locked_until_lifts_the_lockout_and_the_name_limit(client, world, superuser, name_limit):
    """After 10 wrong passwords the right one is refused (429) and the admin's page says so; clearing "Locked
    until" and saving lets the right password in at once, and the lift is audited."""
    nurse = world.users["nurse"]
    visitor = Client()
    _fail_sign_ins(visitor, "nurse", 10)
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    nurse.refresh_from_db()
    assert nurse.locked_until is not None
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    page = client.get(url)
    assert "Refused, even with the right password: 10 failed sign-ins for this name." in page.content.decode()
    response = client.post(url, _change_form_data(page, locked_until_0="", locked_until_1=""))
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert (nurse.locked_until, nurse.failed_logins) == (None, 0)
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="user")
    assert (event.username, event.detail) == (
        "admin",
        "sign-in lockout of nurse lifted; 1 failed sign-in counter(s) cleared",
    )


def test_saving_a_user_without_clearing_the_lock_lifts_nothing(client, world, superuser, name_limit):
    """Saving the user page with "Locked until" left as it is keeps the lockout and the name limit."""
    nurse = world.users["nurse"]
    visitor = Client()
    _fail_sign_ins(visitor, "nurse", 10)
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    assert client.post(url, _change_form_data(client.get(url))).status_code == 302
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    assert not AuditEvent.objects.filter(action=Action.UPDATE, object_type="user").exists()


def test_the_lift_message_says_an_addresss_own_limit_still_holds(client, world, superuser, settings, monkeypatch):
    """Lifting a lockout clears the name's limit only: the message says so, and an address that used up its own
    limit is still refused while the right password from another address gets in. The limits' clock stands still in
    the middle of their windows: a window ending between the tries and the last one reset the count (a flaky run)."""
    moment = time.time() // 3600 * 3600 + 450  # 450 s into an hour: inside one 900 s and one 3600 s window
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: moment))
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_address": "10/900", "login_account": "10/3600"}
    visitor = Client()
    _fail_sign_ins(visitor, "nurse", 10)
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[world.users["nurse"].pk])
    response = client.post(url, _change_form_data(client.get(url), locked_until_0="", locked_until_1=""), follow=True)
    message = str(LOCKOUT_LIFTED % {"username": "nurse"})
    assert escape(message) in response.content.decode()
    assert "an address that used up its own limit of failed sign-ins still waits" in message
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    elsewhere = Client(REMOTE_ADDR="192.0.2.7")
    assert elsewhere.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302


def test_the_lift_action_frees_a_name_limited_without_a_lock(client, world, superuser, name_limit):
    """Wrong passwords typed under the name in capitals count for the name without locking the account (the lockout
    matches the exact name); the list's "lift" action clears them, and the page shows the name unlimited again."""
    nurse = world.users["nurse"]
    visitor = Client()
    _fail_sign_ins(visitor, "NURSE", 10)
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    nurse.refresh_from_db()
    assert nurse.locked_until is None
    client.force_login(superuser)
    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "lift_lockout", "_selected_action": [nurse.pk]}
    )
    assert response.status_code == 302
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302
    page = client.get(reverse("admin:accounts_user_change", args=[nurse.pk])).content.decode()
    assert "Not refused: 0 of 10 failed sign-ins for this name in the current window." in page


def test_the_lift_clears_failures_typed_under_a_full_width_look_alike(client, world, superuser, name_limit):
    """Wrong passwords typed under "nurse" in full-width letters (which the sign-in form reads as "nurse") use up the
    name's limit, and lifting the account's lockout clears them: the right password gets in again."""
    nurse = world.users["nurse"]
    visitor = Client()
    _fail_sign_ins(visitor, "\uff4e\uff55\uff52\uff53\uff45", 10)  # "nurse", full-width
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    client.force_login(superuser)
    client.post(reverse("admin:accounts_user_changelist"), {"action": "lift_lockout", "_selected_action": [nurse.pk]})
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302


# --- The admin's own pages hand over to onaboard's ------------------------------------------------------------------


def test_the_admin_password_change_is_onaboards(client, world, superuser):
    """The admin's "Change password" sends you to onaboard's page (current password checked as a sign-in, audited);
    a form posted to the admin's address changes nothing."""
    client.force_login(superuser)
    response = client.get(reverse("admin:password_change"))
    assert (response.status_code, response.url) == (302, reverse("accounts:password_change"))
    new = "an entirely different long passphrase"
    posted = client.post(
        reverse("admin:password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert posted.status_code == 302
    superuser.refresh_from_db()
    assert superuser.check_password(PASSWORD)


def test_wrong_current_passwords_via_the_admins_link_lock_the_account(client, world, superuser, settings):
    """Followed from the admin, wrong current passwords count toward the lockout like wrong sign-ins."""
    client.force_login(superuser)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post(
            reverse("admin:password_change"),
            {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
            follow=True,
        )
        client.post(
            response.redirect_chain[-1][0], {"old_password": "wrong", "new_password1": "x", "new_password2": "x"}
        )
    superuser.refresh_from_db()
    assert superuser.is_locked()


def test_ones_own_password_in_the_user_admin_is_changed_on_onaboards_page(client, world, superuser):
    """The user admin's password form, which asks for no current password, is not offered for one's own account;
    for another person's account it is."""
    client.force_login(superuser)
    own = client.get(reverse("admin:auth_user_password_change", args=[superuser.pk]))
    assert (own.status_code, own.url) == (302, reverse("accounts:password_change"))
    other = client.get(reverse("admin:auth_user_password_change", args=[world.users["nurse"].pk]))
    assert other.status_code == 200


@pytest.mark.parametrize("role", ["admin", "nurse"])
def test_a_signed_in_account_without_admin_access_is_told_why(client, world, role):
    """Someone signed in without staff status who opens the admin gets a 403 saying what the admin needs, not the
    sign-in form again (signing in again would only bring them back)."""
    client.force_login(world.users[role])
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403
    assert str(ADMIN_NEEDS_STAFF) in response.content.decode()


def test_a_signed_in_staff_account_at_the_admin_sign_in_goes_on(client, world, superuser):
    """A staff account already signed in that lands on the admin's sign-in page goes on to where it was going."""
    client.force_login(superuser)
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/")
    assert (response.status_code, response.url) == (302, "/admin/accounts/")
    elsewhere = client.get(reverse("admin:login") + "?next=https://example.org/")
    assert elsewhere.url == reverse("admin:index")


# --- Authenticators: never their secret --------------------------------------------------------------------------


@pytest.fixture
def device(world):
    """The clinician's confirmed authenticator."""
    return TOTPDevice.objects.create(user=world.users["clinician"], name="Authenticator app", confirmed=True)


def test_an_authenticators_secret_is_not_shown_in_the_admin(client, device, superuser):
    """The device's page shows no secret, and its configuration and QR code pages are refused with the reason."""
    client.force_login(superuser)
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert 'name="key"' not in page.content.decode()
    for name in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        refused = client.get(reverse(name, kwargs={"pk": device.pk}))
        assert refused.status_code == 403
        assert escape(str(SECRET_NOT_SHOWN)) in refused.content.decode()
    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    assert reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk}) not in listing
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403


def test_a_lost_phones_authenticator_is_listed_and_deleted_in_the_admin(client, device, superuser):
    """The admin lists the devices and deletes one (a lost phone); its owner then sets up a new one."""
    client.force_login(superuser)
    assert "Authenticator app" in client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    response = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_an_authenticator_cannot_be_changed_in_the_admin(client, world, superuser):
    """An administrator cannot move their own device (whose secret they know) to another account or change whether
    it is confirmed: the device's page is read-only and a posted change is refused (403), changing nothing."""
    own = TOTPDevice.objects.create(user=superuser, name="Admin's phone", confirmed=False)
    client.force_login(superuser)
    url = reverse("admin:otp_totp_totpdevice_change", args=[own.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="user"' not in page.content.decode()
    response = client.post(url, {"user": world.users["clinician"].pk, "name": "Admin's phone", "confirmed": "on"})
    assert response.status_code == 403
    own.refresh_from_db()
    assert (own.user_id, own.confirmed) == (superuser.pk, False)


# --- Each clinic's administrator reaches their own clinic's accounts only ------------------------------------------


@pytest.fixture
def south(world):
    """The other clinic's administrator (as ``manage.py create_clinic_admin`` makes one: staff and superuser) and a
    clinician of that clinic."""
    admin = UserFactory(
        username="south_admin", role=Role.ADMIN, clinic=world.other_clinic, is_staff=True, is_superuser=True
    )
    clinician = UserFactory(username="south_clinician", role=Role.CLINICIAN, clinic=world.other_clinic)
    return admin, clinician


@pytest.fixture
def operator(world):
    """An administrator of no clinic (the installation's operator), staff and superuser."""
    return UserFactory(username="operator", role=Role.ADMIN, clinic=None, is_staff=True, is_superuser=True)


def _listed(response):
    return {user.username for user in response.context["cl"].result_list}


def test_a_clinics_administrator_lists_their_clinics_accounts_only(client, world, south, operator):
    """The other clinic's administrator lists that clinic's accounts and no one of this clinic (nor its name in a
    filter); the operator, of no clinic, lists every account."""
    client.force_login(south[0])
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert _listed(response) == {"south_admin", "south_clinician"}
    assert world.clinic.name not in response.content.decode()
    client.force_login(operator)
    assert _listed(client.get(reverse("admin:accounts_user_changelist"))) == {
        *world.users,
        "south_admin",
        "south_clinician",
        "operator",
    }


def test_another_clinics_account_cannot_be_opened_or_changed(client, world, south):
    """The other clinic's administrator opens and changes their own clinician's page, but this clinic's clinician's
    page, history and posted changes are refused as Django refuses a missing object (a redirect to the admin's
    index), changing nothing."""
    south_admin, south_clinician = south
    clinician = world.users["clinician"]
    client.force_login(south_admin)
    own_url = reverse("admin:accounts_user_change", args=[south_clinician.pk])
    form = client.get(own_url)
    assert form.status_code == 200
    assert client.post(own_url, _change_form_data(form, first_name="Changed")).status_code == 302
    south_clinician.refresh_from_db()
    assert south_clinician.first_name == "Changed"
    url = reverse("admin:accounts_user_change", args=[clinician.pk])
    for response in (
        client.get(url),
        client.get(reverse("admin:accounts_user_history", args=[clinician.pk])),
        client.post(url, _change_form_data(form, username="clinician", first_name="Changed")),
    ):
        assert (response.status_code, response.url) == (302, reverse("admin:index"))
    clinician.refresh_from_db()
    assert clinician.first_name != "Changed"


def test_another_clinics_password_cannot_be_reset(client, world, south):
    """The other clinic's administrator resets their own clinician's password, but this clinic's clinician's
    password page is not found (404) and a posted new password is not set."""
    south_admin, south_clinician = south
    clinician = world.users["clinician"]
    new = "an entirely different long passphrase"
    data = {"password1": new, "password2": new, "usable_password": "true"}
    client.force_login(south_admin)
    own = client.post(reverse("admin:auth_user_password_change", args=[south_clinician.pk]), data)
    assert own.status_code == 302
    south_clinician.refresh_from_db()
    assert south_clinician.check_password(new)
    url = reverse("admin:auth_user_password_change", args=[clinician.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, data).status_code == 404
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)


def test_another_clinics_lockout_cannot_be_lifted(client, world, south, name_limit):
    """The lift action, given accounts of both clinics, lifts the other clinic's administrator's own clinician's
    lockout and leaves this clinic's clinician locked, with no audit event for them."""
    south_admin, south_clinician = south
    visitor = Client()
    for username in ("clinician", "south_clinician"):
        _fail_sign_ins(visitor, username, 10)
        assert visitor.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 429
    client.force_login(south_admin)
    selected = [world.users["clinician"].pk, south_clinician.pk]
    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "lift_lockout", "_selected_action": selected}
    )
    assert response.status_code == 302
    assert visitor.post(LOGIN, {"username": "south_clinician", "password": PASSWORD}).status_code == 302
    assert visitor.post(LOGIN, {"username": "clinician", "password": PASSWORD}).status_code == 429
    lifted = AuditEvent.objects.filter(action=Action.UPDATE, object_type="user")
    assert [event.object_id for event in lifted] == [str(south_clinician.external_id)]


def test_a_lockout_the_operator_lifts_is_in_the_accounts_clinics_trail(client, world, superuser, south, operator):
    """The operator (of no clinic) lifting this clinic's clinician's lockout with the list's action writes an event
    naming the clinician's clinic: this clinic's administrator reads it in their audit trail, the other clinic's
    administrator does not; a lockout a clinic's own administrator lifts names no clinic (their own says whose)."""
    south_admin, south_clinician = south
    visitor = Client()
    for username in ("clinician", "south_clinician"):
        _fail_sign_ins(visitor, username, 10)
    client.force_login(operator)
    changelist = reverse("admin:accounts_user_changelist")
    clinician = world.users["clinician"]
    assert client.post(changelist, {"action": "lift_lockout", "_selected_action": [clinician.pk]}).status_code == 302
    lifted = AuditEvent.objects.get(action=Action.UPDATE, object_type="user")
    assert (lifted.username, lifted.clinic_id) == ("operator", world.clinic.pk)

    def trail(administrator):
        client.force_login(administrator)
        listed = client.get(reverse("admin:audit_auditevent_changelist"), {"action__exact": Action.UPDATE})
        return [event.object_id for event in listed.context["cl"].result_list]

    assert trail(superuser) == [str(clinician.external_id)]
    assert trail(south_admin) == []
    client.force_login(south_admin)
    assert (
        client.post(changelist, {"action": "lift_lockout", "_selected_action": [south_clinician.pk]}).status_code == 302
    )
    assert AuditEvent.objects.get(action=Action.UPDATE, username="south_admin").clinic_id is None
    assert trail(south_admin) == [str(south_clinician.external_id)]


def test_a_clinics_administrator_cannot_move_an_account_to_another_clinic(client, world, south):
    """The clinic field offers the administrator's own clinic only and cannot be left empty: setting their own
    account, or their clinician's, to this clinic or to no clinic is refused and changes nothing."""
    south_admin, south_clinician = south
    client.force_login(south_admin)
    for account in (south_admin, south_clinician):
        url = reverse("admin:accounts_user_change", args=[account.pk])
        form = client.get(url)
        assert [pk for pk, _label in form.context["adminform"].form.fields["clinic"].choices] == [world.other_clinic.pk]
        for clinic in (world.clinic.pk, ""):
            response = client.post(url, _change_form_data(form, clinic=clinic))
            assert response.status_code == 200
            assert "clinic" in response.context["adminform"].form.errors
        account.refresh_from_db()
        assert account.clinic_id == world.other_clinic.pk


def test_an_account_added_by_a_clinics_administrator_is_in_their_clinic(client, world, south):
    """The add form has no clinic field; the account the other clinic's administrator adds is in that clinic."""
    client.force_login(south[0])
    new = "an entirely different long passphrase"
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "newcomer", "role": "nurse", "password1": new, "password2": new},
    )
    assert response.status_code == 302
    assert type(south[0]).objects.get(username="newcomer").clinic_id == world.other_clinic.pk


def test_the_operator_opens_every_account_and_chooses_any_clinic(client, world, south, operator):
    """The administrator of no clinic opens this clinic's clinician's page, with every clinic (or none) to choose."""
    client.force_login(operator)
    form = client.get(reverse("admin:accounts_user_change", args=[world.users["clinician"].pk]))
    assert form.status_code == 200
    choices = {pk for pk, _label in form.context["adminform"].form.fields["clinic"].choices}
    assert choices == {"", world.clinic.pk, world.other_clinic.pk}


def test_another_clinics_tokens_are_not_listed_or_revoked(client, world, south, operator):
    """The other clinic's administrator lists and revokes their clinician's token; this clinic's token is not
    listed, its page not opened, and the revoke action leaves it working. The operator lists both."""
    south_admin, south_clinician = south
    north_token, raw = ApiToken.issue(world.users["clinician"], "north script")
    south_token, south_raw = ApiToken.issue(south_clinician, "south script")
    client.force_login(south_admin)
    url = reverse("admin:accounts_apitoken_changelist")
    assert {token.name for token in client.get(url).context["cl"].result_list} == {"south script"}
    opened = client.get(reverse("admin:accounts_apitoken_change", args=[north_token.pk]))
    assert (opened.status_code, opened.url) == (302, reverse("admin:index"))
    client.post(url, {"action": "revoke", "_selected_action": [north_token.pk, south_token.pk]})
    assert ApiToken.user_for(south_raw) is None
    assert ApiToken.user_for(raw) == world.users["clinician"]
    client.force_login(operator)
    assert {token.name for token in client.get(url).context["cl"].result_list} == {"north script", "south script"}


def test_another_clinics_authenticators_are_not_listed_or_deleted(client, world, device, south, operator):
    """The other clinic's administrator lists and deletes their clinician's device; this clinic's device is not
    listed, and deleting it is refused as a missing object, leaving it in place. The operator lists both."""
    south_admin, south_clinician = south
    south_device = TOTPDevice.objects.create(user=south_clinician, name="South phone", confirmed=True)
    client.force_login(south_admin)
    url = reverse("admin:otp_totp_totpdevice_changelist")
    assert {d.name for d in client.get(url).context["cl"].result_list} == {"South phone"}
    refused = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert (refused.status_code, refused.url) == (302, reverse("admin:index"))
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client.force_login(operator)
    assert {d.name for d in client.get(url).context["cl"].result_list} == {"Authenticator app", "South phone"}
    client.force_login(south_admin)
    deleted = client.post(reverse("admin:otp_totp_totpdevice_delete", args=[south_device.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert not TOTPDevice.objects.filter(pk=south_device.pk).exists()


def test_a_clinics_administrator_sees_and_renames_only_their_own_clinic(client, world, superuser):
    """An administrator of a clinic lists and opens their own clinic only, cannot add or delete clinics, and cannot
    rename another clinic; the operator (of no clinic) can do all of it."""
    client.force_login(superuser)
    listing = client.get(reverse("admin:accounts_clinic_changelist")).content.decode()
    assert world.clinic.name in listing
    assert world.other_clinic.name not in listing
    assert client.get(reverse("admin:accounts_clinic_add")).status_code == 403
    other = reverse("admin:accounts_clinic_change", args=[world.other_clinic.pk])
    client.post(other, {"name": "Taken Over"})
    world.other_clinic.refresh_from_db()
    assert world.other_clinic.name != "Taken Over"
    assert (
        client.post(reverse("admin:accounts_clinic_delete", args=[world.clinic.pk]), {"post": "yes"}).status_code == 403
    )
    type(superuser).objects.filter(pk=superuser.pk).update(clinic=None)
    client.force_login(type(superuser).objects.get(pk=superuser.pk))
    listing = client.get(reverse("admin:accounts_clinic_changelist")).content.decode()
    assert world.other_clinic.name in listing
    assert client.get(reverse("admin:accounts_clinic_add")).status_code == 200


def test_a_clinics_administrator_sets_their_clinics_site_of_service(client, world, superuser):
    """The clinic's page in the admin shows its site of service (a hospital outpatient department unless changed);
    the clinic's administrator changes it to a physician's office, and the change is in the audit trail."""
    client.force_login(superuser)
    url = reverse("admin:accounts_clinic_change", args=[world.clinic.pk])
    form = client.get(url)
    field = form.context["adminform"].form.fields["site_of_service"]
    assert [value for value, _label in field.choices] == [SiteOfService.OFFICE, SiteOfService.HOSPITAL_OUTPATIENT]
    assert form.context["adminform"].form["site_of_service"].value() == SiteOfService.HOSPITAL_OUTPATIENT
    assert client.post(url, _change_form_data(form, site_of_service=SiteOfService.OFFICE)).status_code == 302
    world.clinic.refresh_from_db()
    assert world.clinic.site_of_service == SiteOfService.OFFICE
    event = AuditEvent.objects.filter(object_type="accounts.clinic").get()
    assert event.detail == "admin: changed accounts.clinic (Site of service)"
    listing = client.get(reverse("admin:accounts_clinic_changelist")).content.decode()
    assert "Physician&#x27;s office" in listing


def test_account_changes_in_the_admin_are_in_onaboards_audit_trail(client, world, superuser):
    """A password set for someone else, an account made inactive, a role changed and an account added in the user
    admin are each in onaboard's audit trail (audit/admin_trail.py), naming the changed fields (and the role an account
    now has, which the field name alone does not say) and never the new password; saving
    the page unchanged names no field (date joined and last login are read-only facts: the form reported every save
    as changing the date joined)."""
    nurse = world.users["nurse"]
    client.force_login(superuser)
    new = "an entirely different long passphrase"
    passwords = {"password1": new, "password2": new, "usable_password": "true"}
    response = client.post(reverse("admin:auth_user_password_change", args=[nurse.pk]), passwords)
    assert response.status_code == 302
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    assert client.post(url, _change_form_data(client.get(url))).status_code == 302
    data = _change_form_data(client.get(url))
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    data = _change_form_data(client.get(url), role="clinician")
    assert client.post(url, data).status_code == 302
    passwords.pop("usable_password")
    added = client.post(reverse("admin:accounts_user_add"), {"username": "newcomer", "role": "nurse", **passwords})
    assert added.status_code == 302
    events = AuditEvent.objects.filter(object_type="accounts.user", username="admin").order_by("id")
    assert [(event.action, event.object_id, event.detail) for event in events] == [
        (Action.UPDATE, str(nurse.external_id), "admin: changed accounts.user (password)"),
        (Action.UPDATE, str(nurse.external_id), "admin: changed accounts.user"),
        (Action.UPDATE, str(nurse.external_id), "admin: changed accounts.user (Active)"),
        (Action.UPDATE, str(nurse.external_id), "admin: changed accounts.user (Role); role now clinician"),
        (
            Action.CREATE,
            str(type(nurse).objects.get(username="newcomer").external_id),
            "admin: added accounts.user; role now nurse",
        ),
    ]
    assert all(new not in event.detail for event in events)


def test_admin_changes_to_a_patients_portal_login_are_in_the_patients_trail(client, world, superuser):
    """Setting the password of a patient's portal login, unticking its Active and lifting its lockout in the admin,
    and the revocations of its API tokens they bring, each write an event naming that patient, as reading the
    account does; the account itself has no patient field."""
    login, patient = world.users["patient"], world.own_patient
    client.force_login(superuser)
    ApiToken.issue(login, "phone")
    new = "an entirely different long passphrase"
    passwords = {"password1": new, "password2": new, "usable_password": "true"}
    assert client.post(reverse("admin:auth_user_password_change", args=[login.pk]), passwords).status_code == 302
    ApiToken.issue(login, "tablet")
    url = reverse("admin:accounts_user_change", args=[login.pk])
    data = _change_form_data(client.get(url))
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    changelist = reverse("admin:accounts_user_changelist")
    assert client.post(changelist, {"action": "lift_lockout", "_selected_action": [login.pk]}).status_code == 302
    changes = AuditEvent.objects.filter(username="admin", action=Action.UPDATE)
    assert sorted(event.object_type for event in changes) == [
        "accounts.user",  # the password
        "accounts.user",  # Active
        "api_token",
        "api_token",
        "user",  # the lockout lifted
    ]
    assert {event.patient_id for event in changes} == {patient.external_id}


# --- Who grants admin powers and roles -----------------------------------------------------------------------------


def _post_changes(client, account, **changes):
    """Post ``account``'s admin change form as it stands with ``changes`` applied; the response."""
    url = reverse("admin:accounts_user_change", args=[account.pk])
    return client.post(url, _change_form_data(client.get(url), **changes))


def test_a_clinics_administrator_cannot_change_their_own_role_or_powers(client, world, superuser):
    """A clinic's administrator posting their own account with the Clinician role, no staff or superuser status and
    every permission saves (the page's other fields change) yet keeps the Administrator role and the admin powers
    the operator gave: clinical pages stay refused to them (404, as to anyone without the clinical view)."""
    client.force_login(superuser)
    response = _post_changes(
        client,
        superuser,
        first_name="Changed",
        role=Role.CLINICIAN,
        user_permissions=list(Permission.objects.values_list("pk", flat=True)[:3]),
    )
    assert response.status_code == 302
    superuser.refresh_from_db()
    assert (superuser.first_name, superuser.role, superuser.is_staff, superuser.is_superuser) == (
        "Changed",
        Role.ADMIN,
        True,
        True,
    )
    assert not superuser.user_permissions.exists()
    assert client.get(reverse("patients:safety_edit", args=[world.same_clinic_patient.external_id])).status_code == 404


def test_a_clinics_administrator_grants_no_admin_powers(client, world, superuser):
    """A clinic's administrator posting staff status, superuser status, a group or a permission on a colleague's
    account changes none of them: admin powers are the operator's to give (the billing clerk gets no admin site, no
    audit trail)."""
    billing = world.users["billing"]
    group = Group.objects.create(name="auditors")
    client.force_login(superuser)
    response = _post_changes(
        client,
        billing,
        is_staff="on",
        is_superuser="on",
        groups=[group.pk],
        user_permissions=list(Permission.objects.values_list("pk", flat=True)[:3]),
    )
    assert response.status_code == 302
    billing.refresh_from_db()
    assert (billing.is_staff, billing.is_superuser) == (False, False)
    assert not billing.groups.exists()
    assert not billing.user_permissions.exists()


def test_a_clinics_administrator_sets_a_colleagues_role(client, world, superuser):
    """A clinic's administrator still sets a colleague's role (the nurse made billing staff), their daily work."""
    nurse = world.users["nurse"]
    client.force_login(superuser)
    assert _post_changes(client, nurse, role=Role.BILLING).status_code == 302
    nurse.refresh_from_db()
    assert nurse.role == Role.BILLING


def test_a_clinics_administrator_cannot_change_a_fellow_administrators_role(client, world, superuser):
    """The role of an account with admin powers (a second administrator of the clinic) stays as the operator set
    it: a clinic's administrator making it a clinician would give one account both the admin and the clinical
    pages."""
    second = UserFactory(
        username="second_admin", role=Role.ADMIN, clinic=world.clinic, is_staff=True, is_superuser=True
    )
    client.force_login(superuser)
    assert _post_changes(client, second, role=Role.CLINICIAN).status_code == 302
    second.refresh_from_db()
    assert (second.role, second.is_staff, second.is_superuser) == (Role.ADMIN, True, True)


@pytest.fixture
def second_admin(world, name_limit):
    """A second administrator of the clinic (staff and superuser, as ``create_clinic_admin`` makes one), locked out
    by 10 wrong passwords."""
    second = UserFactory(
        username="second_admin", role=Role.ADMIN, clinic=world.clinic, is_staff=True, is_superuser=True
    )
    _fail_sign_ins(Client(), "second_admin", 10)
    second.refresh_from_db()
    assert second.locked_until is not None
    return second


def _fellow_changes_tried(client, account):
    """As the signed-in administrator, try to set ``account``'s password, untick its Active, clear its "Locked
    until" and lift its lockout with the list's action; the password page's and the action's responses."""
    new = "an entirely different long passphrase"
    password_page = reverse("admin:auth_user_password_change", args=[account.pk])
    password = client.post(password_page, {"password1": new, "password2": new})
    url = reverse("admin:accounts_user_change", args=[account.pk])
    data = _change_form_data(client.get(url), locked_until_0="", locked_until_1="")
    data.pop("is_active", None)
    assert client.post(url, data).status_code == 302
    changelist = reverse("admin:accounts_user_changelist")
    lifted = client.post(changelist, {"action": "lift_lockout", "_selected_action": [account.pk]}, follow=True)
    return password, lifted


def test_a_clinics_administrator_cannot_reset_deactivate_or_unlock_a_fellow_administrator(
    client, world, superuser, second_admin
):
    """A clinic's administrator is refused (403) the password page of a fellow administrator of the clinic, and
    finds its Active and "Locked until" read-only and the lift action leaving it locked: they could otherwise sign
    in as that administrator or shut them out. Nothing changes and nothing is audited as changed."""
    from onaboard.web.accounts.admin import FELLOW_LOCKOUTS_KEPT

    client.force_login(superuser)
    form = client.get(reverse("admin:accounts_user_change", args=[second_admin.pk])).context["adminform"].form
    assert {"is_active", "locked_until"}.isdisjoint(form.fields)
    password, lifted = _fellow_changes_tried(client, second_admin)
    assert password.status_code == 403
    assert escape(str(FELLOW_LOCKOUTS_KEPT % {"count": 1})) in lifted.content.decode()
    before = second_admin.password, second_admin.locked_until
    second_admin.refresh_from_db()
    assert (second_admin.password, second_admin.locked_until, second_admin.is_active) == (*before, True)
    changes = AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(second_admin.external_id))
    assert [event.detail for event in changes] == ["admin: changed accounts.user"]  # the page saved, nothing changed


def test_the_operator_resets_deactivates_and_unlocks_a_clinics_administrator(client, world, operator, second_admin):
    """The operator, of no clinic, sets a clinic's administrator's password, unticks their Active and lifts their
    lockout: the same tries a clinic's administrator is refused all take effect."""
    client.force_login(operator)
    password, lifted = _fellow_changes_tried(client, second_admin)
    assert password.status_code == 302
    assert lifted.status_code == 200
    before = second_admin.password
    second_admin.refresh_from_db()
    assert second_admin.password != before
    assert (second_admin.locked_until, second_admin.is_active) == (None, False)


def test_a_clinics_administrator_still_resets_and_unlocks_a_colleague_without_admin_powers(
    client, world, superuser, name_limit
):
    """The same tries on a nurse (no admin powers) all take effect for a clinic's administrator: their daily work."""
    nurse = world.users["nurse"]
    _fail_sign_ins(Client(), "nurse", 10)
    client.force_login(superuser)
    password, _lifted = _fellow_changes_tried(client, nurse)
    assert password.status_code == 302
    before = nurse.password
    nurse.refresh_from_db()
    assert nurse.password != before
    assert (nurse.locked_until, nurse.is_active) == (None, False)


def test_the_operator_grants_admin_powers_but_not_to_themself(client, world, operator):
    """The administrator of no clinic gives a clinic's account staff and superuser status and changes a fellow
    administrator's role; their own role and powers are read-only to them too."""
    billing = world.users["billing"]
    client.force_login(operator)
    assert _post_changes(client, billing, is_staff="on", is_superuser="on", role=Role.ADMIN).status_code == 302
    billing.refresh_from_db()
    assert (billing.role, billing.is_staff, billing.is_superuser) == (Role.ADMIN, True, True)
    data = _change_form_data(client.get(reverse("admin:accounts_user_change", args=[operator.pk])))
    data.pop("is_superuser", None)
    response = client.post(reverse("admin:accounts_user_change", args=[operator.pk]), {**data, "role": Role.NURSE})
    assert response.status_code == 302
    operator.refresh_from_db()
    assert (operator.role, operator.is_superuser) == (Role.ADMIN, True)


# --- A change form saved over a change made meanwhile, and other slips the form refuses -----------------------------


def test_a_change_form_opened_before_a_lockout_is_refused_not_saved_over_it(client, world, superuser, name_limit):
    """The page was opened before 10 wrong passwords locked the account: saving it (the old, empty "Locked until"
    posted back) is refused as changed meanwhile, and the lockout holds; opened again, the clearing lifts it."""
    from onaboard.web.accounts.admin import ACCOUNT_CHANGED

    nurse = world.users["nurse"]
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    stale = client.get(url)
    visitor = Client()
    _fail_sign_ins(visitor, "nurse", 10)
    response = client.post(url, _change_form_data(stale, first_name="Nora"))
    assert response.status_code == 200
    assert str(ACCOUNT_CHANGED) in response.context["adminform"].form.non_field_errors()
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 429
    nurse.refresh_from_db()
    assert nurse.first_name != "Nora"
    fresh = client.get(url)
    assert client.post(url, _change_form_data(fresh, locked_until_0="", locked_until_1="")).status_code == 302
    assert visitor.post(LOGIN, {"username": "nurse", "password": PASSWORD}).status_code == 302


def test_a_change_form_opened_before_a_deactivation_does_not_tick_active_again(client, world, superuser):
    """An account made inactive (a closed portal login, a leaver) while another page on it was open stays inactive
    when that page is saved."""
    nurse = world.users["nurse"]
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    stale = client.get(url)
    type(nurse).objects.filter(pk=nurse.pk).update(is_active=False)
    assert client.post(url, _change_form_data(stale)).status_code == 200
    nurse.refresh_from_db()
    assert not nurse.is_active


def test_a_patients_portal_login_keeps_the_patient_role_while_linked(client, world, superuser):
    """Giving a staff role to the login of a patient's record (which would open every patient's clinical record to
    the patient) is refused at the role, naming the way: unlink it first."""
    from onaboard.web.accounts.admin import PORTAL_LOGIN_ROLE

    login = world.users["patient"]
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[login.pk])
    response = client.post(url, _change_form_data(client.get(url), role="nurse"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == [str(PORTAL_LOGIN_ROLE)]
    login.refresh_from_db()
    assert login.role == Role.PATIENT


def test_a_user_name_another_account_has_in_other_capitals_is_refused_on_the_change_form(client, world, superuser):
    """Renaming an account to another's name in capitals is refused, as the add form refuses it: sign-in limits
    count the name so."""
    nurse = world.users["nurse"]
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[nurse.pk])
    response = client.post(url, _change_form_data(client.get(url), username="CLINICIAN"))
    assert "username" in response.context["adminform"].form.errors
    nurse.refresh_from_db()
    assert nurse.username == "nurse"


def test_an_administrator_cannot_deactivate_themself_or_delete_their_own_authenticator(client, world, south):
    """A clinic's administrator's own Active box is read-only (unticking it shut out the clinic's only administrator,
    and the repair command refused them), and their own authenticator is not deleted here: that needs a current
    code, on Two-step sign-in. A colleague's lost phone still is."""
    admin_user, clinician = south
    client.force_login(admin_user)
    own_url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    form = client.get(own_url).context["adminform"].form
    assert "is_active" not in form.fields
    own = TOTPDevice.objects.create(user=admin_user, name="Own phone", confirmed=True)
    theirs = TOTPDevice.objects.create(user=clinician, name="Lost phone", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = own.persistent_id  # signed in with the code, as the admin needs
    session.save()
    assert client.post(reverse("admin:otp_totp_totpdevice_delete", args=[own.pk]), {"post": "yes"}).status_code == 403
    changelist = reverse("admin:otp_totp_totpdevice_changelist")
    both = {"action": "delete_selected", "_selected_action": [own.pk, theirs.pk], "post": "yes"}
    assert client.post(changelist, both).status_code == 403
    assert TOTPDevice.objects.count() == 2
    client.post(changelist, {**both, "_selected_action": [theirs.pk]})
    assert list(TOTPDevice.objects.values_list("name", flat=True)) == ["Own phone"]


def test_an_account_is_added_with_a_role_and_a_password_only(client, world, superuser):
    """The add form asks for the role (an account without one reaches no page) and offers no "password-based
    authentication: disabled" choice, nor does setting someone's password: onaboard has no other sign-in."""
    client.force_login(superuser)
    add = client.get(reverse("admin:accounts_user_add"))
    assert add.context["adminform"].form.fields["role"].required
    assert "usable_password" not in add.context["adminform"].form.fields
    new = "an entirely different long passphrase"
    refused = client.post(
        reverse("admin:accounts_user_add"), {"username": "roleless", "password1": new, "password2": new}
    )
    assert "role" in refused.context["adminform"].form.errors
    password = client.get(reverse("admin:auth_user_password_change", args=[world.users["nurse"].pk]))
    assert "usable_password" not in password.context["form"].fields


def test_listing_or_opening_a_patients_portal_account_is_audited_as_a_read_of_the_patient(client, world, superuser):
    """A patient's portal account shows their name, email and last sign-in: the Users list found by their name and
    the account's page each write a READ of that patient naming the account, as the Patients pages audit theirs; a
    staff account read writes none."""
    patient = world.own_patient
    account = patient.user
    client.force_login(superuser)
    listed = client.get(reverse("admin:accounts_user_changelist"), {"q": account.username})
    assert listed.status_code == 200
    client.get(reverse("admin:accounts_user_change", args=[account.pk]))
    client.get(reverse("admin:accounts_user_change", args=[world.users["nurse"].pk]))
    reads = AuditEvent.objects.filter(action=Action.READ, username="admin").order_by("pk")
    assert [(e.object_type, e.object_id, e.patient_id, e.detail) for e in reads] == [
        ("accounts.user", str(account.pk), patient.external_id, "admin: listed"),
        ("accounts.user", str(account.pk), patient.external_id, "admin: viewed"),
    ]
