"""Marking a recorded session entered in error (services.injection_session_mark_in_error), and what leaves it out
from then on: the treatment history, the pages, the API, the worklist, the calendar feed, the exports and imports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from onaboard.web.accounts.models import ApiToken
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections import selectors, services
from onaboard.web.injections.models import ERROR_REASON_MAX_LENGTH, InjectionSession, SessionStatus, SideEffect
from onaboard.web.interop.selectors import patient_record, table_csv_export
from onaboard.web.interop.services import SESSION_IN_ERROR, DiaryCsvInvalidError, table_csv_import
from tests.web.injections.conftest import TODAY, record

FIRST = dt.date(2026, 1, 5)
SECOND = dt.date(2026, 3, 30)  # 12 weeks after FIRST
WRONG = "recorded for the wrong patient"


@pytest.fixture
def clinician(world):
    return world.users["clinician"]


@pytest.fixture
def course(nurse, patient) -> tuple[InjectionSession, InjectionSession]:
    """Two sessions 12 weeks apart, recorded by the nurse; the second books the next one."""
    return record(user=nurse, patient=patient, date=FIRST), record(user=nurse, patient=patient, date=SECOND)


def _mark(user, session, reason: str = WRONG, version: int | None = None):
    session.refresh_from_db()
    return services.injection_session_mark_in_error(
        user=user, session=session, reason=reason, expected_version=session.version if version is None else version
    )


def test_a_clinician_marks_a_recorded_session_and_the_history_leaves_it_out(clinician, patient, course):
    """The row stays, with who marked it, when and why; its version moves on; the treatment history the checks read
    (``recorded_sessions``) and the patient's session list leave it out; the marking is audited."""
    first, second = course
    version = second.version
    marked, moved = _mark(clinician, second)
    assert moved == ()
    assert (marked.status, marked.error_reason, marked.error_marked_by) == (SessionStatus.IN_ERROR, WRONG, clinician)
    assert marked.error_marked_at is not None
    assert marked.version == version + 1
    assert marked.sites.count() == 31  # kept as recorded
    assert list(selectors.recorded_sessions(patient)) == [first]
    assert second not in selectors.sessions_for(patient)
    assert list(selectors.sessions_in_error(patient)) == [second]
    event = AuditEvent.objects.get(object_id=str(second.external_id), action=Action.UPDATE, detail__contains="error")
    assert event.detail == f"recorded session of {SECOND} (155 U) marked entered in error"
    assert WRONG not in event.detail  # the reason is the session's, as an override reason is


def test_the_interval_of_the_next_session_is_judged_without_it(clinician, nurse, patient, course):
    """A session 2 weeks after the one marked in error is 14 weeks after the one before: the 12-week check passes,
    and the day of the marked session may be recorded afresh."""
    _, second = course
    _mark(clinician, second)
    again = record(user=nurse, patient=patient, date=SECOND)  # the same day: allowed again
    assert again.pk != second.pk
    assert again.status == SessionStatus.RECORDED
    assert "interval: 12-week rule" in again.check_reasons
    assert not again.overridden_checks


def test_only_a_clinician_may_mark_a_session_entered_in_error(nurse, course):
    """A nurse is refused in the clinician-only words, and nothing changes."""
    _, second = course
    with pytest.raises(services.SessionRefusedError) as refused:
        _mark(nurse, second)
    assert refused.value.problems == (("", services.ERROR_CLINICIAN_ONLY),)
    second.refresh_from_db()
    assert second.status == SessionStatus.RECORDED


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("   ", services.ERROR_REASON_NEEDED),
        ("x" * (ERROR_REASON_MAX_LENGTH + 1), services.REVIEW_REASON_TOO_LONG.format(limit=1000, count=1001)),
    ],
)
def test_the_reason_is_required_and_bounded(clinician, course, reason, message):
    """A reason of spaces only, or longer than ERROR_REASON_MAX_LENGTH, is refused at the reason, and the session
    stays recorded."""
    _, second = course
    with pytest.raises(services.SessionRefusedError) as refused:
        _mark(clinician, second, reason)
    assert refused.value.problems == (("reason", message),)
    second.refresh_from_db()
    assert second.status == SessionStatus.RECORDED


