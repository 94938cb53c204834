"""Recording and booking sessions, reporting and reviewing side effects (onaboard/web/injections/services.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from onaboard.clinical.preempt import DOSE_LIMIT, FTP_LIMIT
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.models import PatientInsurance
from onaboard.web.injections import selectors, services, sitemap
from onaboard.web.injections.models import (
    DISTANT_SPREAD_SIDE_EFFECTS,
    URGENT_SIDE_EFFECTS,
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectKind,
)
from onaboard.web.injections.selectors import SiteEntry, patient_schedule
from onaboard.web.patients.models import OtherToxinTreatment, Patient
from tests.web.injections.conftest import TODAY, authorisation, fixed_entries, insure, record

DAY = dt.date(2026, 3, 2)


def test_recording_saves_the_session_its_sites_and_the_engines_totals(nurse, patient):
    """A standard session stores 31 sites, 155 U, one 200 U vial and 45 U discarded, with who injected."""
    session = record(user=nurse, patient=patient, date=DAY)
    assert session.status == SessionStatus.RECORDED
    assert (session.total_units, session.vials_used, session.vial_units, session.discarded_units) == (155, 1, 200, 45)
    assert session.injector == nurse
    assert session.sites.count() == 31
    assert not session.overridden_checks
    assert "interval: 12-week rule: no previous session" in session.check_reasons


def test_an_earlier_session_entered_late_leaves_the_open_booking_alone(nurse, patient):
    """Recording a session dated before the latest recorded one (an old session entered afterwards) creates its own
    row: the open booking, moved to the day agreed with the patient, stays booked on that day (it became the old
    session, and a new booking appeared on the engine's due date), also when the screen passed the booking."""
    last = record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=20))
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    agreed = booking.date + dt.timedelta(days=5)
    services.injection_session_book(user=nurse, session=booking, date=agreed, expected_version=None, today=TODAY)
    booking.refresh_from_db()
    old = record(user=nurse, patient=patient, date=last.date - dt.timedelta(days=180), booking=booking)
    booking.refresh_from_db()
    assert old.pk != booking.pk
    assert (booking.status, booking.date) == (SessionStatus.BOOKED, agreed)
    assert list(InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED)) == [booking]


def test_recording_is_audited(nurse, patient):
    """The recording writes a create event naming units, vials and the wastage modifier."""
    session = record(user=nurse, patient=patient, date=DAY)
    event = AuditEvent.objects.get(object_type="injection_session", object_id=str(session.external_id))
    assert event.action == Action.CREATE
    assert event.patient_id == patient.external_id
    assert "155 U at 31 sites, 1 x 200 U vial(s), 45 U discarded (JW)" in event.detail


def test_recording_books_the_next_session_12_weeks_later(nurse, patient):
    """Recorded on the day, the next session is booked on the engine's due date (last session + 84 days)."""
    record(user=nurse, patient=patient, date=DAY, today=DAY)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booking.date == DAY + dt.timedelta(days=84)


def test_a_session_recorded_after_a_stop_books_no_next_one_until_a_decision_to_continue(world, nurse, patient):
    """While the latest decision is to stop, recording a session needs a clinician's override reason (a nurse's is
    refused), and the session given against the stop books no next one, which the portal and the after-care sheet
    would promise; after a decision to continue, the next recording books as always, with no reason asked."""
    from onaboard.web.outcomes.models import Decision
    from tests.web.factories import TreatmentDecisionFactory

    record(user=nurse, patient=patient, date=DAY, today=DAY)
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).update(status=SessionStatus.CANCELLED)
    clinician = world.users["clinician"]
    TreatmentDecisionFactory(patient=patient, decided_on=DAY, decided_by=clinician)
    later = DAY + dt.timedelta(days=84)
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=later, today=later)
    assert [check.code for check in blocked.value.checks] == ["stop_decision"]
    with pytest.raises(services.SessionRefusedError, match="Only a clinician may override decision to stop"):
        record(user=nurse, patient=patient, date=later, today=later, override_reason="Patient asked to go on.")
    given = record(
        user=clinician, patient=patient, date=later, today=later, override_reason="Patient asked to go on; reviewed."
    )
    assert given.overridden_checks == "stop_decision"
    assert not InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).exists()
    TreatmentDecisionFactory(patient=patient, decided_on=later, decision=Decision.CONTINUE, decided_by=clinician)
    last = later + dt.timedelta(days=84)
    record(user=nurse, patient=patient, date=last, today=last)
    assert InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED).date == last + dt.timedelta(
        days=84
    )


def test_a_session_recorded_after_its_next_due_date_is_followed_by_a_booking_today_not_in_the_past(nurse, patient):
    """Entered 100 days late, the session's next due date (84 days after it) has passed: the next session is booked
    on today, for staff to move to the agreed day, not on the passed due date."""
    given = TODAY - dt.timedelta(days=100)
    record(user=nurse, patient=patient, date=given)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert booking.date == TODAY
    assert patient_schedule(patient, today=TODAY).next_due == given + dt.timedelta(days=84)


def test_recording_fulfils_the_open_booking(nurse, patient):
    """The next recording turns the booked session into the recorded one, moved to the day it was given."""
    record(user=nurse, patient=patient, date=DAY, today=DAY)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    later = DAY + dt.timedelta(days=86)
    session = record(user=nurse, patient=patient, date=later, booking=booking, expected_version=booking.version)
    assert session.pk == booking.pk
    assert (session.date, session.status, session.version) == (later, SessionStatus.RECORDED, 2)


def test_follow_the_pain_sites_keep_where_they_were_placed(nurse, patient):
    """An extra site clicked on the map keeps its point; one added from the form goes to its area's default spot."""
    sites = [
        *fixed_entries(),
        SiteEntry("trapezius", "left", 5, True, "back", 240, 908),
        SiteEntry("temporalis", "right", 5, True),
    ]
    session = record(user=nurse, patient=patient, date=DAY, sites=sites)
    clicked = session.sites.get(muscle="trapezius", follow_the_pain=True)
    added = session.sites.get(muscle="temporalis", follow_the_pain=True)
    assert (clicked.view, clicked.x, clicked.y) == ("back", 240, 908)
    spot = sitemap.follow_the_pain_default("temporalis", "right", 1)
    assert (added.view, added.x, added.y) == (spot.view.value, spot.x, spot.y)
    assert session.total_units == 165


def test_more_than_195_units_is_refused_with_the_engines_message(nurse, patient):
    """A plan above the PREEMPT maximum is refused with the engine's message and nothing is saved."""
    sites = fixed_entries(temporalis_left_1=50)
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY, sites=sites)
    assert refused.value.problems == (("sites", DOSE_LIMIT.format(total=200, sites=31, limit=195)),)
    assert not InjectionSession.objects.exists()
    assert not InjectionSiteRecord.objects.exists()


