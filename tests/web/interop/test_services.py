"""Importing into the database (onaboard/web/interop/services.py): what a re-imported file changes, and what not."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone

from onaboard.interop.fhir import BundleInvalidError, read_bundle
from onaboard.interop.fhir.records import SideEffectRecord
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus, SideEffect
from onaboard.web.interop.selectors import patients_export, table_csv_export
from onaboard.web.interop.services import (
    NO_SESSION_THAT_DAY,
    DiaryCsvInvalidError,
    diary_csv_import,
    fhir_records_import,
    table_csv_import,
)


def _sessions_import(world, patient, text: str):
    return table_csv_import(
        user=world.users["clinician"],
        clinic=world.clinic,
        kind="sessions",
        source=text,
        today=timezone.localdate(),
        patient=patient,
    )


def test_a_booking_cancelled_in_the_exported_sessions_csv_is_cancelled(world, charted):
    """Exporting the sessions CSV, changing the booking's status to cancelled and importing it cancels the booking
    (it added a cancelled row beside the booking, which stayed booked); importing the new export changes nothing."""
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    assert ",booked," in text
    summary = _sessions_import(world, charted, text.replace(",booked,", ",cancelled,"))
    assert summary.lines() == ["sessions: 0 created, 1 updated, 0 unchanged"]
    assert list(InjectionSession.objects.filter(patient=charted).values_list("status", flat=True)) == ["cancelled"]
    again = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    assert _sessions_import(world, charted, again).lines() == ["sessions: 0 created, 0 updated, 1 unchanged"]


def test_a_cancelled_row_on_the_day_of_a_recorded_session_is_refused_not_added(world, charted):
    """A recorded session's row changed to cancelled is refused as a change to a recorded session (a cancelled row
    was added beside it, the file saying it was cancelled and the record that it was given)."""
    InjectionSession.objects.filter(patient=charted).delete()
    day = timezone.localdate() - dt.timedelta(days=7)
    session = InjectionSession.objects.create(
        patient=charted, date=day, status=SessionStatus.RECORDED, total_units=5, product_lot="C1", product_expiry=day
    )
    InjectionSiteRecord.objects.create(session=session, muscle="procerus", side="midline", units=5)
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, text.replace(",recorded,", ",cancelled,"))
    (problem,) = refused.value.problems
    assert problem.message.startswith(f"the session of {day} is recorded, and the import would change its status")
    assert InjectionSession.objects.filter(patient=charted).count() == 1


def test_a_side_effect_attributed_to_a_day_without_a_recorded_session_is_refused(world, charted):
    """A side effect whose sessionDate names no recorded session is refused naming it (stored without its session,
    each import of the same Bundle reported it "1 updated"); with no sessionDate it is imported."""
    records = read_bundle(
        patients_export(user=world.users["clinician"], patients=[charted]), today=timezone.localdate()
    )
    effect = SideEffectRecord(
        "", "neck_pain", timezone.localdate(), "mild", session_date=timezone.localdate() - dt.timedelta(days=5)
    )
    with_effect = [dataclasses.replace(records[0], side_effects=(effect,))]
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=with_effect)
    (problem,) = refused.value.problems
    message = NO_SESSION_THAT_DAY.format(kind="neck_pain", onset=effect.onset, day=effect.session_date)
    assert problem.message == f"patient {charted.record_number}: {message}"
    assert not SideEffect.objects.filter(patient=charted).exists()
    unattributed = [dataclasses.replace(records[0], side_effects=(dataclasses.replace(effect, session_date=None),))]
    fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=unattributed)
    again = fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=unattributed)
    assert not again.changed


def test_diary_days_before_the_birth_date_are_refused_by_the_imports_too(world, charted):
    """The diary pages refuse a day before the birth date; so do the diary CSV (at the row's date) and a Bundle
    (naming the patient), and nothing is written: such a day made the patient's details unsaveable."""
    from onaboard.web.diary.models import DiaryEntry
    from onaboard.web.diary.services import day_before_birth_problem

    early = charted.birth_date - dt.timedelta(days=1)
    before = DiaryEntry.objects.filter(patient=charted).count()
    text = f"patient_id,date,headache_hours\n{charted.record_number},{early},0\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(user=world.users["clinician"], clinic=world.clinic, source=text, today=timezone.localdate())
    (problem,) = refused.value.problems
    assert (problem.line, problem.column, problem.message) == (2, "date", day_before_birth_problem(charted, early))
    records = read_bundle(
        patients_export(user=world.users["clinician"], patients=[charted]), today=timezone.localdate()
    )
    day = dataclasses.replace(records[0].diary[0], date=early)
    with pytest.raises(BundleInvalidError) as bundle_refused:
        fhir_records_import(
            user=world.users["clinician"],
            clinic=world.clinic,
            records=[dataclasses.replace(records[0], diary=(day, *records[0].diary))],
        )
    assert day_before_birth_problem(charted, early) in bundle_refused.value.problems[0].message
    assert DiaryEntry.objects.filter(patient=charted).count() == before


def test_imports_refuse_a_session_before_birth_and_a_birth_date_after_the_record(world, charted):
    """A sessions CSV row dated before the birth date is refused at its date (the session screen refuses it), and
    a Bundle moving the birth date after the record's first day is refused (the details form refuses it): either
    left the patient's details unsaveable. A side effect's description longer than the report form allows is
    refused too."""
    from onaboard.web.injections.models import DESCRIPTION_MAX_LENGTH
    from onaboard.web.injections.selectors import BEFORE_BIRTH
    from onaboard.web.patients.services import BIRTH_AFTER_FIRST_RECORD

    early = charted.birth_date - dt.timedelta(days=400)
    header = "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites\n"
    row = (
        f"{charted.record_number},{early},recorded,200,1,5,195,C1,{early + dt.timedelta(days=90)},procerus:midline:5\n"
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, header + row)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (2, "date")
    assert problem.message == BEFORE_BIRTH.format(date=early, birth=charted.birth_date)
    records = read_bundle(
        patients_export(user=world.users["clinician"], patients=[charted]), today=timezone.localdate()
    )
    late_birth = dataclasses.replace(records[0], birth_date=timezone.localdate())
    with pytest.raises(BundleInvalidError) as moved:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[late_birth])
    from onaboard.web.patients.selectors import first_record_date

    expected = BIRTH_AFTER_FIRST_RECORD.format(birth=timezone.localdate(), first=first_record_date(charted))
    assert moved.value.problems[0].message.endswith(expected)
    long = SideEffectRecord(
        "", "neck_pain", timezone.localdate(), "mild", description="x" * (DESCRIPTION_MAX_LENGTH + 1)
    )
    with pytest.raises(BundleInvalidError):
        fhir_records_import(
            user=world.users["clinician"],
            clinic=world.clinic,
            records=[dataclasses.replace(records[0], side_effects=(long,))],
        )
    charted.refresh_from_db()
    assert charted.birth_date != timezone.localdate()