def test_a_booking_a_session_marked_already_and_a_stale_version_are_conflicts(clinician, patient, course):
    """Only a recorded session is marked; a second marking (another clinician, or a second click) and a version
    read before a change are refused as conflicts, writing nothing."""
    _, second = course
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    with pytest.raises(services.SessionConflictError) as open_booking:
        _mark(clinician, booking)
    assert open_booking.value.messages == (services.ERROR_NOT_RECORDED.format(status="booked"),)
    with pytest.raises(services.SessionConflictError) as stale:
        _mark(clinician, second, version=second.version + 5)
    assert stale.value.messages == (services.ERROR_SESSION_CHANGED,)
    _mark(clinician, second)
    with pytest.raises(services.SessionConflictError) as twice:
        _mark(clinician, second)
    assert twice.value.messages == (services.ERROR_NOT_RECORDED.format(status="entered in error"),)


def test_its_side_effects_follow_the_session_before_them_to_be_reviewed_again(clinician, nurse, patient, course):
    """A side effect put down to the marked session follows the latest other session on or before its onset, its
    grade and relation cleared for a clinician to review again (judged against a session never given); the review
    stays in its history."""
    first, second = course
    effect = services.side_effect_report(
        user=nurse, patient=patient, kind="neck_pain", onset=SECOND + dt.timedelta(days=3), severity="mild", today=TODAY
    )
    services.side_effect_review(
        user=clinician, side_effect=effect, grade="moderate", related_to_treatment=True, session=second
    )
    _marked, moved = _mark(clinician, second)
    assert [m.pk for m in moved] == [effect.pk]
    effect.refresh_from_db()
    assert (effect.session, effect.clinician_grade, effect.related_to_treatment, effect.reviewed_by) == (
        first,
        "",
        None,
        None,
    )
    assert effect.reviews.count() == 1
    event = AuditEvent.objects.get(object_id=str(second.external_id), detail__contains="marked entered in error")
    assert f"side effect {effect.external_id} now after the session of {FIRST}, to review again" in event.detail


def test_a_side_effect_before_any_other_session_follows_none(clinician, nurse, patient, course):
    """Marking the first session when a side effect began before the second leaves the side effect after no session
    (as a review may), to review again: the marking is not held up by it (a report of the wrong patient's session
    may follow no session of theirs)."""
    first, _ = course
    effect = services.side_effect_report(
        user=nurse,
        patient=patient,
        kind="eyelid_ptosis",
        onset=FIRST + dt.timedelta(days=5),
        severity="mild",
        today=TODAY,
    )
    _marked, moved = _mark(clinician, first)
    assert [m.pk for m in moved] == [effect.pk]
    effect.refresh_from_db()
    assert (effect.session, effect.reviewed_by) == (None, None)
    event = AuditEvent.objects.get(object_id=str(first.external_id), detail__contains="marked entered in error")
    assert f"side effect {effect.external_id} now after no session, to review again" in event.detail


# --- The pages ----------------------------------------------------------------------------------------------------


def test_the_session_page_offers_the_marking_to_a_clinician_and_says_to_ask_one_to_a_nurse(
    client, clinician, nurse, course
):
    """The recorded session's page links a clinician to the marking; a nurse reads that a clinician can mark it, and
    the marking page shows her no form."""
    _, second = course
    page = reverse("injections:session_detail", args=[second.external_id])
    client.force_login(clinician)
    assert reverse("injections:session_in_error", args=[second.external_id]) in client.get(page).content.decode()
    client.force_login(nurse)
    text = client.get(page).content.decode()
    assert 'id="in-error-ask"' in text
    assert 'id="mark-in-error"' not in text
    form = client.get(reverse("injections:session_in_error", args=[second.external_id])).content.decode()
    assert 'id="in-error-clinician-only"' in form
    assert "<textarea" not in form