NOT_GIVEN_CORRUGATOR = "PREEMPT: 1 fixed site not given (corrugator left 1): 150 U at 30 sites"


def test_a_session_that_left_a_fixed_site_out_needs_an_override_reason(nurse, patient):
    """Leaving out a fixed site departs from the label's dose: without a reason nothing is recorded, and the block
    names the dose check."""
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY, sites=fixed_entries()[1:])
    assert [check.code for check in blocked.value.checks] == ["site_dose"]
    assert blocked.value.checks[0].reasons == (NOT_GIVEN_CORRUGATOR,)
    assert not InjectionSession.objects.filter(patient=patient, date=DAY).exists()


def test_a_partial_session_is_recorded_as_given_with_its_reason(nurse, patient):
    """With a reason, a session that left a fixed site out stores the 30 sites given, 150 U, one 200 U vial and
    50 U discarded (billed JW), the reason, and the site not given among the check reasons; the audit says so."""
    session = record(
        user=nurse, patient=patient, date=DAY, sites=fixed_entries()[1:], override_reason="The patient fainted."
    )
    assert (session.total_units, session.vials_used, session.discarded_units) == (150, 1, 50)
    assert session.sites.count() == 30
    assert (session.overridden_checks, session.override_reason) == ("site_dose", "The patient fainted.")
    assert f"site_dose: {NOT_GIVEN_CORRUGATOR}" in session.check_reasons.splitlines()
    detail = AuditEvent.objects.get(object_type="injection_session", object_id=session.external_id).detail
    assert "150 U at 30 sites, 1 x 200 U vial(s), 50 U discarded (JW)" in detail


def _extra_entries(**counts: int) -> list[SiteEntry]:
    """``counts`` extra 5 U follow-the-pain sites per muscle, alternately left and right, on their default spots."""
    sides = ("left", "right")
    return [SiteEntry(muscle, sides[i % 2], 5, True) for muscle, count in counts.items() for i in range(count)]


def test_extra_occipitalis_sites_past_the_derived_limit_are_recorded_with_an_override_reason(nurse, patient):
    """3 extra occipitalis and 2 extra trapezius sites on the 31 fixed ones (180 U) are what was given: the
    occipitalis limit of 2 is derived from the 40 U cap, not stated (Blumenfeld 2010), so recording is blocked only
    as a departure from the label (the dose check, naming occipitalis) and, with a reason, records all 36 sites."""
    sites = [*fixed_entries(), *_extra_entries(occipitalis=3, trapezius=2)]
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY, sites=sites)
    assert [check.code for check in blocked.value.checks] == ["site_dose"]
    (departure,) = blocked.value.checks[0].reasons
    assert departure.startswith("follow-the-pain: occipitalis has 3 extra sites")
    assert not InjectionSession.objects.filter(patient=patient, date=DAY).exists()
    reason = "Pain mostly at the back of the head."
    session = record(user=nurse, patient=patient, date=DAY, sites=sites, override_reason=reason)
    assert (session.total_units, session.sites.count()) == (180, 36)
    assert session.sites.filter(muscle="occipitalis", follow_the_pain=True).count() == 3
    assert (session.overridden_checks, session.override_reason) == ("site_dose", reason)
    assert f"site_dose: {departure}" in session.check_reasons.splitlines()


def test_a_third_extra_temporalis_site_is_refused_whatever_the_reason(nurse, patient):
    """The temporalis limit of 2 extra sites is stated (Blumenfeld 2010): a third is refused with the engine's
    message even with an override reason, and nothing is saved."""
    sites = [*fixed_entries(), *_extra_entries(temporalis=3)]
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY, sites=sites, override_reason="agreed")
    limit = FTP_LIMIT.format(muscle="temporalis", limit=2, limit_units=10, count=3)
    assert [message for _, message in refused.value.problems] == [limit]
    assert not InjectionSession.objects.exists()


def test_a_fixed_site_at_0_units_gets_no_row_and_the_others_keep_their_spots(nurse, patient):
    """A fixed site entered at 0 U is not given: no row is stored for it, and the sites after it on that side are
    drawn on their own spots, not moved up into its place."""
    sites = fixed_entries(temporalis_left_2=0)
    session = record(user=nurse, patient=patient, date=DAY, sites=sites, override_reason="The patient fainted.")
    assert not session.sites.filter(units=0).exists()
    drawn = [(r.view, r.x, r.y) for r in session.sites.filter(muscle="temporalis", side="left").order_by("pk")]
    spots = [sitemap.FIXED_POSITIONS[sitemap.Muscle.TEMPORALIS, sitemap.Side.LEFT, n] for n in (1, 3, 4)]
    assert drawn == [(spot.view.value, spot.x, spot.y) for spot in spots]
    assert "site_dose: PREEMPT: 1 fixed site not given (temporalis left 2): 150 U at 30 sites" in session.check_reasons


def test_a_session_within_12_weeks_needs_an_override_reason(nurse, patient, world):
    """Recording 60 days after the last session is blocked by the 12-week check until a clinician gives a reason:
    a nurse is refused in the clinician-only words, with or without one (retreating sooner than the label's schedule
    is a prescribing decision: ``CLINICIAN_OVERRIDES``)."""
    record(user=nurse, patient=patient, date=DAY)
    early = DAY + dt.timedelta(days=60)
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=world.users["clinician"], patient=patient, date=early)
    assert [check.code for check in blocked.value.checks] == ["interval"]
    assert blocked.value.messages == (services.OVERRIDE_NEEDED.format(checks="12-week interval"),)
    for reason in ("", "patient asked"):
        with pytest.raises(services.SessionChecksClinicianOnlyError) as nurse_refused:
            record(user=nurse, patient=patient, date=early, override_reason=reason)
        assert nurse_refused.value.problems == (
            ("override_reason", services.CLINICIAN_OVERRIDE_ONLY.format(checks="12-week interval")),
        )
    assert not InjectionSession.objects.filter(patient=patient, date=early, status=SessionStatus.RECORDED).exists()


def test_an_override_reason_is_stored_and_audited(nurse, patient, world):
    """With a clinician's reason, the early session is recorded; the reason and the overridden check are kept, and
    the override is audited naming the check (the reason is clinical: it stays in the session)."""
    record(user=nurse, patient=patient, date=DAY)
    early = DAY + dt.timedelta(days=60)
    session = record(
        user=world.users["clinician"],
        patient=patient,
        date=early,
        override_reason="Severe relapse; neurologist agreed.",
    )
    assert session.override_reason == "Severe relapse; neurologist agreed."
    assert session.overridden_checks == "interval"
    assert "(< 84)" in session.check_reasons
    event = AuditEvent.objects.get(object_type="injection_session_override")
    assert event.detail == "overrode interval"


