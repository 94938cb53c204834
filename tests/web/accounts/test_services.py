"""Setting up two-step sign-in, issuing API tokens and lifting lockouts (onaboard/web/accounts/services.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import ApiToken
from onaboard.web.accounts.ratelimit import account_subject, rate_limit_hit, rate_limit_peek
from onaboard.web.accounts.services import (
    NO_DEVICE,
    THROTTLED,
    WRONG_CODE,
    OtpCodeError,
    account_lockout_lift,
    api_token_issue,
    api_token_revoke,
    api_tokens_revoke_all,
    otp_code_check,
    otp_device_confirm,
    otp_device_enrol,
    otp_device_remove,
)
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.accounts.conftest import totp_code, wrong_code


def test_enrolling_creates_an_unconfirmed_device(world):
    """Starting the set-up creates one unconfirmed device and audits it."""
    device = otp_device_enrol(user=world.users["billing"])
    assert not device.confirmed
    assert AuditEvent.objects.get(object_type="otp_device").action == Action.CREATE


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_only_staff_can_enrol(world, role):
    """Patients and trainees cannot set up a device."""
    with pytest.raises(PermissionError):
        otp_device_enrol(user=world.users[role])
    assert not TOTPDevice.objects.exists()


def test_a_confirmed_user_cannot_enrol_again(enrolled):
    """With two-step sign-in on, a second set-up is refused until the first is turned off."""
    clinician, _device = enrolled
    with pytest.raises(PermissionError):
        otp_device_enrol(user=clinician)


def test_confirming_needs_the_current_code(world, no_throttle):
    """A wrong first code raises and leaves the device unconfirmed; the current code confirms it."""
    nurse = world.users["nurse"]
    device = otp_device_enrol(user=nurse)
    with pytest.raises(OtpCodeError) as refused:
        otp_device_confirm(user=nurse, code=wrong_code(device))
    assert refused.value.message == WRONG_CODE
    assert otp_device_confirm(user=nurse, code=totp_code(device)).confirmed


def test_confirming_without_a_set_up_is_refused(world):
    """There is nothing to confirm before a set-up was started."""
    with pytest.raises(OtpCodeError) as refused:
        otp_device_confirm(user=world.users["nurse"], code="123456")
    assert refused.value.message == NO_DEVICE


def test_a_wrong_code_is_audited_and_slows_the_next_try(enrolled):
    """A wrong sign-in code is audited, and an immediate retry is refused as throttled even if right."""
    clinician, device = enrolled
    with pytest.raises(OtpCodeError):
        otp_code_check(user=clinician, code=wrong_code(device))
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, object_type="otp_device").count() == 1
    with pytest.raises(OtpCodeError) as refused:
        otp_code_check(user=clinician, code=totp_code(device))
    assert refused.value.message == THROTTLED


def test_a_code_is_accepted_once(enrolled, no_throttle):
    """The same code cannot be used twice (django-otp keeps the last accepted time step)."""
    clinician, device = enrolled
    code = totp_code(device)
    assert otp_code_check(user=clinician, code=code) == device
    with pytest.raises(OtpCodeError):
        otp_code_check(user=clinician, code=code)


def test_removing_deletes_the_devices_and_audits(enrolled):
    """Turning it off with the current code deletes the device and records it."""
    clinician, device = enrolled
    otp_device_remove(user=clinician, code=totp_code(device))
    assert not TOTPDevice.objects.filter(user=clinician).exists()
    assert AuditEvent.objects.filter(action=Action.DELETE, object_type="otp_device").exists()


def test_issuing_a_token_is_audited_without_its_secret(world):
    """Issuing records which token was made for whom, never the secret."""
    token, raw = api_token_issue(owner=world.users["clinician"], name="reporting", issued_by=None)
    event = AuditEvent.objects.get(object_type="api_token")
    assert event.object_id == str(token.external_id)
    assert raw not in event.detail
    assert "clinician" in event.detail


def test_revoking_a_token_stops_it_and_is_audited(world):
    """A revoked token no longer authenticates and the revocation is recorded with who did it."""
    token, raw = api_token_issue(owner=world.users["clinician"], name="reporting")
    api_token_revoke(token=token, revoked_by=world.users["admin"])
    assert ApiToken.user_for(raw) is None
    event = AuditEvent.objects.get(object_type="api_token", action=Action.UPDATE)
    assert event.username == "admin"


def test_lifting_a_lockout_clears_the_lock_and_the_names_counters_only(world):
    """Lifting clears the account's lock and failure count and the failures counted for its name (any case), not the
    client addresses' counters; it is audited with who lifted it."""
    nurse = world.users["nurse"]
    type(nurse).objects.filter(pk=nurse.pk).update(failed_logins=3, locked_until=timezone.now() + timedelta(hours=1))
    rate_limit_hit("login_account", account_subject(" Nurse "))
    rate_limit_hit("login_address", "10.0.0.1")
    assert account_lockout_lift(user=nurse, lifted_by=world.users["admin"]) == 1
    assert (nurse.failed_logins, nurse.locked_until, nurse.is_locked()) == (0, None, False)
    assert rate_limit_peek("login_account", "nurse").count == 0
    assert rate_limit_peek("login_address", "10.0.0.1").count == 1
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="user")
    assert (event.username, event.object_id) == ("admin", str(nurse.external_id))