def test_the_form_refuses_a_blank_reason_then_marks_and_the_pages_say_so(client, clinician, patient, course):
    """The confirmation page names the booking that stays; a blank reason is refused at the field with the error
    summary; a reason marks it: the session page says who marked it and why, the patient's page lists it apart."""
    _, second = course
    url = reverse("injections:session_in_error", args=[second.external_id])
    client.force_login(clinician)
    shown = client.get(url)
    assert 'id="in-error-booking"' in shown.content.decode()
    refused = client.post(url, {"reason": " ", "version": second.version})
    assert refused.status_code == 200
    assert services.ERROR_REASON_NEEDED in refused.content.decode()
    assert 'class="error-summary' in refused.content.decode()
    done = client.post(url, {"reason": WRONG, "version": second.version}, follow=True)
    text = done.content.decode()
    assert 'id="entered-in-error"' in text
    assert WRONG in text
    assert "Session entered in error" in text
    patient_page = client.get(reverse("patients:detail", args=[patient.external_id])).content.decode()
    assert 'id="sessions-in-error"' in patient_page


# --- The API ------------------------------------------------------------------------------------------------------


def _import_sessions(user, patient, text: str):
    """Import ``text`` as the patient's sessions CSV, as ``user``."""
    return table_csv_import(
        user=user, clinic=user.clinic, kind="sessions", source=text, today=timezone.localdate(), patient=patient
    )


def _api(user) -> Client:
    _token, raw = ApiToken.issue(user, "entered-in-error tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_the_api_marks_it_for_a_clinician_422_for_a_nurse_409_twice(clinician, nurse, patient, course):
    """The API refuses a nurse (422), marks it for a clinician (status in_error, with the reason and who), answers
    409 to the same call again, and leaves it out of the list."""
    _, second = course
    url = f"/api/sessions/{second.external_id}/entered-in-error"
    body = json.dumps({"reason": WRONG, "version": second.version})
    as_nurse = _api(nurse).post(url, body, content_type="application/json")
    assert as_nurse.status_code == 422
    done = _api(clinician).post(url, body, content_type="application/json")
    assert done.status_code == 200
    answer = done.json()
    assert answer["status"] == "in_error"
    assert answer["entered_in_error"]["reason"] == WRONG
    assert answer["entered_in_error"]["marked_by"] == clinician.username
    assert _api(clinician).post(url, body, content_type="application/json").status_code == 409
    listed = _api(clinician).get(f"/api/patients/{patient.external_id}/sessions").json()
    assert str(second.external_id) not in {row["id"] for row in listed}


# --- Everything else that reads sessions ------------------------------------------------------------------------


def test_the_worklist_does_not_take_it_for_a_booking(clinician, patient, course):
    """The worklist reads a marked session neither as given nor as booked."""
    from onaboard.web.clinic.selectors import _sessions_by_patient

    _, second = course
    _mark(clinician, second)
    sessions = _sessions_by_patient([patient.pk])[patient.pk]
    assert SECOND not in sessions.recorded
    assert SECOND not in sessions.booked


def test_exports_leave_it_out_and_an_old_export_does_not_bring_it_back(world, clinician, patient, course):
    """The Bundle and the sessions CSV no longer carry it; the sessions CSV exported before the marking, imported
    again, is refused naming it (it came back as a new recorded session), and nothing is written."""
    _, second = course
    before = table_csv_export(user=clinician, patient=patient, kind="sessions", how="test")
    _mark(clinician, second)
    assert SECOND not in {session.date for session in patient_record(patient).sessions}
    after = table_csv_export(user=clinician, patient=patient, kind="sessions", how="test")
    assert str(SECOND) in before
    assert str(SECOND) not in after
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _import_sessions(clinician, patient, before)
    marked_on = timezone.localdate(InjectionSession.objects.get(pk=second.pk).error_marked_at)
    messages = [problem.message for problem in refused.value.problems]
    assert SESSION_IN_ERROR.format(date=SECOND, day=marked_on) in messages
    assert InjectionSession.objects.filter(patient=patient, date=SECOND).count() == 1
    # the export made after the marking imports as it stands
    assert not _import_sessions(clinician, patient, after).changed


def test_the_calendar_feed_does_not_show_it(clinician, patient, course):
    """The calendar feed shows bookings and cancelled bookings only: not a session marked entered in error."""
    from onaboard.web.interop.calendar import feed_calendar
    from onaboard.web.interop.models import CalendarFeed

    _, second = course
    _mark(clinician, second)
    feed = CalendarFeed.objects.create(owner=clinician, patient=patient, digest="0" * 64, prefix="test")
    noon = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12)))  # SECOND within the feed's window
    text = feed_calendar(feed, now=noon).decode()
    assert SECOND.strftime("%Y%m%d") not in text