def test_an_override_reason_without_a_failed_check_is_refused_not_dropped(nurse, patient):
    """A reason typed when every check passes overrides nothing: the recording is refused at that field, saying
    why and where a decision to continue despite a warning goes, instead of saving the session and silently dropping
    the text the clinician typed."""
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY, override_reason="continue: partial response")
    assert refused.value.problems == (("override_reason", services.OVERRIDE_NOT_NEEDED),)
    assert not InjectionSession.objects.filter(patient=patient, date=DAY, status=SessionStatus.RECORDED).exists()
    session = record(user=nurse, patient=patient, date=DAY, override_reason="  ")
    assert (session.override_reason, session.overridden_checks) == ("", "")


def test_the_cumulative_dose_counts_other_botox_treatments(nurse, patient):
    """300 U of BOTOX for another indication a month earlier plus 155 U exceeds 400 U in 3 months: blocked."""
    OtherToxinTreatment.objects.create(patient=patient, date=DAY - dt.timedelta(days=30), product="BOTOX", units=300)
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY)
    assert [check.code for check in blocked.value.checks] == ["cumulative_dose"]
    assert "= 455 U (> 400 U in 3 months)" in blocked.value.checks[0].reasons[0]


def test_a_session_entered_late_counts_in_the_windows_of_later_doses(nurse, patient):
    """300 U of BOTOX for another indication a month after a session entered late: the window ending on that later
    dose then holds 455 U, so the late session needs an override too (only the window ending on its own date was
    checked)."""
    OtherToxinTreatment.objects.create(patient=patient, date=DAY + dt.timedelta(days=30), product="BOTOX", units=300)
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY)
    assert [check.code for check in blocked.value.checks] == ["cumulative_dose"]
    later = DAY + dt.timedelta(days=30)
    assert blocked.value.checks[0].reasons[-1].endswith(f"(to the dose of {later}) hold 455 U (> 400 U in 3 months)")


def test_a_contraindication_blocks_recording_until_a_clinician_overrides_it(world, nurse, patient):
    """Infection at the injection sites (a label contraindication) blocks recording; a clinician's reason lets it
    through, a nurse's is refused (a prescribing decision) and nothing is stored."""
    patient.injection_site_infection = True
    patient.save()
    refused_to_nurse = (
        (
            "override_reason",
            (
                "Only a clinician may override safety screen contraindication: going ahead anyway is a "
                "prescribing decision. Ask the treating clinician to record this session, or do not record it."
            ),
        ),
    )
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY)
    assert [check.code for check in blocked.value.checks] == ["contraindication"]
    assert blocked.value.problems == refused_to_nurse  # not asked for a reason the recording would refuse
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY, override_reason="ok")
    assert refused.value.problems == (
        (
            "override_reason",
            (
                "Only a clinician may override safety screen contraindication: going ahead anyway is a "
                "prescribing decision. Ask the treating clinician to record this session, or do not record it."
            ),
        ),
    )
    assert not InjectionSession.objects.filter(patient=patient, status="recorded").exists()
    clinician = world.users["clinician"]
    session = record(user=clinician, patient=patient, date=DAY, override_reason="Infection resolved this morning.")
    assert session.overridden_checks == "contraindication"


DENIED = (
    "prior_authorisation: no prior authorisation is in force on 2026-03-02: the payer denied the initial request of "
    "2026-01-21 on 2026-01-31"
)
"""The stored reason of a session on ``DAY`` for a patient whose only request was denied (``_denied``)."""


def _denied(patient):
    """Insurance under a commercial payer's policy, whose only request (21 January) was denied on 31 January."""
    insure(patient)
    authorisation(
        patient, status="denied", requested_on=DAY - dt.timedelta(days=40), decided_on=DAY - dt.timedelta(days=30)
    )


def test_a_patient_whose_request_was_denied_needs_an_override_reason(nurse, patient):
    """A commercial payer's patient whose latest request was denied: recording is refused until a reason is given,
    naming the prior-authorisation check; nothing is stored."""
    _denied(patient)
    with pytest.raises(services.SessionChecksFailedError) as blocked:
        record(user=nurse, patient=patient, date=DAY)
    assert [check.code for check in blocked.value.checks] == ["prior_authorisation"]
    assert blocked.value.messages == (services.OVERRIDE_NEEDED.format(checks="prior authorisation"),)
    assert not InjectionSession.objects.filter(patient=patient, date=DAY).exists()


def test_a_session_without_an_approval_is_recorded_with_a_reason_naming_the_denial(nurse, patient):
    """With a reason the session is recorded, the prior-authorisation check stored as overridden and its reason
    naming the denied request and the day of the denial."""
    _denied(patient)
    session = record(user=nurse, patient=patient, date=DAY, override_reason="Self-funded; the patient agreed.")
    assert (session.overridden_checks, session.override_reason) == (
        "prior_authorisation",
        "Self-funded; the patient agreed.",
    )
    assert DENIED in session.check_reasons.splitlines()


def test_an_approval_in_force_on_the_session_day_passes(nurse, patient):
    """An approval running from before the session to after it: recorded without an override, the approval named."""
    insure(patient)
    authorisation(
        patient,
        status="approved",
        requested_on=DAY - dt.timedelta(days=30),
        decided_on=DAY - dt.timedelta(days=20),
        approved_from=DAY - dt.timedelta(days=20),
        approved_until=DAY + dt.timedelta(days=160),
    )
    session = record(user=nurse, patient=patient, date=DAY)
    assert session.overridden_checks == ""
    assert (
        "prior_authorisation: approval in force on 2026-03-02: from 2026-02-10 to 2026-08-09"
        in session.check_reasons.splitlines()
    )


def test_a_policy_without_prior_authorisation_is_not_affected(nurse, patient):
    """Under NICE TA260 (a guideline: the NHS asks for no prior authorisation) no request is needed, even with a
    denied one on record from another payer."""
    _denied(patient)
    patient.insurance.policy_id = "nice-ta260"
    patient.insurance.save()
    session = record(user=nurse, patient=patient, date=DAY)
    assert session.overridden_checks == ""
    assert (
        "prior_authorisation: NICE TA260 (England), a guideline, asks for no prior authorisation"
        in session.check_reasons.splitlines()
    )


def test_an_expired_product_is_refused_outright(nurse, patient):
    """A product past its expiry on the session day cannot be recorded, whatever the reason."""
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY, expiry=DAY - dt.timedelta(days=1), override_reason="any")
    assert refused.value.problems == (
        ("product_expiry", services.PRODUCT_EXPIRED.format(expiry=DAY - dt.timedelta(days=1), date=DAY)),
    )


