"""Export then import of the demo clinic through FHIR is lossless, and importing it again changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from onaboard.interop.fhir import read_bundle
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import AuditEvent
from onaboard.web.clinic.demo import demo_clinic_load
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession, SideEffect
from onaboard.web.interop.selectors import patients_export
from onaboard.web.interop.services import fhir_records_import
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.patients.models import Patient
from tests.web.clinic.diaries import TODAY
from tests.web.factories import ClinicFactory, UserFactory


def _without_keys(records):
    """The records with their row ids blanked (ids differ between clinics; everything else must not)."""
    blank = []
    for record in records:
        blank.append(
            dataclasses.replace(
                record,
                key="",
                sessions=tuple(dataclasses.replace(s, key="") for s in record.sessions),
                questionnaires=tuple(dataclasses.replace(q, key="") for q in record.questionnaires),
                side_effects=tuple(dataclasses.replace(e, key="") for e in record.side_effects),
                preventives=tuple(dataclasses.replace(p, key="") for p in record.preventives),
                other_toxins=tuple(dataclasses.replace(t, key="") for t in record.other_toxins),
            )
        )
    return blank


@pytest.fixture
def demo(db):
    return demo_clinic_load(today=TODAY).clinic


@pytest.mark.slow
def test_the_demo_clinic_round_trips_through_fhir_without_loss(demo):
    """Every demo patient exported, imported into an empty clinic and exported again gives the same records (the
    import asks its rules on the demo's day: its bookings are to come then)."""
    source_user = UserFactory(role=Role.CLINICIAN, clinic=demo)
    exported = patients_export(user=source_user, patients=Patient.objects.filter(clinic=demo))
    text = json.dumps(exported)
    target = ClinicFactory(name="Receiving clinic")
    importer = UserFactory(role=Role.CLINICIAN, clinic=target)
    records = read_bundle(json.loads(text), today=TODAY)
    summary = fhir_records_import(user=importer, clinic=target, records=records, today=TODAY)
    assert summary.counts["patients"] == [Patient.objects.filter(clinic=demo).count(), 0, 0]
    again = patients_export(user=importer, patients=Patient.objects.filter(clinic=target))
    assert _without_keys(read_bundle(again, today=TODAY)) == _without_keys(records)
    assert (
        DiaryEntry.objects.filter(patient__clinic=target).count()
        == DiaryEntry.objects.filter(patient__clinic=demo).count()
    )
    counts = (
        InjectionSession.objects.filter(patient__clinic=target).count(),
        QuestionnaireResponse.objects.filter(patient__clinic=target).count(),
        SideEffect.objects.filter(patient__clinic=target).count(),
    )
    assert counts == (
        InjectionSession.objects.filter(patient__clinic=demo).count(),
        QuestionnaireResponse.objects.filter(patient__clinic=demo).count(),
        SideEffect.objects.filter(patient__clinic=demo).count(),
    )
    events = AuditEvent.objects.count()
    second = fhir_records_import(user=importer, clinic=target, records=records, today=TODAY)
    assert not second.changed
    assert AuditEvent.objects.count() == events


def test_two_side_effects_of_one_kind_on_one_day_re_import_as_themselves(db):
    """Neck pain on both sides reported the same day are two rows: the clinic's own export imports back unchanged
    (no updates, no audit events), and a changed clinician's grade on one of them lands on that one."""
    from onaboard.web.injections.models import Severity, SideEffectKind
    from tests.web.factories import PatientFactory

    clinic = ClinicFactory(name="Side effects clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic)
    patient = PatientFactory(clinic=clinic)
    onset = TODAY
    left, right = (
        SideEffect.objects.create(
            patient=patient, kind=SideEffectKind.NECK_PAIN, onset=onset, severity=severity, description=side
        )
        for severity, side in ((Severity.MILD, "left"), (Severity.MODERATE, "right"))
    )
    records = read_bundle(patients_export(user=clinician, patients=[patient]), today=TODAY)
    events = AuditEvent.objects.count()
    again = fhir_records_import(user=clinician, clinic=clinic, records=records)
    assert not again.changed
    assert AuditEvent.objects.count() == events
    (record,) = records
    graded = tuple(
        dataclasses.replace(effect, clinician_grade=Severity.SEVERE) if effect.description == "right" else effect
        for effect in record.side_effects
    )
    fhir_records_import(user=clinician, clinic=clinic, records=[dataclasses.replace(record, side_effects=graded)])
    right.refresh_from_db()
    left.refresh_from_db()
    assert (left.clinician_grade, right.clinician_grade) == ("", Severity.SEVERE)
    assert SideEffect.objects.filter(patient=patient).count() == 2
    # the grade the file gave is a review by whoever imported it, kept as every review is
    (review,) = right.reviews.all()
    assert (review.grade, review.reviewed_by, review.reason) == (
        Severity.SEVERE,
        clinician,
        "imported from a record file",
    )
    assert (right.reviewed_by, left.reviews.count()) == (clinician, 0)


def test_cancelled_sessions_beside_a_booked_one_round_trip(db):
    """Two cancelled bookings and the booking kept on the same day are exported and read back as three sessions
    (none refused as a second session of the day, none dropped), and importing them again changes nothing."""
    from onaboard.web.injections.models import SessionStatus
    from tests.web.factories import InjectionSessionFactory, PatientFactory

    clinic = ClinicFactory(name="Cancellations clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic)
    patient = PatientFactory(clinic=clinic)
    for status in (SessionStatus.CANCELLED, SessionStatus.CANCELLED, SessionStatus.BOOKED):
        InjectionSessionFactory(patient=patient, date=TODAY, status=status)
    (record,) = read_bundle(patients_export(user=clinician, patients=[patient]), today=TODAY)
    assert sorted(s.status for s in record.sessions) == ["booked", "cancelled", "cancelled"]
    again = fhir_records_import(user=clinician, clinic=clinic, records=[record])
    assert not again.changed
    assert InjectionSession.objects.filter(patient=patient).count() == 3


def test_a_preventive_of_every_stop_reason_round_trips(db):
    """A preventive still taken, one stopped for each reason (ineffective, not tolerated, contraindicated, other)
    and one contraindicated and never started (no stop date) are exported and imported into another clinic as the
    same rows, whatever MedicationStatement status each is written with; importing them again changes nothing."""
    from onaboard.clinical import StopReason
    from onaboard.web.patients.models import PreventiveTrial
    from tests.web.factories import PatientFactory

    clinic = ClinicFactory(name="Preventives clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic)
    patient = PatientFactory(clinic=clinic)
    day = TODAY - dt.timedelta(days=400)
    for number, reason in enumerate(StopReason):
        start = day + dt.timedelta(days=30 * number)
        stop = None if reason is StopReason.ONGOING else start + dt.timedelta(days=20)
        PreventiveTrial.objects.create(
            patient=patient, drug=f"drug {number}", drug_class="other", start=start, stop=stop, stop_reason=reason
        )
    PreventiveTrial.objects.create(
        patient=patient, drug="never started", drug_class="beta_blocker", start=day, stop_reason="contraindicated"
    )
    exported = patients_export(user=clinician, patients=[patient])
    records = read_bundle(json.loads(json.dumps(exported)), today=TODAY)
    target = ClinicFactory(name="Receiving clinic")
    importer = UserFactory(role=Role.CLINICIAN, clinic=target)
    fhir_records_import(user=importer, clinic=target, records=records, today=TODAY)
    again = patients_export(user=importer, patients=Patient.objects.filter(clinic=target))
    assert _without_keys(read_bundle(again, today=TODAY)) == _without_keys(records)
    assert len(records[0].preventives) == len(StopReason) + 1
    assert not fhir_records_import(user=importer, clinic=target, records=records, today=TODAY).changed


def test_rows_from_another_system_match_by_content_before_any_loose_match(db):
    """Without this database's ids (another system's Bundle), two neck pains of one day, the first listed one
    re-graded, update that one's row alone (matched record by record, it took the other's row and the two swapped);
    a booking cancelled elsewhere (its own id) becomes cancelled, no new row."""
    from onaboard.web.injections.models import SessionStatus, Severity, SideEffectKind
    from tests.web.factories import InjectionSessionFactory, PatientFactory

    clinic = ClinicFactory(name="Matching clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic)
    patient = PatientFactory(clinic=clinic)
    left, right = (
        SideEffect.objects.create(
            patient=patient, kind=SideEffectKind.NECK_PAIN, onset=TODAY, severity=severity, description=side
        )
        for severity, side in ((Severity.MILD, "left"), (Severity.MODERATE, "right"))
    )
    booking = InjectionSessionFactory(patient=patient, date=TODAY, status=SessionStatus.BOOKED)
    (record,) = read_bundle(patients_export(user=clinician, patients=[patient]), today=TODAY)
    regraded = [  # the re-graded one first: matched record by record it took the newer row (listed first)
        dataclasses.replace(e, key="", clinician_grade=Severity.SEVERE if e.description == "left" else "")
        for e in record.side_effects
    ]
    foreign = tuple(sorted(regraded, key=lambda e: e.description != "left"))
    cancelled = tuple(dataclasses.replace(s, status=SessionStatus.CANCELLED) for s in record.sessions)
    summary = fhir_records_import(
        user=clinician, clinic=clinic, records=[dataclasses.replace(record, side_effects=foreign, sessions=cancelled)]
    )
    left.refresh_from_db()
    right.refresh_from_db()
    assert (left.description, left.clinician_grade) == ("left", Severity.SEVERE)  # each row keeps its own effect
    assert (right.description, right.clinician_grade) == ("right", "")
    assert "side effects: 0 created, 1 updated, 1 unchanged" in summary.lines()
    booking.refresh_from_db()
    assert booking.status == SessionStatus.CANCELLED
    assert InjectionSession.objects.filter(patient=patient).count() == 1


def test_an_import_does_not_change_a_session_recorded_here(db):
    """A recorded session is a closed record (the app refuses to edit or move it): a Bundle that would cancel it or
    change its units is refused, naming the patient, the day and what would change, and writes nothing; the
    clinic's own export imports back unchanged."""
    from onaboard.interop.fhir.read import BundleInvalidError
    from onaboard.web.injections.models import InjectionSiteRecord, SessionStatus
    from tests.web.factories import InjectionSessionFactory, PatientFactory

    clinic = ClinicFactory(name="Recorded clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic)
    patient = PatientFactory(clinic=clinic)
    session = InjectionSessionFactory(
        patient=patient, date=TODAY, status=SessionStatus.RECORDED, total_units=5, product_lot="C1",
        product_expiry=TODAY, vials_used=1, discarded_units=195, override_reason="one site: the patient fainted",
    )  # fmt: skip
    InjectionSiteRecord.objects.create(session=session, muscle="procerus", side="midline", units=5)
    (record,) = read_bundle(patients_export(user=clinician, patients=[patient]), today=TODAY)
    assert not fhir_records_import(user=clinician, clinic=clinic, records=[record]).changed
    (recorded,) = record.sessions
    events = AuditEvent.objects.count()
    for changed, fields in (
        (dataclasses.replace(recorded, status=SessionStatus.CANCELLED), "status"),
        (dataclasses.replace(recorded, key="", lot="OTHER"), "lot"),
    ):
        with pytest.raises(BundleInvalidError) as refused:
            fhir_records_import(
                user=clinician, clinic=clinic, records=[dataclasses.replace(record, sessions=(changed,))]
            )
        (problem,) = refused.value.problems
        assert f"the session of {TODAY} is recorded, and the import would change its {fields};" in problem.message
        assert record.record_number in problem.message
    session.refresh_from_db()
    assert (session.status, session.version) == (SessionStatus.RECORDED, 1)
    assert AuditEvent.objects.count() == events


def test_a_decision_to_stop_is_exported_and_an_import_skips_it(db):
    """The clinic's export carries the decision to stop (who, why, NICE TA260 then) and revokes the CarePlan;
    importing it back into the same clinic changes nothing, and into another clinic records the patient without a
    decision (one is recorded by a clinician there), the summary saying so and that the latest was to stop."""
    from onaboard.web.clinic.demo import record_preempt_session
    from onaboard.web.outcomes.models import TreatmentDecision
    from tests.web.factories import PatientFactory, TreatmentDecisionFactory

    clinic = ClinicFactory(name="Deciding clinic")
    clinician = UserFactory(role=Role.CLINICIAN, clinic=clinic, first_name="Dana", last_name="Whitfield")
    patient = PatientFactory(clinic=clinic)
    record_preempt_session(patient, TODAY - dt.timedelta(days=90), injector=clinician, today=TODAY)
    decision = TreatmentDecisionFactory(
        patient=patient, decided_on=TODAY, reason="Patient chose to stop", decided_by=clinician, nice_verdict="continue"
    )
    document = patients_export(user=clinician, patients=[patient])
    resources = [entry["resource"] for entry in document["entry"]]
    (observation,) = [r for r in resources if r["id"] == str(decision.external_id)]
    assert observation["performer"] == [{"display": "Dana Whitfield"}]
    assert observation["note"] == [{"text": "Patient chose to stop"}]
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == "stop"
    assert next(r for r in resources if r["resourceType"] == "CarePlan")["status"] == "revoked"
    records = read_bundle(json.loads(json.dumps(document)), today=TODAY)
    events = AuditEvent.objects.count()
    again = fhir_records_import(user=clinician, clinic=clinic, records=records, today=TODAY)
    assert not again.changed
    assert again.notices() == []  # its own decision, held here: nothing to report
    assert AuditEvent.objects.count() == events
    target = ClinicFactory(name="Receiving clinic")
    importer = UserFactory(role=Role.CLINICIAN, clinic=target)
    summary = fhir_records_import(user=importer, clinic=target, records=records, today=TODAY)
    assert summary.counts["patients"] == [1, 0, 0]
    assert summary.lines()[-1] == (
        f"{patient.record_number}: the Bundle's decisions to continue or stop (1) are not imported: a decision here "
        f"is recorded by this clinic's clinicians; the latest, on {TODAY.isoformat()}, was to stop treatment: record "
        "yours if it still holds"
    )
    assert TreatmentDecision.objects.filter(patient__clinic=target).count() == 0
    assert TreatmentDecision.objects.count() == 1