def test_revoking_a_users_tokens_stops_each_live_one_and_audits_each(world):
    """Every live token of the user is revoked and each revocation is an audit event saying why and who; tokens
    already revoked or expired are left as they are, and other users' tokens keep working."""
    clinician = world.users["clinician"]
    _first, first_raw = api_token_issue(owner=clinician, name="reporting")
    _second, second_raw = api_token_issue(owner=clinician, name="backup")
    done, _done_raw = api_token_issue(owner=clinician, name="old")
    api_token_revoke(token=done, revoked_by=None)
    spent, _spent_raw = api_token_issue(owner=clinician, name="spent")
    ApiToken.objects.filter(pk=spent.pk).update(expires=timezone.now() - timedelta(days=1))
    _other, other_raw = api_token_issue(owner=world.users["nurse"], name="tablet")
    revoked = api_tokens_revoke_all(user=clinician, revoked_by=world.users["admin"], reason="password changed")
    assert revoked == 2
    assert ApiToken.user_for(first_raw) is None
    assert ApiToken.user_for(second_raw) is None
    assert ApiToken.user_for(other_raw) == world.users["nurse"]
    events = AuditEvent.objects.filter(object_type="api_token", action=Action.UPDATE, username="admin")
    assert sorted(event.detail.split("'")[1] for event in events) == ["backup", "reporting"]
    assert all(event.detail.endswith("revoked: password changed") for event in events)
    assert not ApiToken.objects.get(pk=spent.pk).revoked


def test_events_about_a_patients_login_name_the_patient(world):
    """Issuing and revoking an API token of a patient's portal login and lifting its lockout each write an event
    naming that patient (the account has no patient field: the patient is the one whose login it is), so the
    patient's trail shows them; the same done to a staff account names no patient."""
    for owner, patient_id in ((world.users["patient"], world.own_patient.external_id), (world.users["nurse"], None)):
        token, _raw = api_token_issue(owner=owner, name="phone", issued_by=world.users["admin"])
        api_token_revoke(token=token, revoked_by=world.users["admin"])
        account_lockout_lift(user=owner, lifted_by=world.users["admin"])
        events = AuditEvent.objects.filter(object_id__in=[str(token.external_id), str(owner.external_id)])
        assert sorted((event.action, event.object_type) for event in events) == [
            (Action.CREATE, "api_token"),
            (Action.UPDATE, "api_token"),
            (Action.UPDATE, "user"),
        ]
        assert {event.patient_id for event in events} == {patient_id}