def test_a_session_after_today_is_refused(nurse, patient):
    """A session cannot be recorded before it happened."""
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=tomorrow)
    assert refused.value.messages == (services.SESSION_FUTURE_DATE.format(date=tomorrow, today=TODAY),)


def test_the_same_day_cannot_be_recorded_twice(nurse, patient, world):
    """A second recording of the patient's session on the same day is refused and changes nothing."""
    first = record(user=nurse, patient=patient, date=DAY)
    with pytest.raises(services.SessionConflictError) as conflict:
        record(user=world.users["clinician"], patient=patient, date=DAY)
    assert conflict.value.messages == (services.SESSION_ALREADY_RECORDED.format(date=DAY),)
    assert InjectionSiteRecord.objects.count() == 31
    first.refresh_from_db()
    assert first.injector == nurse


def test_two_nurses_recording_one_booking_the_second_is_refused(nurse, patient, world):
    """Both opened the booking at version 1; the second save finds it recorded and writes nothing."""
    booking = InjectionSession.objects.create(patient=patient, date=DAY, status=SessionStatus.BOOKED)
    record(user=nurse, patient=patient, date=DAY, booking=booking, expected_version=1)
    with pytest.raises(services.SessionConflictError):
        record(user=world.users["clinician"], patient=patient, date=DAY, booking=booking, expected_version=1)
    assert InjectionSiteRecord.objects.filter(session=booking).count() == 31


def test_a_stale_version_is_refused(nurse, patient):
    """A booking moved since the screen was opened (version 2) refuses a recording made from version 1."""
    booking = InjectionSession.objects.create(patient=patient, date=DAY, status=SessionStatus.BOOKED)
    services.injection_session_book(
        user=nurse, session=booking, date=DAY + dt.timedelta(days=1), expected_version=1, today=DAY
    )
    with pytest.raises(services.SessionConflictError) as conflict:
        record(user=nurse, patient=patient, date=DAY, booking=booking, expected_version=1)
    assert conflict.value.messages == (services.BOOKING_TAKEN,)
    booking.refresh_from_db()
    assert (booking.status, booking.version, booking.sites.count()) == (SessionStatus.BOOKED, 2, 0)


def test_the_unique_constraint_stops_a_racing_insert(nurse, patient, world, monkeypatch):
    """If a concurrent recording slipped past the lookup (and so past the checks, which do not see it yet), the
    database's constraint refuses the second row."""
    first = record(user=nurse, patient=patient, date=DAY)
    monkeypatch.setattr(services, "_session_to_record", lambda **kwargs: None)
    checks = services.session_checks
    monkeypatch.setattr(services, "session_checks", lambda **kwargs: checks(**{**kwargs, "exclude": first}))
    with pytest.raises(services.SessionConflictError) as conflict:
        record(user=world.users["clinician"], patient=patient, date=DAY)
    assert conflict.value.messages == (services.SESSION_ALREADY_RECORDED.format(date=DAY),)
    assert InjectionSession.objects.filter(patient=patient, date=DAY).count() == 1
    assert InjectionSiteRecord.objects.count() == 31


def test_the_database_refuses_a_second_open_booking_for_a_patient(patient, world):
    """``one_open_booking_per_patient``: a second booked row for the patient is refused by the database (whoever
    writes it); a cancelled or recorded row beside the booking, and another patient's booking, are not."""
    InjectionSession.objects.create(patient=patient, date=DAY, status=SessionStatus.BOOKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        InjectionSession.objects.create(patient=patient, date=DAY + dt.timedelta(days=7), status=SessionStatus.BOOKED)
    InjectionSession.objects.create(patient=patient, date=DAY + dt.timedelta(days=7), status=SessionStatus.CANCELLED)
    InjectionSession.objects.create(patient=patient, date=DAY - dt.timedelta(days=90), status=SessionStatus.RECORDED)
    InjectionSession.objects.create(patient=world.same_clinic_patient, date=DAY, status=SessionStatus.BOOKED)
    assert InjectionSession.objects.filter(status=SessionStatus.BOOKED).count() == 2


def test_booking_the_next_session_leaves_a_booking_another_writer_committed_meanwhile(nurse, patient, monkeypatch):
    """A booking committed between ``book_next_session``'s look-up and its insert (a writer without the patient's
    lock) is not an error for the recording: the constraint refuses the second row, and the booking there stands,
    unaudited by this call."""
    record(user=nurse, patient=patient, date=DAY, today=DAY)
    there = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)  # the look-ups miss the booking, as in a race
    with transaction.atomic():
        assert services.book_next_session(user=nurse, patient=patient, today=DAY + dt.timedelta(days=1)) is None
    assert list(InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED)) == [there]


def test_recording_a_booking_that_carried_sites_stores_only_the_sites_given(nurse, patient):
    """Sites already attached to a booking (an import could attach some) are replaced by the sites recorded, not
    added to them: the session holds the 31 sites given, and the audit event says how many were replaced."""
    booking = InjectionSession.objects.create(patient=patient, date=DAY, status=SessionStatus.BOOKED)
    InjectionSiteRecord.objects.bulk_create(
        InjectionSiteRecord(session=booking, muscle="frontalis", side="left", units=5) for _ in range(3)
    )
    session = record(user=nurse, patient=patient, date=DAY, booking=booking, expected_version=booking.version)
    assert session.pk == booking.pk
    assert session.sites.count() == 31
    assert sum(session.sites.values_list("units", flat=True)) == session.total_units == 155
    event = AuditEvent.objects.get(object_id=str(booking.external_id), action=Action.UPDATE)
    assert event.detail.endswith("; 3 site(s) the booking carried replaced")


def test_recording_checks_the_birth_date_as_stored_not_as_the_caller_read_it(nurse, patient):
    """The birth date moved later after the caller loaded the patient (another user's save): the recording is
    checked against the stored birth date (read under the patient's lock) and refused; nothing is written."""
    Patient.objects.filter(pk=patient.pk).update(birth_date=DAY + dt.timedelta(days=1))
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=DAY)
    assert [field for field, _message in refused.value.problems] == ["date"]
    assert not InjectionSession.objects.filter(patient=patient).exists()


def test_a_booking_moves_and_is_audited(nurse, patient):
    """Moving a booking changes its date, bumps its version and records the engine's interval reason."""
    record(user=nurse, patient=patient, date=DAY, today=DAY)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    moved = services.injection_session_book(
        user=nurse, session=booking, date=booking.date + dt.timedelta(days=3), expected_version=1, today=DAY
    )
    assert (moved.date, moved.version) == (DAY + dt.timedelta(days=87), 2)
    event = AuditEvent.objects.filter(object_id=str(booking.external_id), action=Action.UPDATE).get()
    assert "12-week rule: 2026-05-28 is 87 days after the session of 2026-03-02 (>= 84)" in event.detail