def test_side_effect_records_stay_whole(clinician, nurse, patient, course):
    """No side effect is left pointing at the marked session."""
    _, second = course
    services.side_effect_report(
        user=nurse, patient=patient, kind="neck_pain", onset=SECOND, severity="mild", today=TODAY
    )
    _mark(clinician, second)
    assert not SideEffect.objects.filter(session=second).exists()


def test_the_form_says_where_each_side_effect_goes(client, clinician, nurse, patient, course):
    """Marking the second session names the session its side effect will follow; marking the first, whose side effect
    began before the second, says it will follow none; both keep the form."""
    first, second = course
    for onset in (FIRST + dt.timedelta(days=5), SECOND + dt.timedelta(days=2)):
        services.side_effect_report(
            user=nurse, patient=patient, kind="neck_pain", onset=onset, severity="mild", today=TODAY
        )
    client.force_login(clinician)
    later = client.get(reverse("injections:session_in_error", args=[second.external_id])).content.decode()
    assert f"then after the session of {FIRST}" in later
    assert "<textarea" in later
    earlier = client.get(reverse("injections:session_in_error", args=[first.external_id])).content.decode()
    assert "then after no session (none was recorded before it began)" in earlier
    assert "<textarea" in earlier


def test_the_patient_sees_the_marking_but_not_the_reason_nor_who(client, world, clinician, patient, course):
    """The reason is the care team's note (it may name another patient): the patient's session page and the API
    give neither it nor the clinician's name."""
    _, second = course
    _mark(clinician, second, "recorded for the wrong patient (was MRN-OTHER)")
    client.force_login(world.users["patient"])
    page = client.get(reverse("injections:session_detail", args=[second.external_id])).content.decode()
    assert 'id="entered-in-error"' in page
    assert "MRN-OTHER" not in page
    assert f"by {clinician.get_full_name() or clinician.username}" not in page
    answer = _api(world.users["patient"]).get(f"/api/sessions/{second.external_id}").json()
    assert answer["entered_in_error"]["reason"] is None
    assert answer["entered_in_error"]["marked_by"] is None


def test_recording_against_a_marked_session_says_so(clinician, nurse, patient, course):
    """The session screen opened on a session since marked (or an API call naming it) says it was marked, not that
    someone changed the booking."""
    _, second = course
    _mark(clinician, second)
    with pytest.raises(services.SessionConflictError) as refused:
        record(user=nurse, patient=patient, date=SECOND, booking=second)
    assert refused.value.messages == (services.BOOKING_IN_ERROR,)


def test_an_export_made_after_the_day_was_recorded_again_imports_unchanged(world, clinician, nurse, patient, course):
    """The day marked and recorded again: the sessions CSV exported now imports as it stands (the row is the session
    recorded in its place, not the one marked)."""
    _, second = course
    _mark(clinician, second)
    record(user=nurse, patient=patient, date=SECOND)
    text = table_csv_export(user=clinician, patient=patient, kind="sessions", how="test")
    summary = _import_sessions(clinician, patient, text)
    assert not summary.changed


