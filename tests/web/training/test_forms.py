"""What the training forms read from what was typed (onaboard/web/training/forms.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from onaboard.web.accounts.models import Role, User
from onaboard.web.training import services
from onaboard.web.training.forms import (
    DATE_BEFORE_SESSION,
    MARKED_ABSENT,
    NOT_ENROLLED,
    NOTES_IDENTIFIER,
    LiveSessionForm,
    SupervisedInjectionForm,
)
from onaboard.web.training.models import (
    MAX_SESSION_MINUTES,
    MIN_SESSION_MINUTES,
    SESSION_TOO_LONG,
    SESSION_TOO_SHORT,
    Enrolment,
    EnrolmentStatus,
    LiveSession,
)
from tests.web.factories import UserFactory
from tests.web.training.conftest import live_session


def _session(starts_at: str) -> dict[str, str]:
    return {"title": "Injection workshop", "starts_at": starts_at, "place": "Room 2", "capacity": "8", "notes": ""}


def test_a_session_start_is_read_year_first_and_never_guessed_from_slashes(db):
    """The picker's 2031-04-03T10:00 is read; 03/04/2031 10:00 (3 April or 4 March?) is refused, not guessed."""
    picked = LiveSessionForm(_session("2031-04-03T10:00"))
    assert "starts_at" not in picked.errors
    assert picked.cleaned_data["starts_at"].month == 4
    assert "starts_at" in LiveSessionForm(_session("03/04/2031 10:00")).errors


def _log(world, notes: str, **changes: object) -> SupervisedInjectionForm:
    trainees = User.objects.filter(pk=world.users["trainee"].pk)
    data = {"trainee": world.users["trainee"].pk, "date": "2026-01-05", "notes": notes, **changes}
    return SupervisedInjectionForm(data, trainees=trainees, sessions=LiveSession.objects.all())


def test_the_supervised_log_names_trainees_by_full_name_or_else_username(world):
    """The trainee dropdown shows a trainee's full name, or the username of one who gave no name."""
    named = UserFactory(username="tam", first_name="Tam", last_name="Oyelaran", role=Role.TRAINEE, clinic=world.clinic)
    unnamed = UserFactory(username="sol", first_name="", last_name="", role=Role.TRAINEE, clinic=world.clinic)
    trainees = User.objects.filter(pk__in=[named.pk, unnamed.pk]).order_by("first_name")
    form = SupervisedInjectionForm(trainees=trainees, sessions=LiveSession.objects.all())
    labels = [label for value, label in form.fields["trainee"].choices if value]
    assert labels == [unnamed.username, "Tam Oyelaran"]


@pytest.mark.parametrize(
    "notes",
    [
        "patient Jane Doe MRN 12345",
        "mrn:4471203",
        "NHS no. 943 476 5919",
        "hospital number 44712",
        "Patient # 2231, full session",
        "ref 20391847",
    ],
)
def test_supervised_notes_with_a_record_number_are_refused(world, notes):
    """Notes carrying a record-number-like token or a long run of digits are refused with the reason."""
    form = _log(world, notes)
    assert form.errors["notes"] == [str(NOTES_IDENTIFIER)]


@pytest.mark.parametrize(
    "notes",
    [
        "Observed a full 155 U session; drew up and labelled syringes.",
        "Gave the patient 195 U with 8 follow-the-pain sites on 2026-01-05, 2 x 100 U vials.",
        "",
    ],
)
def test_supervised_notes_with_doses_counts_and_dates_are_kept(world, notes):
    """Doses, counts and a dated remark are not mistaken for identifiers."""
    form = _log(world, notes)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["notes"] == notes


HELD_START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _held_session(world, *, enrol: bool = True) -> LiveSession:
    """A session held on 5 Jan 2026, the trainee enrolled in it (unless ``enrol`` is false)."""
    session = live_session(world.users["clinician"])
    if enrol:
        services.enrolment_create(session=session, trainee=world.users["trainee"])
    LiveSession.objects.filter(pk=session.pk).update(starts_at=HELD_START)
    session.refresh_from_db()
    return session


def test_a_supervised_injection_at_a_session_is_not_dated_before_it(world):
    """Logged against a session held on 5 Jan 2026, 1 Jan 1900 (or 4 Jan 2026) is refused naming the session's day;
    the session's day and a later one are kept."""
    session = _held_session(world)
    for day in ("1900-01-01", "2026-01-04"):
        form = _log(world, "", date=day, session=session.pk)
        assert form.errors == {"date": [DATE_BEFORE_SESSION.format(day="5 Jan 2026")]}, day
    for day in ("2026-01-05", "2026-01-06"):
        assert _log(world, "", date=day, session=session.pk).is_valid(), day


def test_a_supervised_injection_at_a_session_needs_the_trainee_to_have_held_a_place_there(world):
    """A trainee not on the session's list, or only on its waitlist, is refused for that session; one marked absent
    is refused as absent; the same log without a session is kept."""
    session = _held_session(world, enrol=False)
    assert _log(world, "", session=session.pk).errors == {"session": [str(NOT_ENROLLED)]}
    place = Enrolment.objects.create(
        session=session, trainee=world.users["trainee"], status=EnrolmentStatus.WAITLISTED, queued_at=HELD_START
    )
    assert _log(world, "", session=session.pk).errors == {"session": [str(NOT_ENROLLED)]}
    Enrolment.objects.filter(pk=place.pk).update(status=EnrolmentStatus.ENROLLED, attended=False)
    assert _log(world, "", session=session.pk).errors == {"session": [str(MARKED_ABSENT)]}
    Enrolment.objects.filter(pk=place.pk).update(attended=True)
    assert _log(world, "", session=session.pk).is_valid()
    assert _log(world, "").is_valid()


def _session_lasting(minutes: str) -> LiveSessionForm:
    return LiveSessionForm({**_session("2031-04-03T10:00"), "duration_minutes": minutes})


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("0", SESSION_TOO_SHORT % {"limit_value": MIN_SESSION_MINUTES}),
        (str(MIN_SESSION_MINUTES - 1), SESSION_TOO_SHORT % {"limit_value": MIN_SESSION_MINUTES}),
        (str(MAX_SESSION_MINUTES + 1), SESSION_TOO_LONG % {"limit_value": MAX_SESSION_MINUTES}),
        ("100000000", SESSION_TOO_LONG % {"limit_value": MAX_SESSION_MINUTES}),
    ],
)
def test_a_live_session_lasting_no_time_or_for_ever_is_refused(db, minutes, message):
    """A session of 0 minutes or of 100,000,000 minutes (190 years) is refused with a message giving the limit."""
    form = _session_lasting(minutes)
    assert form.errors["duration_minutes"] == [message]


@pytest.mark.parametrize("minutes", [MIN_SESSION_MINUTES, MAX_SESSION_MINUTES])
def test_a_live_session_from_a_quarter_hour_to_a_day_is_accepted(db, minutes):
    """The shortest and the longest session the form takes are accepted."""
    form = _session_lasting(str(minutes))
    assert "duration_minutes" not in form.errors
    assert form.cleaned_data["duration_minutes"] == minutes