def test_a_booking_cannot_move_into_the_past(nurse, patient):
    """A booking before today is refused."""
    booking = InjectionSession.objects.create(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    yesterday = TODAY - dt.timedelta(days=1)
    with pytest.raises(services.SessionRefusedError) as refused:
        services.injection_session_book(user=nurse, session=booking, date=yesterday, expected_version=1, today=TODAY)
    assert refused.value.problems == (("date", services.BOOKING_IN_PAST.format(date=yesterday, today=TODAY)),)


def test_a_recorded_session_cannot_be_rebooked(nurse, patient):
    """Only a booked session moves."""
    session = record(user=nurse, patient=patient, date=DAY)
    with pytest.raises(services.SessionRefusedError) as refused:
        services.injection_session_book(user=nurse, session=session, date=TODAY, expected_version=None, today=TODAY)
    assert refused.value.messages == (services.BOOKING_NOT_OPEN.format(status="recorded"),)


def test_a_side_effect_is_attributed_to_the_latest_session_before_it_started(nurse, patient, world):
    """A side effect starting 5 days after the second session is attributed to that session and audited."""
    record(user=nurse, patient=patient, date=DAY)
    second = record(user=nurse, patient=patient, date=DAY + dt.timedelta(days=84))
    reported = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind=SideEffectKind.NECK_PAIN,
        onset=second.date + dt.timedelta(days=5),
        severity=Severity.MODERATE,
        today=TODAY,
    )
    assert reported.session == second
    event = AuditEvent.objects.get(object_type="side_effect")
    assert event.detail == "side effect reported; after the session of 2026-05-25"


def test_a_side_effect_on_the_injection_day_follows_that_session(nurse, patient, world):
    """Onset on the day of the session counts as after it."""
    session = record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="injection_site_pain",
        onset=DAY,
        severity="mild",
        today=TODAY,
    )
    assert reported.session == session


def test_an_urgent_side_effect_is_flagged_on_the_record_not_in_the_audit_trail(nurse, patient, world):
    """Trouble swallowing is urgent (possible distant spread). The audit event says a side effect was reported and
    the session it follows, never its kind or urgency (clinical content)."""
    record(user=nurse, patient=patient, date=DAY)
    onset = DAY + dt.timedelta(days=14)  # before the next session, booked for TODAY (its due day has passed)
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="dysphagia", onset=onset, severity="severe", today=TODAY
    )
    assert reported.urgent
    event = AuditEvent.objects.get(object_type="side_effect")
    assert event.detail == "side effect reported; after the session of 2026-03-02"


@pytest.mark.parametrize(("role", "message"), [("patient", "NO_SESSION_YET"), ("nurse", "NO_SESSION_YET_STAFF")])
def test_a_side_effect_of_a_patient_never_treated_is_refused(patient, world, role, message):
    """With no session recorded there is no treatment a symptom could follow: the report is refused for the whole
    form, saying the form is for side effects after a session (the patient is told to contact the clinic, staff to
    record the session first), whatever else it says, and nothing is stored; once a session is recorded the same
    report is saved."""
    onset = DAY + dt.timedelta(days=14)  # before the next session, which recording DAY books for TODAY
    answers = {"patient": patient, "kind": "dysphagia", "onset": onset, "severity": "severe", "today": TODAY}
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(user=world.users[role], **answers)
    assert refused.value.problems == (("", getattr(services, message)),)
    assert "contact the clinic" in services.NO_SESSION_YET
    assert "record the session first" in services.NO_SESSION_YET_STAFF
    assert not SideEffect.objects.exists()
    assert not AuditEvent.objects.filter(object_type="side_effect").exists()
    record(user=world.users["nurse"], patient=patient, date=DAY)
    assert services.side_effect_report(user=world.users[role], **answers).session.date == DAY


@pytest.mark.parametrize(
    ("role", "message"), [("patient", "ONSET_BEFORE_FIRST_SESSION"), ("nurse", "ONSET_BEFORE_FIRST_SESSION_STAFF")]
)
def test_a_side_effect_that_began_before_the_first_session_is_refused_naming_both_days(
    nurse, patient, world, role, message
):
    """A symptom that began the day before the patient's first session is not a side effect of it: refused at the
    start date, naming that day and the first session's, nothing stored (the patient's own words, or staff's); on
    the session's day it is saved, after that session."""
    record(user=nurse, patient=patient, date=DAY)
    before = DAY - dt.timedelta(days=1)
    answers = {"patient": patient, "kind": "neck_pain", "severity": "mild", "today": TODAY}
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(user=world.users[role], onset=before, **answers)
    expected = getattr(services, message).format(onset="Sunday 1 March 2026", first="Monday 2 March 2026")
    assert refused.value.problems == (("onset", expected),)
    assert not SideEffect.objects.exists()
    assert services.side_effect_report(user=world.users[role], onset=DAY, **answers).session.date == DAY


def test_a_side_effect_cannot_start_after_today(nurse, patient, world):
    """An onset in the future is refused."""
    record(user=nurse, patient=patient, date=DAY)
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(
            user=world.users["patient"],
            patient=patient,
            kind="neck_pain",
            onset=TODAY + dt.timedelta(days=1),
            severity="mild",
            today=TODAY,
        )
    assert refused.value.problems == (("onset", services.ONSET_IN_FUTURE.format(today=TODAY)),)


def test_a_clinician_reviews_grades_and_reattributes(nurse, patient, world):
    """The review stores grade, relatedness, session and reviewer, and is audited with the session, never the grade
    or relatedness."""
    first = record(user=nurse, patient=patient, date=DAY)
    record(user=nurse, patient=patient, date=DAY + dt.timedelta(days=84))
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=TODAY, severity="severe", today=TODAY
    )
    clinician = world.users["clinician"]
    services.side_effect_review(
        user=clinician, side_effect=reported, grade="moderate", related_to_treatment=True, session=first
    )
    reported.refresh_from_db()
    assert (reported.clinician_grade, reported.related_to_treatment, reported.session) == ("moderate", True, first)
    assert reported.reviewed_by == clinician
    event = AuditEvent.objects.filter(object_type="side_effect", action=Action.UPDATE).get()
    assert event.detail == "reviewed; session 2026-03-02"