def test_an_old_row_changed_in_a_detail_does_not_bring_it_back(world, clinician, patient, course):
    """The old export's row of the marked day with its lot in capitals and its sites in another order is still
    refused: any recorded row without an id on a day in error, with no session recorded in its place."""
    _, second = course
    before = table_csv_export(user=clinician, patient=patient, kind="sessions", how="test")
    _mark(clinician, second)
    header, *rows = before.splitlines()
    row = next(line for line in rows if line.split(",")[1] == str(SECOND))
    changed = row.replace("C1234AB", "c1234ab")
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _import_sessions(clinician, patient, f"{header}\n{changed}\n")
    assert any("was marked entered in error here" in problem.message for problem in refused.value.problems)
    assert InjectionSession.objects.filter(patient=patient, date=SECOND).count() == 1


def test_a_nurse_cannot_weaken_a_clinicians_review_by_way_of_her_own(clinician, nurse, patient, course):
    """A clinician's "moderate, related": the nurse's same grade (allowed) does not free her to grade it lower
    next: the latest clinician's review holds, through the reviews after it."""
    _, second = course
    effect = services.side_effect_report(
        user=nurse, patient=patient, kind="neck_pain", onset=SECOND, severity="mild", today=TODAY
    )
    services.side_effect_review(
        user=clinician, side_effect=effect, grade="moderate", related_to_treatment=True, session=second
    )
    services.side_effect_review(
        user=nurse, side_effect=effect, grade="moderate", related_to_treatment=True, session=second, reason="seen"
    )
    for grade, related in (("mild", True), ("moderate", False)):
        with pytest.raises(services.SideEffectRefusedError) as refused:
            services.side_effect_review(
                user=nurse, side_effect=effect, grade=grade, related_to_treatment=related, session=second, reason="x"
            )
        assert "a clinician, reviewed it on" in refused.value.problems[0][1]


def test_an_import_by_a_nurse_does_not_weaken_a_clinicians_review(world, clinician, nurse, patient, course):
    """A Bundle grading a clinician's "severe, related" side effect mild and unrelated is refused for a nurse, and
    nothing changes; a clinician's import of it is taken (their review)."""
    import dataclasses

    from onaboard.interop.fhir import BundleInvalidError, read_bundle
    from onaboard.web.interop.selectors import patients_export
    from onaboard.web.interop.services import fhir_records_import

    _, second = course
    effect = services.side_effect_report(
        user=nurse, patient=patient, kind="eyelid_ptosis", onset=SECOND, severity="mild", today=TODAY
    )
    services.side_effect_review(
        user=clinician, side_effect=effect, grade="severe", related_to_treatment=True, session=second
    )
    (record_,) = read_bundle(patients_export(user=clinician, patients=[patient]), today=timezone.localdate())
    milder = tuple(
        dataclasses.replace(each, clinician_grade="mild", related_to_treatment=False) for each in record_.side_effects
    )
    records = [dataclasses.replace(record_, side_effects=milder)]
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=nurse, clinic=world.clinic, records=records)
    assert any("Only a clinician may lower that grade" in problem.message for problem in refused.value.problems)
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment) == ("severe", True)
    fhir_records_import(user=clinician, clinic=world.clinic, records=records)
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment) == ("mild", False)


def test_a_nurses_import_of_an_early_session_says_it_is_a_clinicians_before_asking_a_reason(
    world, nurse, patient, course
):
    """A sessions CSV row 18 days after the last session, imported by a nurse without an override reason, is
    refused as the session screen refuses it: a clinician's override (not "give the session its override reason",
    which the import would then refuse too)."""
    from onaboard.web.injections.services import CLINICIAN_OVERRIDE_ONLY

    text = table_csv_export(user=nurse, patient=patient, kind="sessions", how="test")
    header, *rows = text.splitlines()
    row = next(line for line in rows if line.split(",")[1] == str(SECOND))
    early = row.replace(str(SECOND), str(SECOND + dt.timedelta(days=18)), 1).replace(
        str(SECOND + dt.timedelta(days=365)), str(SECOND + dt.timedelta(days=400))
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _import_sessions(nurse, patient, f"{header}\n{early}\n")
    messages = [(problem.column, problem.message) for problem in refused.value.problems]
    assert ("override_reason", CLINICIAN_OVERRIDE_ONLY.format(checks="12-week interval")) in messages
