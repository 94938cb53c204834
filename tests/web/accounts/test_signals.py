"""Sign-ins in the audit trail (onaboard/web/accounts/signals.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate

from onaboard.web.accounts.signals import UNKNOWN_USER_NAME
from onaboard.web.audit.models import Action, AuditEvent
from tests.web.factories import PASSWORD


def test_a_sign_in_is_recorded_with_who(client, world):
    """Signing in records the user, their role and how they signed in."""
    client.post("/accounts/login/", {"username": "billing", "password": PASSWORD})
    event = AuditEvent.objects.get(action=Action.LOGIN)
    assert (event.username, event.role, event.detail) == ("billing", "billing", "password")


def test_a_failure_names_the_account_tried_but_no_password(world):
    """A failed sign-in records the name tried and links the account, never the password."""
    authenticate(None, username="nurse", password="guess-1")
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.detail == "nurse"
    assert event.object_id == str(world.users["nurse"].external_id)
    assert "guess-1" not in event.detail


def test_the_failure_that_locks_the_account_says_so(world):
    """The failure that reaches the limit is recorded as locking the account."""
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        authenticate(None, username="nurse", password=f"guess-{attempt}")
    details = list(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).values_list("detail", flat=True))
    assert details[0] == "nurse (account locked)"
    assert details[1:] == ["nurse"] * (settings.LOGIN_FAILURE_LIMIT - 1)


def test_an_unknown_name_is_recorded_as_such_never_as_typed(world):
    """A try under a name no account has is recorded with no account linked and the fixed note in place of the text
    typed (a password typed into the name field stays out of the trail); a try under an existing account's name, in
    the same way, keeps the name."""
    typed = "correct-horse-battery"
    authenticate(None, username=typed, password="x")
    authenticate(None, username="nurse", password="x")
    unknown, known = AuditEvent.objects.filter(action=Action.LOGIN_FAILED).order_by("pk")
    assert (unknown.detail, unknown.object_id) == (UNKNOWN_USER_NAME, "")
    assert not AuditEvent.objects.filter(detail__contains=typed).exists()
    assert (known.detail, known.object_id) == ("nurse", str(world.users["nurse"].external_id))


def test_a_failure_on_a_patients_portal_login_is_in_the_patients_trail(world):
    """Tries on a patient's portal login name the patient (as the admin's changes to that login do), so the clinic
    finds them on the patient's record; a staff account's tries name no patient."""
    authenticate(None, username="patient", password="guess-1")
    authenticate(None, username="nurse", password="guess-1")
    patients = dict(AuditEvent.objects.filter(action=Action.LOGIN_FAILED).values_list("detail", "patient_id"))
    assert patients == {"patient": world.own_patient.external_id, "nurse": None}