def test_a_side_effect_cannot_be_attributed_to_another_patients_session(nurse, patient, world):
    """Attribution only to the patient's own recorded sessions."""
    record(user=nurse, patient=patient, date=DAY)
    other = record(user=nurse, patient=world.same_clinic_patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=TODAY, severity="mild", today=TODAY
    )
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_review(
            user=world.users["clinician"], side_effect=reported, grade="mild", related_to_treatment=None, session=other
        )
    assert refused.value.problems == (("session", services.SESSION_NOT_THE_PATIENTS),)


def test_a_session_dated_before_the_patients_birth_is_refused_on_its_date(nurse, patient):
    """A date before the patient's birth (a slip in the year) is refused naming the date field, not crashed on."""
    before = patient.birth_date - dt.timedelta(days=1)
    with pytest.raises(services.SessionRefusedError) as refused:
        record(user=nurse, patient=patient, date=before)
    assert [field for field, _message in refused.value.problems] == ["date"]
    assert not InjectionSession.objects.filter(patient=patient, date=before).exists()


def test_something_else_without_a_description_is_refused_at_the_description(nurse, patient, world):
    """A report of "something else" with no words (or only spaces) is refused at the description, nothing stored;
    with an onset after today too, both problems are given at once; with words it is saved."""
    record(user=nurse, patient=patient, date=DAY)
    for description in ("", "  \n "):
        with pytest.raises(services.SideEffectRefusedError) as refused:
            services.side_effect_report(
                user=world.users["patient"],
                patient=patient,
                kind=SideEffectKind.OTHER,
                onset=TODAY,
                severity="moderate",
                description=description,
                today=TODAY,
            )
        assert refused.value.problems == (("description", services.DESCRIBE_SOMETHING_ELSE),)
    later = TODAY + dt.timedelta(days=1)
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(
            user=world.users["patient"], patient=patient, kind="other", onset=later, severity="mild", today=TODAY
        )
    assert [field for field, _message in refused.value.problems] == ["onset", "description"]
    assert not SideEffect.objects.exists()
    described = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="other",
        onset=TODAY,
        severity="moderate",
        description=" A rash on my forehead ",
        today=TODAY,
    )
    assert described.description == "A rash on my forehead"


def test_an_allergic_reaction_is_urgent_but_not_distant_spread(nurse, patient, world):
    """An allergic reaction is urgent (BOTOX PI Warnings and Precautions, Hypersensitivity Reactions); it is not named
    as distant spread of toxin effect, which trouble swallowing is."""
    record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="hypersensitivity", onset=TODAY, severity="mild", today=TODAY
    )
    assert (reported.urgent, reported.distant_spread) == (True, False)
    assert SideEffectKind.HYPERSENSITIVITY in URGENT_SIDE_EFFECTS
    assert DISTANT_SPREAD_SIDE_EFFECTS < URGENT_SIDE_EFFECTS


def test_a_review_without_the_clinicians_grade_is_refused(nurse, patient, world):
    """A review must carry the clinician's own grade: an empty one is refused at the grade and nothing is stored."""
    record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="neck_pain", onset=TODAY, severity="severe", today=TODAY
    )
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_review(
            user=world.users["clinician"], side_effect=reported, grade="", related_to_treatment=True, session=None
        )
    assert refused.value.problems == (("grade", services.GRADE_NEEDED),)
    reported.refresh_from_db()
    assert (reported.clinician_grade, reported.reviewed_by) == ("", None)
    assert not AuditEvent.objects.filter(object_type="side_effect", action=Action.UPDATE).exists()


# --- A booking recorded or moved meanwhile, booking limits and warnings, cancelling ---------------------------------


def test_a_booking_recorded_meanwhile_refuses_an_earlier_dated_recording(nurse, patient, world):
    """A second recording against a booking already recorded, dated a day earlier with a reason to override, is
    refused as already recorded (the "earlier session entered late" path included) and writes nothing."""
    booking = InjectionSession.objects.create(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    record(user=nurse, patient=patient, date=TODAY, booking=booking, expected_version=1)
    before = (InjectionSession.objects.count(), InjectionSiteRecord.objects.count())
    with pytest.raises(services.SessionConflictError) as conflict:
        record(
            user=world.users["clinician"],
            patient=patient,
            date=TODAY - dt.timedelta(days=1),
            booking=booking,
            expected_version=1,
            override_reason="patient travels",
        )
    assert conflict.value.messages == (services.BOOKING_ALREADY_RECORDED,)
    assert (InjectionSession.objects.count(), InjectionSiteRecord.objects.count()) == before


def test_a_booking_moved_meanwhile_refuses_an_earlier_dated_recording(nurse, patient):
    """A booking at version 2 refuses a recording from version 1 also when it is dated before the last session."""
    record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=20))
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    services.injection_session_book(
        user=nurse, session=booking, date=booking.date + dt.timedelta(days=1), expected_version=1, today=TODAY
    )
    with pytest.raises(services.SessionConflictError) as conflict:
        record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=200), booking=booking, expected_version=1)
    assert conflict.value.messages == (services.BOOKING_TAKEN,)
    assert InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED).count() == 1


def test_a_booking_more_than_two_years_ahead_is_refused(nurse, patient):
    """9999-12-31 is refused at the date as implausible; two years after today exactly is allowed."""
    booking = InjectionSession.objects.create(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    far = dt.date(9999, 12, 31)
    limit = services.booking_horizon(TODAY)
    assert limit == dt.date(2028, 6, 1)
    with pytest.raises(services.SessionRefusedError) as refused:
        services.injection_session_book(user=nurse, session=booking, date=far, expected_version=1, today=TODAY)
    assert refused.value.problems == (("date", services.BOOKING_TOO_FAR.format(date=far, years=2, limit=limit)),)
    moved = services.injection_session_book(user=nurse, session=booking, date=limit, expected_version=1, today=TODAY)
    assert moved.date == limit


def test_the_booking_horizon_of_29_february_is_28_february(nurse, patient):
    """Two years after 29 February is 28 February (no such day in the later year)."""
    assert services.booking_horizon(dt.date(2028, 2, 29)) == dt.date(2030, 2, 28)


def test_a_booking_within_12_weeks_of_the_last_session_is_warned_about(nurse, patient):
    """A booking 30 days after the last session is allowed, with a warning naming the earliest due date and the
    engine's interval in weeks; one 84 days after it has none."""
    last = record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=10))
    soon = TODAY + dt.timedelta(days=20)
    earliest = last.date + dt.timedelta(days=84)
    warning = services.BOOKING_BEFORE_DUE.format(date=soon, days=30, last=last.date, earliest=earliest, weeks=12)
    assert services.booking_warnings(patient=patient, date=soon) == (warning,)
    assert services.booking_warnings(patient=patient, date=earliest) == ()


def test_the_booking_warning_names_the_engines_interval(nurse, patient, monkeypatch):
    """The warning names the interval in weeks from the engine (``selectors.interval_weeks``), not a retyped 12."""
    monkeypatch.setattr(services, "interval_weeks", lambda: 13)
    record(user=nurse, patient=patient, date=TODAY - dt.timedelta(days=10))
    (warning,) = services.booking_warnings(patient=patient, date=TODAY + dt.timedelta(days=20))
    assert "(13 weeks)" in warning
    assert "the 13-week interval" in warning


def test_a_booking_is_cancelled_and_audited(nurse, patient):
    """Cancelling a booking sets it cancelled, bumps its version and audits the date it was booked for."""
    booking = InjectionSession.objects.create(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    cancelled = services.injection_session_cancel(user=nurse, session=booking, expected_version=1)
    assert (cancelled.status, cancelled.version) == (SessionStatus.CANCELLED, 2)
    event = AuditEvent.objects.get(object_id=str(booking.external_id), action=Action.UPDATE)
    assert event.detail == f"booking of {TODAY} cancelled"


def test_only_a_current_booking_is_cancelled(nurse, patient):
    """A recorded session, and a booking changed since its version was read, are refused as conflicts."""
    session = record(user=nurse, patient=patient, date=DAY)
    with pytest.raises(services.SessionConflictError) as conflict:
        services.injection_session_cancel(user=nurse, session=session, expected_version=None)
    assert conflict.value.messages == (services.CANCEL_NOT_OPEN.format(status="recorded"),)
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    with pytest.raises(services.SessionConflictError) as stale:
        services.injection_session_cancel(user=nurse, session=booking, expected_version=7)
    assert stale.value.messages == (services.BOOKING_CHANGED,)  # not "record again": nobody was recording
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED


def test_a_side_effect_before_the_birth_date_is_refused(nurse, patient):
    """An onset before the patient's birth is refused at the onset in the diary's words (and as before the first
    session), and nothing is saved."""
    record(user=nurse, patient=patient, date=DAY)
    with pytest.raises(services.SideEffectRefusedError) as refused:
        services.side_effect_report(
            user=nurse, patient=patient, kind="neck_pain", onset=dt.date(1900, 1, 1), severity="mild", today=TODAY
        )
    birth = patient.birth_date.strftime("%A %-d %B %Y")
    assert refused.value.problems[0] == (
        "onset",
        f"Monday 1 January 1900 is before the birth date on the record ({birth}): check the year.",
    )
    assert [field for field, _message in refused.value.problems] == ["onset", "onset"]
    assert not SideEffect.objects.exists()


# --- A report form sent twice (its submission token) -----------------------------------------------------------------


@pytest.fixture
def treated(nurse, patient, world):
    """The patient and the other patient of the clinic, each with a session recorded on ``DAY``."""
    record(user=nurse, patient=patient, date=DAY)
    record(user=nurse, patient=world.same_clinic_patient, date=DAY)


def _sent(user, patient, submission, **changed):
    """Report neck pain with the form's ``submission`` token; ``changed`` alters an answer."""
    answers = {"kind": "neck_pain", "onset": TODAY, "severity": "moderate", "description": "since Tuesday"}
    answers.update(changed)
    return services.side_effect_report(user=user, patient=patient, today=TODAY, submission=submission, **answers)


def test_a_report_sent_again_with_its_token_returns_the_first_and_stores_nothing(patient, world, treated):
    """The same form sent twice (a double tap) stores one side effect: the second call returns the first report,
    and the audit trail has one event."""
    token = uuid.uuid4()
    first = _sent(world.users["patient"], patient, token)
    again = _sent(world.users["patient"], patient, token)
    assert again.pk == first.pk
    assert first.submission == token
    assert SideEffect.objects.filter(patient=patient).count() == 1
    assert AuditEvent.objects.filter(object_type="side_effect", action=Action.CREATE).count() == 1


def test_a_report_with_a_new_token_is_another_report(patient, world, treated):
    """A second form (a new token) with the same answers is a second report, and so is one with no token."""
    _sent(world.users["patient"], patient, uuid.uuid4())
    _sent(world.users["patient"], patient, uuid.uuid4())
    _sent(world.users["patient"], patient, None)
    _sent(world.users["patient"], patient, None)
    assert SideEffect.objects.filter(patient=patient).count() == 4


def test_a_form_sent_again_with_other_answers_is_refused_not_dropped(patient, world, treated):
    """A form sent once, then changed and sent again with its old token (restored by the Back button) is refused
    with ALREADY_SENT, so the second report is neither dropped silently nor stored twice; the first is kept."""
    token = uuid.uuid4()
    first = _sent(world.users["patient"], patient, token)
    with pytest.raises(services.SideEffectAlreadySentError) as refused:
        _sent(world.users["patient"], patient, token, kind="dysphagia", severity="severe")
    assert refused.value.problems == (("", services.ALREADY_SENT),)
    assert list(SideEffect.objects.filter(patient=patient)) == [first]


def test_the_same_token_for_two_patients_is_two_reports(patient, world, treated):
    """A token belongs to one patient's reports: another patient's report with it is stored."""
    token = uuid.uuid4()
    _sent(world.users["patient"], patient, token)
    _sent(world.users["nurse"], world.same_clinic_patient, token)
    assert SideEffect.objects.filter(submission=token).count() == 2


def test_a_stop_whose_reason_spans_lines_is_stored_on_one_line(world, patient):
    """A clinician's reason for stopping may hold line breaks; stored with a session recorded after the stop it
    stays one line under its check, so the session page and the procedure note read it whole."""
    from onaboard.web.injections.recorded_checks import checks_at_recording
    from tests.web.factories import TreatmentDecisionFactory

    today = TODAY
    record(user=world.users["nurse"], patient=patient, date=today - dt.timedelta(days=90), today=today)
    TreatmentDecisionFactory(
        patient=patient,
        decided_on=today - dt.timedelta(days=1),
        reason="No response.\nPatient prefers a CGRP antibody",
        decided_by=world.users["clinician"],
    )
    session = record(user=world.users["clinician"], patient=patient, date=today, today=today, override_reason="Asked.")
    (stopped,) = [c for c in checks_at_recording(session) if c.code == "stop_decision"]
    assert stopped.reasons[0].endswith("No response. Patient prefers a CGRP antibody")
    assert all(
        line.partition(": ")[0] != "Patient prefers a CGRP antibody" for line in session.check_reasons.splitlines()
    )


def test_a_booking_after_the_approval_ends_is_warned_about(nurse, patient):
    """The payer asks for a prior authorisation and the approval in force ends before the booked day: the booking is
    saved with a warning naming the gap (the session screen's own rule, ``approval_on``) and saying to ask in time;
    a day the approval covers, and a policy that asks for none, have no such warning."""
    insure(patient)
    authorisation(
        patient,
        status="approved",
        requested_on=TODAY - dt.timedelta(days=40),
        decided_on=TODAY - dt.timedelta(days=30),
        approved_from=TODAY - dt.timedelta(days=30),
        approved_until=TODAY + dt.timedelta(days=60),
    )
    covered, after = TODAY + dt.timedelta(days=60), TODAY + dt.timedelta(days=61)
    assert services.booking_warnings(patient=patient, date=covered) == ()
    (warning,) = services.booking_warnings(patient=patient, date=after)
    assert warning.startswith(
        f"The payer asks for a prior authorisation, and no prior authorisation is in force on {after.isoformat()}: "
        f"the last approval ended on {covered.isoformat()}. The booking is saved;"
    )
    PatientInsurance.objects.filter(patient=patient).update(policy_id="nice-ta260")
    assert services.booking_warnings(patient=patient, date=after) == ()


def test_every_review_is_kept_and_one_that_weakens_the_last_needs_a_reason(nurse, patient, world):
    """A clinician grades a drooping eyelid severe and related; a later review grading it mild, or calling it not
    related, is refused without a reason naming who reviewed it how, and saved with one; every review stays, in
    order, and the side effect holds the latest. Raising the grade needs no reason; the same review sent again
    without one adds nothing, except a clinician's confirming a nurse's review (kept once, as the clinician's)."""
    first = record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="eyelid_ptosis",
        onset=TODAY,
        severity="moderate",
        today=TODAY,
    )
    clinician = world.users["clinician"]
    services.side_effect_review(
        user=clinician, side_effect=reported, grade="severe", related_to_treatment=True, session=first
    )
    for grade, related in (("mild", True), ("severe", None)):
        with pytest.raises(services.SideEffectRefusedError) as refused:
            services.side_effect_review(
                user=clinician, side_effect=reported, grade=grade, related_to_treatment=related, session=first
            )
        ((field, message),) = refused.value.problems
        assert field == "reason"
        assert message.startswith(f"Give the reason for this change: {clinician.get_full_name() or clinician.username}")
        assert "as severe, related to treatment" in message
    services.side_effect_review(
        user=clinician,
        side_effect=reported,
        grade="mild",
        related_to_treatment=True,
        session=first,
        reason="  Seen in clinic: a slight droop only, resolving.  ",
    )
    for _tap in range(2):
        services.side_effect_review(
            user=nurse, side_effect=reported, grade="moderate", related_to_treatment=True, session=first
        )
    reported.refresh_from_db()
    assert (reported.clinician_grade, reported.reviewed_by) == ("moderate", nurse)
    for _tap in range(2):  # confirming the nurse's review, unchanged, is the clinician's review, kept once
        services.side_effect_review(
            user=clinician, side_effect=reported, grade="moderate", related_to_treatment=True, session=first
        )
    reported.refresh_from_db()
    assert (reported.clinician_grade, reported.reviewed_by) == ("moderate", clinician)
    kept = [(r.grade, r.reviewed_by, r.reason) for r in selectors.side_effect_reviews(reported)]
    assert kept == [
        ("severe", clinician, ""),
        ("mild", clinician, "Seen in clinic: a slight droop only, resolving."),
        ("moderate", nurse, ""),
        ("moderate", clinician, ""),
    ]


def test_a_nurses_first_review_may_not_play_down_the_patients_report(nurse, patient, world):
    """Before any clinician has reviewed it, a nurse grading the patient's severe "trouble breathing" mild, or
    calling it not related to treatment, is refused even with a reason (``REVIEW_BELOW_REPORT_CLINICIAN_ONLY``,
    naming the patient's severity), and nothing is kept; grading it as reported, relation not judged, is allowed.
    A clinician may grade it lower and call it unrelated (with a reason, after the nurse's review)."""
    first = record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="breathing_difficulty",
        onset=DAY + dt.timedelta(days=5),
        severity="severe",
        today=TODAY,
    )
    expected = services.REVIEW_BELOW_REPORT_CLINICIAN_ONLY.format(severity="severe")
    for grade, related in (("mild", None), ("moderate", True), ("severe", False)):
        with pytest.raises(services.SideEffectRefusedError) as refused:
            services.side_effect_review(
                user=nurse,
                side_effect=reported,
                grade=grade,
                related_to_treatment=related,
                session=first,
                reason="settled by the evening",
            )
        assert refused.value.problems == (("", expected),)
    assert reported.reviews.count() == 0
    reported.refresh_from_db()
    assert reported.reviewed_at is None
    services.side_effect_review(
        user=nurse, side_effect=reported, grade="severe", related_to_treatment=None, session=first
    )
    services.side_effect_review(
        user=world.users["clinician"],
        side_effect=reported,
        grade="mild",
        related_to_treatment=False,
        session=first,
        reason="Seen in clinic: a chest infection, not the injections.",
    )
    reported.refresh_from_db()
    assert (reported.clinician_grade, reported.related_to_treatment) == ("mild", False)
    assert [review.reviewed_by for review in reported.reviews.all()] == [nurse, world.users["clinician"]]


def test_a_nurse_may_not_weaken_a_clinicians_review(nurse, patient, world):
    """A nurse grading a clinician's "severe, related" review lower, or no longer related, is refused even with a
    reason, naming the clinician's review, and nothing is kept; raising it is allowed, and the session screen's line
    names who graded it (not "a clinician")."""
    first = record(user=nurse, patient=patient, date=DAY)
    reported = services.side_effect_report(
        user=world.users["patient"], patient=patient, kind="eyelid_ptosis", onset=TODAY, severity="mild", today=TODAY
    )
    clinician = world.users["clinician"]
    services.side_effect_review(
        user=clinician, side_effect=reported, grade="moderate", related_to_treatment=True, session=first
    )
    name = clinician.get_full_name() or clinician.username
    for grade, related in (("mild", True), ("moderate", False)):
        with pytest.raises(services.SideEffectRefusedError) as refused:
            services.side_effect_review(
                user=nurse,
                side_effect=reported,
                grade=grade,
                related_to_treatment=related,
                session=first,
                reason="looked fine to me",
            )
        ((field, message),) = refused.value.problems
        assert field == ""
        assert message.startswith(f"{name}, a clinician, reviewed it on ")
        assert "as moderate, related to treatment. Only a clinician may lower that grade" in message
    assert reported.reviews.count() == 1
    services.side_effect_review(
        user=nurse, side_effect=reported, grade="severe", related_to_treatment=True, session=first
    )
    reported.refresh_from_db()
    nurse_name = nurse.get_full_name() or nurse.username
    assert f"graded severe by {nurse_name}, related to treatment" in selectors.side_effect_reason(reported)
