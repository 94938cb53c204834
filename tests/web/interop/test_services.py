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
    OTHER_PATIENT,
    UNKNOWN_PATIENT,
    DiaryCsvInvalidError,
    diary_csv_import,
    fhir_records_import,
    table_csv_import,
)
from tests.web.interop.races import registered_meanwhile

PARTIAL = "one site only: the patient fainted"
"""The override reason of the one-site sessions here: a session that left fixed sites out departs from the label."""


def _sessions_import(world, patient, text: str, user: str = "clinician"):
    return table_csv_import(
        user=world.users[user],
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
        patient=charted,
        date=day,
        status=SessionStatus.RECORDED,
        total_units=5,
        product_lot="C1",
        product_expiry=day,
        override_reason=PARTIAL,
    )
    InjectionSiteRecord.objects.create(session=session, muscle="procerus", side="midline", units=5)
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    header = text.splitlines()[0]
    cancelled = f"{charted.record_number},{day},cancelled" + "," * (header.count(",") - 2)  # no product: not recorded
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, f"{header}\n{cancelled}\n")
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


def _diary_refusals(world, text: str, patient=None) -> list[tuple[int, str | None, str]]:
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(
            user=world.users["clinician"], clinic=world.clinic, source=text, today=timezone.localdate(), patient=patient
        )
    return [(p.line, p.column, p.message) for p in refused.value.problems]


def test_a_refused_diary_names_its_unknown_patients_with_its_other_problems(world):
    """A diary the contract refuses still names, in line order, each record number the clinic lacks, once at the
    physical line its first row starts on (a quoted note over two lines moves it), and none the contract already
    refuses as a patient id."""
    day = timezone.localdate() - dt.timedelta(days=3)
    mine = world.own_patient.record_number
    text = (
        "patient_id,date,headache_hours,notes\n"
        f'{mine},{day},0,"two\nlines"\n'
        f"NOBODY,{day},x,\n"
        f"{mine},{day + dt.timedelta(days=1)},25,\n"
        f"NOBODY,{day + dt.timedelta(days=1)},0,\n"
        f"no body,{day},0,\n"
    )
    problems = _diary_refusals(world, text)
    assert [(line, column) for line, column, _ in problems] == [
        (4, "patient_id"),
        (4, "headache_hours"),
        (5, "headache_hours"),
        (7, "patient_id"),
    ]
    assert problems[0][2] == UNKNOWN_PATIENT.format(value="NOBODY")
    assert problems[3][2].startswith("patient id must be")
    assert len(_diary_refusals(world, text, patient=world.own_patient)) == 4  # NOBODY: another patient, once


def test_a_diary_with_bad_quoting_still_names_the_other_patient_of_the_rows_before_it(world):
    """Bad quoting stops the reading at its line; another patient's row before it is listed in line order with it,
    and a file whose header lacks a required column lists the contract's problem alone."""
    day = timezone.localdate() - dt.timedelta(days=3)
    mine, other = world.own_patient.record_number, world.same_clinic_patient.record_number
    text = f'patient_id,date,headache_hours,notes\n{other},{day},0,\n{mine},{day},0,"never closed\n'
    problems = _diary_refusals(world, text, patient=world.own_patient)
    assert [(line, column) for line, column, _ in problems] == [(2, "patient_id"), (3, None)]
    assert problems[0][2] == OTHER_PATIENT.format(expected=mine, value=other)
    no_date = f"patient_id,headache_hours\n{other},0\n"
    assert [column for _, column, _ in _diary_refusals(world, no_date, patient=world.own_patient)] == ["date"]


def _table_refusals(world, kind: str, text: str, patient=None) -> list[tuple[int, str | None, str]]:
    with pytest.raises(DiaryCsvInvalidError) as refused:
        table_csv_import(
            user=world.users["clinician"],
            clinic=world.clinic,
            kind=kind,
            source=text,
            today=timezone.localdate(),
            patient=patient,
        )
    return [(p.line, p.column, p.message) for p in refused.value.problems]


def test_a_refused_sessions_csv_names_its_unknown_and_other_patients_with_its_format_problems(world):
    """A sessions file the table reader refuses still names, in line order, each record number the clinic lacks
    (once, at its first row) and, imported for one patient, each other patient's; a row whose patient id is blank
    is the reader's problem alone."""
    day = timezone.localdate() - dt.timedelta(days=100)
    mine, other = world.own_patient.record_number, world.same_clinic_patient.record_number
    text = (
        "patient_id,date,status\n"
        f"{mine},{day},booked\n"
        f"NOBODY,{day},maybe\n"
        f"{mine},not-a-date,booked\n"
        f"NOBODY,{day + dt.timedelta(days=90)},booked\n"
        f",{day},booked\n"
        f"{other},{day},booked\n"
    )
    problems = _table_refusals(world, "sessions", text)
    assert [(line, column) for line, column, _ in problems] == [
        (3, "patient_id"),
        (3, "status"),
        (4, "date"),
        (6, "patient_id"),
    ]
    assert problems[0][2] == UNKNOWN_PATIENT.format(value="NOBODY")
    mine_only = _table_refusals(world, "sessions", text, patient=world.own_patient)
    assert [(line, column) for line, column, _ in mine_only] == [
        (3, "patient_id"),
        (3, "status"),
        (4, "date"),
        (6, "patient_id"),
        (7, "patient_id"),
    ]
    assert mine_only[0][2] == OTHER_PATIENT.format(expected=mine, value="NOBODY")
    assert mine_only[4][2] == OTHER_PATIENT.format(expected=mine, value=other)


def test_a_refused_preventives_csv_names_its_unknown_patients_and_a_missing_column_alone(world):
    """A preventives file with a bad row also names the record number the clinic lacks, in line order; a file whose
    header lacks a column the reader requires lists that problem alone."""
    mine = world.own_patient.record_number
    text = (
        "patient_id,drug,drug_class,start,stop_reason\n"
        f"{mine},topiramate,nonsense,2025-01-01,ongoing\n"
        "NOBODY,propranolol,beta_blocker,2025-01-01,ongoing\n"
    )
    problems = _table_refusals(world, "preventives", text)
    assert [(line, column) for line, column, _ in problems] == [(2, "drug_class"), (3, "patient_id")]
    assert problems[1][2] == UNKNOWN_PATIENT.format(value="NOBODY")
    no_start = "patient_id,drug,drug_class,stop_reason\nNOBODY,propranolol,beta_blocker,ongoing\n"
    assert [column for _, column, _ in _table_refusals(world, "preventives", no_start)] == ["start"]


def test_a_questionnaire_dated_after_the_imports_today_is_refused_as_the_questionnaire_page_refuses_it(world, charted):
    """A Bundle's HIT-6 dated after the import's ``today`` is refused at it with the questionnaire page's words
    (``questionnaire_date_problem`` asked on the import's today, as every other rule of the import is, not on the
    clock's), and nothing is written."""
    from onaboard.web.common.words import plain_day
    from onaboard.web.outcomes.models import QuestionnaireResponse
    from onaboard.web.outcomes.services import DATE_AFTER_TODAY

    (record,) = _exported(world, charted)
    (answered,) = record.questionnaires
    today = answered.date - dt.timedelta(days=1)  # the answer is of yesterday: two days before the clock's today
    QuestionnaireResponse.objects.filter(patient=charted).delete()  # the Bundle's answer is new
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[record], today=today)
    expected = DATE_AFTER_TODAY.format(today=plain_day(today))
    (problem,) = refused.value.problems
    assert problem.message.endswith(f": {expected}")
    assert not QuestionnaireResponse.objects.filter(patient=charted).exists()


def test_a_diary_file_with_a_contract_problem_lists_its_days_before_birth_too(world, charted):
    """A file whose row 2 breaks the contract (30 hours) and whose row 3 is dated before the birth date lists both
    at once: the day before birth was listed only once the hours were mended."""
    from onaboard.web.diary.services import day_before_birth_problem

    early = charted.birth_date - dt.timedelta(days=1)
    day = timezone.localdate() - dt.timedelta(days=5)
    text = (
        "patient_id,date,headache_hours,intensity\n"
        f"{charted.record_number},{day},30,severe\n{charted.record_number},{early},5,severe\n"
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(user=world.users["clinician"], clinic=world.clinic, source=text, today=timezone.localdate())
    assert [(p.line, p.column) for p in refused.value.problems] == [(2, "headache_hours"), (3, "date")]
    assert refused.value.problems[1].message == day_before_birth_problem(charted, early)


def test_imports_refuse_a_session_before_birth_and_a_birth_date_after_the_record(world, charted):
    """A sessions CSV row dated before the birth date is refused at its date (the session screen refuses it), and
    a Bundle moving the birth date after the record's first day is refused (the details form refuses it): either
    left the patient's details unsaveable. A side effect's description longer than the report form allows is
    refused too."""
    from onaboard.web.injections.models import DESCRIPTION_MAX_LENGTH
    from onaboard.web.injections.selectors import BEFORE_BIRTH
    from onaboard.web.patients.services import BIRTH_AFTER_FIRST_RECORD

    early = charted.birth_date - dt.timedelta(days=400)
    header = (
        "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites,override_reason\n"
    )
    row = (
        f"{charted.record_number},{early},recorded,200,1,5,195,C1,{early + dt.timedelta(days=90)},procerus:midline:5,"
        f"{PARTIAL}\n"
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


def test_a_bundle_with_a_birth_date_after_today_is_refused_and_nothing_is_written(world, charted):
    """A new patient, or a stored one, whose Bundle brings a birth date after today is refused at the birth date
    (the details form refuses it; stored, the patient had no age, and the worklist and their page could not be
    judged); no patient is created and the stored one keeps their birth date."""
    from onaboard.web.interop.services import BIRTH_AFTER_TODAY
    from onaboard.web.patients.models import Patient

    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[charted]), today=today)
    new = dataclasses.replace(record, key="", record_number="NEW-0001", birth_date=tomorrow)
    for refused_record in (new, dataclasses.replace(record, birth_date=tomorrow)):
        with pytest.raises(BundleInvalidError) as refused:
            fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[refused_record])
        messages = [problem.message for problem in refused.value.problems]
        assert any(message.endswith(BIRTH_AFTER_TODAY.format(birth=tomorrow, today=today)) for message in messages)
    assert not Patient.objects.filter(record_number="NEW-0001").exists()
    charted.refresh_from_db()
    assert charted.birth_date < today


def test_a_bundle_with_a_birth_date_over_120_years_ago_is_refused_at_it_and_nothing_is_written(world, charted):
    """A new patient, or a stored one, whose Bundle brings a birth date the details form refuses as a mistyped year
    (more than 120 years ago: ``birth_date_problem``) is refused at the Patient's birthDate in the form's words (it
    was stored, and every later save of the details form was refused); no patient is created, the stored one keeps
    their birth date, and no audit event of a write is left."""
    from onaboard.web.audit.models import Action, AuditEvent
    from onaboard.web.patients.models import Patient
    from onaboard.web.patients.services import BIRTH_DATE_TOO_EARLY

    today = timezone.localdate()
    long_ago = dt.date(1890, 5, 1)
    (record,) = read_bundle(patients_export(user=world.users["clinician"], patients=[charted]), today=today)
    new = dataclasses.replace(record, key="", record_number="NEW-0001", birth_date=long_ago)
    stored = dataclasses.replace(record, birth_date=long_ago)
    written = AuditEvent.objects.exclude(action=Action.READ).count()
    for refused_record, at in (
        (new, "Bundle.entry.resource.where(identifier.value = 'NEW-0001').birthDate"),
        (stored, f"Bundle.entry.resource.where(id = '{charted.external_id}').birthDate"),
    ):
        with pytest.raises(BundleInvalidError) as refused:
            fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[refused_record])
        assert [(p.expression, p.message) for p in refused.value.problems] == [
            (at, f"patient {refused_record.record_number}: {BIRTH_DATE_TOO_EARLY}")
        ]
    assert not Patient.objects.filter(record_number="NEW-0001").exists()
    charted.refresh_from_db()
    assert charted.birth_date == record.birth_date
    assert AuditEvent.objects.exclude(action=Action.READ).count() == written


def _exported(world, patient):
    """The patient's records as their own exported Bundle reads back."""
    document = patients_export(user=world.users["clinician"], patients=[patient])
    return read_bundle(document, today=timezone.localdate())


def _import(world, records):
    return fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=records)


def test_a_bundle_giving_a_stored_record_number_to_another_person_is_refused(world, charted):
    """One patient's Bundle with only the record number, name and birth date changed to those of a stored
    number is refused naming both people (it turned the stored patient into the other person and merged their
    records); the same person with a corrected name, or another system's Bundle of the same person, still
    updates."""
    from onaboard.web.diary.models import DiaryEntry
    from onaboard.web.interop.services import IDENTITY_CLASH

    other = world.same_clinic_patient
    (record,) = _exported(world, charted)
    born = dt.date(1970, 1, 1)
    impostor = dataclasses.replace(
        record, record_number=other.record_number, given_name="Ann", family_name="Other", birth_date=born
    )
    with pytest.raises(BundleInvalidError) as refused:
        _import(world, [impostor])
    (problem,) = refused.value.problems
    message = IDENTITY_CLASH.format(
        record_number=other.record_number,
        stored_name=f"{other.given_name} {other.family_name}",
        stored_birth=other.birth_date,
        name="Ann Other",
        birth=born,
    )
    assert problem.message == f"patient {other.record_number}: {message}"
    assert problem.expression == f"Bundle.entry.resource.where(id = '{charted.external_id}')"
    stored = type(other).objects.get(pk=other.pk)
    assert (stored.given_name, stored.family_name, stored.birth_date) == (
        other.given_name,
        other.family_name,
        other.birth_date,
    )
    assert not DiaryEntry.objects.filter(patient=other).exists()
    assert not InjectionSession.objects.filter(patient=other).exists()
    corrected = _import(world, [dataclasses.replace(record, given_name="Patricia")])
    assert "patients: 0 created, 1 updated, 0 unchanged" in corrected.lines()
    charted.refresh_from_db()
    assert charted.given_name == "Patricia"
    elsewhere = dataclasses.replace(record, key="", given_name="Patricia")
    assert "patients: 0 created, 0 updated, 1 unchanged" in _import(world, [elsewhere]).lines()


def test_imported_rows_are_asked_the_pages_rules_and_every_problem_is_named(world, charted):
    """Preventives, other toxins, side effects and sessions the pages would refuse (a date after today or before
    birth, a stop date on a medicine still taken or before its start, none on one stopped, under 1 U, an onset
    before birth, "something else" undescribed, a severity onaboard does not record, an expired product, a lot
    longer than its field, a latest session leaving the booking two weeks ahead open) are all refused together, in
    plain words, and nothing is written."""
    from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
    from onaboard.clinical.cycles import REASON_INTERVAL_SHORT
    from onaboard.interop.fhir.records import OtherToxinRecord, PreventiveRecord, SessionRecord, SiteRecord
    from onaboard.web.common.words import before_birth_plain
    from onaboard.web.injections.services import DESCRIBE_SOMETHING_ELSE, PRODUCT_EXPIRED
    from onaboard.web.interop.services import BOOKING_LEFT_OPEN, NOT_A_CHOICE, TOO_LONG
    from onaboard.web.patients.services import (
        DATE_BEFORE_BIRTH,
        DATE_IN_FUTURE,
        STOP_BEFORE_START,
        STOP_DATE_NEEDED,
        STOP_WHILE_ONGOING,
        UNITS_AT_LEAST_ONE,
    )

    (record,) = _exported(world, charted)
    today, birth = timezone.localdate(), charted.birth_date
    early = birth - dt.timedelta(days=1)
    week_ago = today - dt.timedelta(days=7)
    preventives = (
        PreventiveRecord("p1", "propranolol", "beta_blocker", today + dt.timedelta(days=1), None, "ongoing"),
        PreventiveRecord("p2", "topiramate", "anticonvulsant", early, week_ago, "ineffective"),
        PreventiveRecord("p3", "amitriptyline", "tricyclic_antidepressant", week_ago, today, "ongoing"),
        PreventiveRecord("p4", "candesartan", "angiotensin", week_ago, week_ago - dt.timedelta(days=1), "other"),
        PreventiveRecord("p5", "erenumab", "cgrp_monoclonal_antibody", week_ago, None, "ineffective"),
    )
    toxins = (
        OtherToxinRecord("t1", today + dt.timedelta(days=1), "Xeomin", 20),
        OtherToxinRecord("t2", early, "Dysport", 20),
        OtherToxinRecord("t3", week_ago, "Bocouture", 0),
    )
    effects = (
        SideEffectRecord("e1", "neck_pain", early, "mild"),
        SideEffectRecord("e2", "other", week_ago, "mild"),
        SideEffectRecord("e3", "neck_pain", week_ago, "life-threatening"),
    )
    expiry = week_ago - dt.timedelta(days=30)
    session = SessionRecord(
        "s1",
        week_ago,
        "recorded",
        total_units=5,
        lot="L" * 41,
        expiry=expiry,
        override_reason=PARTIAL,
        sites=(SiteRecord("procerus", "midline", 5),),
    )
    changed = dataclasses.replace(
        record,
        preventives=preventives,
        other_toxins=toxins,
        side_effects=effects,
        sessions=(*record.sessions, session),
    )
    before_birth = str(DATE_BEFORE_BIRTH) % {"birth": birth.isoformat()}
    booking = InjectionSession.objects.get(patient=charted).date
    too_soon = REASON_INTERVAL_SHORT.format(
        proposed=booking, days="21 days", previous=week_ago, interval=RETREATMENT_INTERVAL_DAYS
    )
    with pytest.raises(BundleInvalidError) as refused:
        _import(world, [changed])
    where = "Bundle.entry.resource.where(id = '{}')".format
    expected = [
        (where("p1") + ".effectivePeriod.start", f"start: {DATE_IN_FUTURE}"),
        (where("p2") + ".effectivePeriod.start", f"start: {before_birth}"),
        (where("p3") + ".effectivePeriod.end", f"stop: {STOP_WHILE_ONGOING}"),
        (where("p4") + ".effectivePeriod.end", f"stop: {STOP_BEFORE_START}"),
        (where("p5") + ".effectivePeriod.end", f"stop: {STOP_DATE_NEEDED}"),
        (where("t1") + ".effectiveDateTime", f"date: {DATE_IN_FUTURE}"),
        (where("t2") + ".effectiveDateTime", f"date: {before_birth}"),
        (where("t3") + ".dosage[0].doseAndRate[0].doseQuantity", f"units: {UNITS_AT_LEAST_ONE}"),
        (where("s1"), PRODUCT_EXPIRED.format(expiry=expiry, date=week_ago)),
        (where("s1"), TOO_LONG.format(what="lot", length=41, limit=40)),
        (where("s1"), BOOKING_LEFT_OPEN.format(date=week_ago, booking=booking, reason=too_soon)),
        (where("e1") + ".date", before_birth_plain(early, birth)),
        (where("e2"), DESCRIBE_SOMETHING_ELSE),
        (
            where("e3") + ".severity",
            NOT_A_CHOICE.format(what="how bad", value="life-threatening", choices="mild, moderate, severe"),
        ),
    ]
    found = [(p.expression, p.message) for p in refused.value.problems]
    assert found == [(at, f"patient {charted.record_number}: {message}") for at, message in expected]
    assert not charted.preventive_trials.exists()
    assert not charted.other_toxin_treatments.exists()
    assert not SideEffect.objects.filter(patient=charted).exists()
    assert InjectionSession.objects.filter(patient=charted).count() == 1


def _another_systems_statement(world, patient, status: str, *, end: bool) -> tuple[dict, int]:
    """The patient's Bundle holding one preventive as another system writes it: MedicationStatement ``status``, no
    statusReason, with or without its effectivePeriod.end; and the index of its entry."""
    from onaboard.interop.fhir import bundle
    from onaboard.interop.fhir.records import PreventiveRecord

    (record,) = _exported(world, patient)
    start = timezone.localdate() - dt.timedelta(days=90)
    key = "0d6c2b1e-0000-4000-8000-00000000e1e5"  # another system's id
    trial = PreventiveRecord(key, "erenumab", "cgrp_monoclonal_antibody", start, start + dt.timedelta(days=60), "other")
    document = bundle([dataclasses.replace(record, preventives=(trial,))])
    (index,) = [
        i for i, entry in enumerate(document["entry"]) if entry["resource"]["resourceType"] == "MedicationStatement"
    ]
    statement = document["entry"][index]["resource"]
    statement["status"] = status
    del statement["statusReason"]
    if not end:
        del statement["effectivePeriod"]["end"]
    return document, index


def _bundle_import(world, document):
    from onaboard.web.interop.services import entry_places

    records = read_bundle(document, today=timezone.localdate())
    return fhir_records_import(
        user=world.users["clinician"], clinic=world.clinic, records=records, places=entry_places(document)
    )


def test_another_systems_medicine_still_taken_imports_as_still_taking(world, charted):
    """A MedicationStatement ``active`` with no end and no statusReason, as another system writes a medicine the
    patient takes, imports as still taking: it was read as stopped for another reason and, since a stopped medicine
    needs its stop date, refused at effectivePeriod.end."""
    document, _ = _another_systems_statement(world, charted, "active", end=False)
    summary = _bundle_import(world, document)
    assert "preventives: 1 created, 0 updated, 0 unchanged" in summary.lines()
    (trial,) = charted.preventive_trials.all()
    assert (trial.drug, trial.stop, trial.stop_reason) == ("erenumab", None, "ongoing")
    assert not _bundle_import(world, document).changed


@pytest.mark.parametrize("status", ["stopped", "completed"])
def test_another_systems_medicine_stopped_without_its_end_is_refused_at_the_end(world, charted, status):
    """A MedicationStatement ``stopped`` or ``completed`` (no longer taken) without effectivePeriod.end is refused
    there with the preventive form's own message, asking for the day it stopped; with the end it imports as
    stopped for another reason."""
    from onaboard.web.patients.services import STOP_DATE_NEEDED

    document, index = _another_systems_statement(world, charted, status, end=False)
    with pytest.raises(BundleInvalidError) as refused:
        _bundle_import(world, document)
    assert [(p.expression, p.message) for p in refused.value.problems] == [
        (
            f"Bundle.entry[{index}].resource.effectivePeriod.end",
            f"patient {charted.record_number}: stop: {STOP_DATE_NEEDED}",
        )
    ]
    assert not charted.preventive_trials.exists()
    document, _ = _another_systems_statement(world, charted, status, end=True)
    _bundle_import(world, document)
    (trial,) = charted.preventive_trials.all()
    assert (trial.stop is not None, trial.stop_reason) == (True, "other")


def test_the_tables_refuse_what_the_pages_refuse_at_their_line_and_column(world, charted):
    """A sessions CSV row with an expired product, and preventive rows starting after today, still taken with a
    stop date, or stopped as ineffective without one, are refused at their line and column (they were stored);
    nothing is written."""
    from onaboard.web.injections.services import PRODUCT_EXPIRED
    from onaboard.web.patients.services import DATE_IN_FUTURE, STOP_DATE_NEEDED, STOP_WHILE_ONGOING

    InjectionSession.objects.filter(patient=charted).delete()  # no booking left open beside the session
    today = timezone.localdate()
    day, expiry = today - dt.timedelta(days=7), today - dt.timedelta(days=30)
    header = (
        "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites,override_reason\n"
    )
    row = f"{charted.record_number},{day},recorded,200,1,5,195,C1,{expiry},procerus:midline:5,{PARTIAL}\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, header + row)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column, problem.message) == (
        2,
        "expiry",
        PRODUCT_EXPIRED.format(expiry=expiry, date=day),
    )
    rn, tomorrow = charted.record_number, today + dt.timedelta(days=1)
    text = (
        "patient_id,drug,drug_class,dose,start,stop,stop_reason\n"
        f"{rn},propranolol,beta_blocker,,{tomorrow},,ongoing\n"
        f"{rn},topiramate,anticonvulsant,,{day},{today},ongoing\n"
        f"{rn},erenumab,cgrp_monoclonal_antibody,,{day},,ineffective\n"
    )
    with pytest.raises(DiaryCsvInvalidError) as preventives:
        table_csv_import(
            user=world.users["clinician"], clinic=world.clinic, kind="preventives", source=text, today=today
        )
    assert [(p.line, p.column, p.message) for p in preventives.value.problems] == [
        (2, "start", f"start: {DATE_IN_FUTURE}"),
        (3, "stop", f"stop: {STOP_WHILE_ONGOING}"),
        (4, "stop", f"stop: {STOP_DATE_NEEDED}"),
    ]
    assert not InjectionSession.objects.filter(patient=charted).exists()
    assert not charted.preventive_trials.exists()


def test_an_id_two_resources_share_places_neither():
    """Ids are unique only within a resource type: a Patient and a MedicationStatement both numbered 1 are not
    placed by that id (a problem of either would point at the other), while a unique id and a diary day are."""
    from onaboard.web.interop.services import entry_places

    document = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "1"}},
            {"resource": {"resourceType": "MedicationStatement", "id": "1"}},
            {"resource": {"resourceType": "AdverseEvent", "id": "7"}},
            {
                "resource": {
                    "resourceType": "Observation",
                    "subject": {"reference": "Patient/1"},
                    "effectiveDateTime": "2026-11-02",
                }
            },
        ],
    }
    assert entry_places(document) == {"7": "Bundle.entry[2].resource", "diary/1/2026-11-02": "Bundle.entry[3].resource"}


def test_a_refused_cancelled_row_is_reported_at_its_own_line_not_at_the_days_recorded_row(world, charted):
    """A cancelled row refused on a day that also has a recorded row above it is reported at the cancelled row's
    line (it was reported at the first line of that day, the recorded session's). The file's reader refuses a lot
    too long itself; the rows are given here as read, so the import's own rules are the ones that refuse it."""
    from onaboard.interop.tables import read_sessions
    from onaboard.web.interop.services import _Lines, _table_problems

    InjectionSession.objects.filter(patient=charted).delete()
    day = timezone.localdate() - dt.timedelta(days=7)
    session = InjectionSession.objects.create(
        patient=charted,
        date=day,
        status=SessionStatus.RECORDED,
        total_units=5,
        product_lot="C1",
        product_expiry=day,
        override_reason=PARTIAL,
    )
    InjectionSiteRecord.objects.create(session=session, muscle="procerus", side="midline", units=5)
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    header, recorded = text.strip().splitlines()
    source = f"{header}\n{recorded}\n{charted.record_number},{day.isoformat()},cancelled,,,,,,,,,\n"
    rows = read_sessions(source, today=timezone.localdate())[charted.record_number]
    rows[1] = dataclasses.replace(rows[1], lot="L" * 500)
    (problem,) = _table_problems(
        user=world.users["clinician"],
        kind="sessions",
        lines=_Lines(source),
        patient_id=charted.record_number,
        patient=charted,
        records=rows,
        today=timezone.localdate(),
    )
    assert (problem.line, problem.column) == (3, "lot")


def test_a_refusal_by_a_model_after_the_rules_passed_is_reported_not_a_crash(world, charted, monkeypatch):
    """When the rules asked before writing let a row through and a model refuses it while it is written (a race),
    the import is refused at the patient with the model's words and nothing is kept (the guard crashed on a field
    the Patient model lacks)."""
    from onaboard.interop.fhir.records import PreventiveRecord
    from onaboard.web.interop import services
    from onaboard.web.patients.models import PreventiveTrial

    monkeypatch.setattr(services, "_record_problems", lambda **_: [])
    exported = patients_export(user=world.users["clinician"], patients=[charted])
    (record,) = read_bundle(exported, today=timezone.localdate())
    start = timezone.localdate() - dt.timedelta(days=30)
    trial = PreventiveRecord("", "topiramate", "anticonvulsant", start, start - dt.timedelta(days=1), "ineffective", "")
    before = PreventiveTrial.objects.count()
    with_trial = [dataclasses.replace(record, preventives=(trial,))]
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=with_trial)
    assert refused.value.problems
    assert all(problem.message.startswith(f"patient {charted.record_number}: ") for problem in refused.value.problems)
    assert PreventiveTrial.objects.count() == before


def test_locating_every_problem_of_a_csv_reads_the_file_once(world, charted, monkeypatch):
    """The problems of a diary CSV and of a preventives CSV are located from one read of the file however many
    there are (each problem read the whole file again: 6,000 days before the birth date took 33 s)."""
    import onaboard.clinical
    from onaboard.web.interop import services

    reads: list[int] = []
    real = onaboard.clinical.csv_records

    def counting(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(onaboard.clinical, "csv_records", counting)  # where the locating read found it before
    monkeypatch.setattr(services, "csv_records", counting, raising=False)
    rn, today = charted.record_number, timezone.localdate()
    days = [charted.birth_date - dt.timedelta(days=n) for n in range(1, 41)]
    diary = "patient_id,date,headache_hours\n" + "".join(f"{rn},{day},0\n" for day in days)
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(user=world.users["clinician"], clinic=world.clinic, source=diary, today=today)
    assert [p.line for p in refused.value.problems] == list(range(2, 42))
    assert len(reads) == 1
    reads.clear()
    starts = [today + dt.timedelta(days=n) for n in range(1, 41)]
    preventives = "patient_id,drug,drug_class,dose,start,stop,stop_reason\n" + "".join(
        f"{rn},drug{n},beta_blocker,,{start},,ongoing\n" for n, start in enumerate(starts)
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        table_csv_import(
            user=world.users["clinician"], clinic=world.clinic, kind="preventives", source=preventives, today=today
        )
    assert [p.line for p in refused.value.problems] == list(range(2, 42))
    assert len(reads) == 1


def test_a_booking_with_another_vial_size_round_trips_through_the_sessions_csv_unchanged(world, charted):
    """The sessions CSV leaves a booking's vial size blank, so a stored booking with a 100 U vial is unchanged by
    importing its own export (it became 200 U); the reviewer's booked row with sites is refused, nothing stored."""
    from onaboard.interop.tables import NOT_RECORDED_VALUE

    InjectionSession.objects.filter(patient=charted).update(vial_units=100)
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    assert _sessions_import(world, charted, text).lines() == ["sessions: 0 created, 0 updated, 1 unchanged"]
    assert InjectionSession.objects.get(patient=charted).vial_units == 100
    header = text.splitlines()[0]
    day = timezone.localdate() + dt.timedelta(days=100)
    row = f"{charted.record_number},{day},booked,,,,,,,corrugator:left:5;procerus:midline:5,,"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, f"{header}\n{row}\n")
    assert [(p.line, p.column, p.message) for p in refused.value.problems] == [
        (2, "sites", NOT_RECORDED_VALUE.format(status="booked"))
    ]
    assert InjectionSession.objects.filter(patient=charted).count() == 1


def test_imported_bookings_are_asked_the_booking_pages_rules(world, charted):
    """A booked row after the booking horizon, or making a second open booking (one whose day has passed too, a
    missed booking) is refused at its date with the booking page's words (each was created); the patient's own
    exported booking re-imports unchanged even once its day has passed."""
    from onaboard.web.injections.services import BOOKING_HORIZON_YEARS, BOOKING_TOO_FAR, booking_horizon
    from onaboard.web.interop.services import ONE_OPEN_BOOKING

    today, rn = timezone.localdate(), charted.record_number
    stored = InjectionSession.objects.get(patient=charted)
    past, far, second = today - dt.timedelta(days=1), dt.date(2099, 1, 5), today + dt.timedelta(days=30)
    header = "patient_id,date,status\n"
    problems = []
    for day in (past, far, second):
        with pytest.raises(DiaryCsvInvalidError) as refused:
            _sessions_import(world, charted, f"{header}{rn},{day},booked\n")
        problems += [(p.line, p.column, p.message) for p in refused.value.problems]
    limit = booking_horizon(today)
    assert problems == [
        (2, "date", ONE_OPEN_BOOKING.format(days=f"{past}, {stored.date}")),
        (2, "date", BOOKING_TOO_FAR.format(date=far, years=BOOKING_HORIZON_YEARS, limit=limit)),
        (2, "date", ONE_OPEN_BOOKING.format(days=f"{stored.date}, {second}")),
    ]
    assert list(InjectionSession.objects.filter(patient=charted)) == [stored]
    InjectionSession.objects.filter(pk=stored.pk).update(date=past)  # a booking whose day has passed (a no-show)
    text = table_csv_export(user=world.users["clinician"], patient=charted, kind="sessions", how="test")
    assert _sessions_import(world, charted, text).lines() == ["sessions: 0 created, 0 updated, 1 unchanged"]


def test_an_imported_booking_is_refused_while_the_latest_decision_is_to_stop(world, charted):
    """A treated patient whose latest decision is to stop is booked by no file, as on the booking page: the row is
    refused at its date naming the stop, nothing is stored; after a decision to continue the same file books."""
    from onaboard.web.injections.services import NO_BOOKING_AFTER_STOP
    from onaboard.web.outcomes.services import treatment_decision_record

    today, clinician = timezone.localdate(), world.users["clinician"]
    InjectionSession.objects.filter(patient=charted).delete()
    _recorded_on_screen(world, charted, today - dt.timedelta(days=60))
    InjectionSession.objects.filter(patient=charted, status=SessionStatus.BOOKED).delete()
    stop = {"reason": "Patient prefers to stop", "decided_on": today, "today": today}
    treatment_decision_record(user=clinician, patient=charted, decision="stop", **stop)
    day = today + dt.timedelta(days=40)
    source = f"patient_id,date,status\n{charted.record_number},{day},booked\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, charted, source)
    assert [(p.line, p.column, p.message) for p in refused.value.problems] == [
        (2, "date", NO_BOOKING_AFTER_STOP.format(date=today))
    ]
    assert not InjectionSession.objects.filter(patient=charted, status=SessionStatus.BOOKED).exists()
    treatment_decision_record(
        user=clinician,
        patient=charted,
        decision="continue",
        reason="Changed her mind",
        decided_on=today,
        today=today,
    )
    InjectionSession.objects.filter(patient=charted, status=SessionStatus.BOOKED).delete()  # the continue's booking
    assert _sessions_import(world, charted, source).lines() == ["sessions: 1 created, 0 updated, 0 unchanged"]


def test_a_patient_registered_by_another_import_meanwhile_is_found_on_a_second_run(world, charted, monkeypatch):
    """A Bundle whose patient another import registered after this one looked: registering them again is refused,
    so the import runs once more, finds them and reports the file unchanged (one patient, no refusal)."""
    from onaboard.web.patients.models import Patient

    exported = patients_export(user=world.users["clinician"], patients=[charted])
    records = read_bundle(exported, today=timezone.localdate())
    registered_meanwhile(monkeypatch)
    summary = fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=records)
    assert not summary.changed
    assert summary.counts["patients"] == [0, 0, 1]
    assert Patient.objects.filter(clinic=world.clinic, record_number=charted.record_number).count() == 1


def test_a_record_number_still_taken_on_the_second_run_is_refused_at_the_patient(world, charted, monkeypatch):
    """Should the second run find the record number taken again, the Bundle is refused at its Patient with the
    details form's words (an import's documented refusal, not a crash), and nothing is written."""
    from onaboard.web.patients.models import Patient
    from onaboard.web.patients.services import RECORD_NUMBER_TAKEN

    exported = patients_export(user=world.users["clinician"], patients=[charted])
    records = read_bundle(exported, today=timezone.localdate())
    registered_meanwhile(monkeypatch, for_good=True)
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=records)
    (problem,) = refused.value.problems
    assert problem.expression == f"Bundle.entry.resource.where(id = '{charted.external_id}').identifier"
    assert problem.message.startswith(f"patient {charted.record_number}: ")
    assert problem.message.endswith(str(RECORD_NUMBER_TAKEN))
    assert Patient.objects.filter(clinic=world.clinic, record_number=charted.record_number).count() == 1


# --- Matching a corrected row, the session checks, the patient's id, bookings passed -----------------------------


def _recorded_on_screen(world, patient, day: dt.date, override_reason: str = ""):
    """A standard 155 U session (the 31 fixed sites at 5 U) recorded on ``day`` through the session screen's
    service, with its checks and any override as the screen stores them."""
    from onaboard.clinical import FIXED_SITES
    from onaboard.web.injections.selectors import SiteEntry
    from onaboard.web.injections.services import injection_session_record

    sites = [SiteEntry(muscle.value, side.value, 5) for muscle, sides in FIXED_SITES.items() for side in sides]
    return injection_session_record(
        user=world.users["clinician"],
        patient=patient,
        date=day,
        sites=sites,
        vial_units=200,
        lot="C1234AB",
        expiry=day + dt.timedelta(days=365),
        override_reason=override_reason,
        today=timezone.localdate(),
    )


def _preempt_row(patient, day: dt.date, override_reason: str = "") -> str:
    """A sessions CSV row of a standard 155 U session (the 31 fixed sites at 5 U, one 200 U vial) on ``day``."""
    from onaboard.clinical import FIXED_SITES

    sites = ";".join(f"{muscle.value}:{side.value}:5" for muscle, sides in FIXED_SITES.items() for side in sides)
    expiry = day + dt.timedelta(days=365)
    return f"{patient.record_number},{day},recorded,200,1,155,45,C1234AB,{expiry},{sites},{override_reason},"


SESSIONS_HEADER = (
    "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites,override_reason,"
    "complications"
)


def test_a_preventive_or_other_toxin_corrected_in_the_patients_own_export_updates_its_row(world, charted):
    """The patient's own export with a preventive's drug or start, or another toxin's day or product, corrected
    updates that row (its id is the row's): the patient still has one trial, not a second one the payers' criteria
    count as another medicine failed."""
    from onaboard.web.patients.models import OtherToxinTreatment, PreventiveTrial

    start = timezone.localdate() - dt.timedelta(days=300)
    trial = PreventiveTrial.objects.create(
        patient=charted, drug="propranolol", drug_class="beta_blocker", start=start,
        stop=start + dt.timedelta(days=90), stop_reason="ineffective",
    )  # fmt: skip
    toxin = OtherToxinTreatment.objects.create(
        patient=charted, date=start, product="Dysport", units=300, indication="spasticity"
    )
    (record,) = _exported(world, charted)
    (exported_trial,) = record.preventives
    for corrected in (
        dataclasses.replace(exported_trial, drug="metoprolol"),
        dataclasses.replace(exported_trial, drug="metoprolol", start=start + dt.timedelta(days=1)),
    ):
        summary = _import(world, [dataclasses.replace(record, preventives=(corrected,))])
        assert "preventives: 0 created, 1 updated, 0 unchanged" in summary.lines()
        assert list(PreventiveTrial.objects.filter(patient=charted)) == [trial]
    trial.refresh_from_db()
    assert (trial.drug, trial.start) == ("metoprolol", start + dt.timedelta(days=1))
    (exported_toxin,) = record.other_toxins
    for corrected in (
        dataclasses.replace(exported_toxin, product="Xeomin"),
        dataclasses.replace(exported_toxin, product="Xeomin", date=start + dt.timedelta(days=2)),
    ):
        summary = _import(world, [dataclasses.replace(record, other_toxins=(corrected,), preventives=())])
        assert "other toxins: 0 created, 1 updated, 0 unchanged" in summary.lines()
        assert list(OtherToxinTreatment.objects.filter(patient=charted)) == [toxin]
    toxin.refresh_from_db()
    assert (toxin.product, toxin.date) == ("Xeomin", start + dt.timedelta(days=2))


def test_a_preventive_named_in_other_letter_case_on_its_start_is_the_same_medicine(world, charted):
    """A preventives CSV naming a stored trial's drug in other capitals on its start updates that trial (it added a
    second one, while the payers' criteria count both as one medicine)."""
    from onaboard.web.patients.models import PreventiveTrial

    start = timezone.localdate() - dt.timedelta(days=300)
    PreventiveTrial.objects.create(patient=charted, drug="propranolol", drug_class="beta_blocker", start=start)
    header = "patient_id,drug,drug_class,dose,start,stop,stop_reason"
    text = f"{header}\n{charted.record_number},Propranolol,beta_blocker,,{start},,ongoing\n"
    summary = table_csv_import(
        user=world.users["clinician"], clinic=world.clinic, kind="preventives", source=text,
        today=timezone.localdate(), patient=charted,
    )  # fmt: skip
    assert summary.lines() == ["preventives: 0 created, 1 updated, 0 unchanged"]
    assert list(PreventiveTrial.objects.filter(patient=charted).values_list("drug", flat=True)) == ["Propranolol"]


def test_a_recorded_session_moved_a_day_in_the_sessions_csv_is_refused_at_its_date(world):
    """The clinic's sessions CSV with a recorded session's date moved by one day is refused at that row's date,
    with the 12-week check's reason naming the session recorded the day before (it added a second 155 U session),
    and as leaving open the booking the screen made 84 days after the first, 83 after the moved one."""
    from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
    from onaboard.clinical.cycles import REASON_INTERVAL_SHORT
    from onaboard.web.injections.selectors import CheckCode, check_title
    from onaboard.web.interop.services import BOOKING_LEFT_OPEN, SESSION_CHECKS_NOT_OVERRIDDEN

    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=30)
    _recorded_on_screen(world, patient, day)
    text = table_csv_export(user=world.users["clinician"], patient=patient, kind="sessions", how="test")
    moved_day = day + dt.timedelta(days=1)
    moved = text.replace(f",{day},recorded,", f",{moved_day},recorded,")
    line = next(n for n, row in enumerate(moved.splitlines(), 1) if f",{moved_day}," in row)
    stored = InjectionSession.objects.filter(patient=patient).count()
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, patient, moved)
    reason = REASON_INTERVAL_SHORT.format(
        proposed=moved_day, days="1 day", previous=day, interval=RETREATMENT_INTERVAL_DAYS
    )
    message = SESSION_CHECKS_NOT_OVERRIDDEN.format(
        date=moved_day, checks=check_title(CheckCode.INTERVAL), reasons=reason
    )
    booking = day + dt.timedelta(days=RETREATMENT_INTERVAL_DAYS)
    assert InjectionSession.objects.filter(patient=patient, date=booking, status=SessionStatus.BOOKED).exists()
    too_soon = REASON_INTERVAL_SHORT.format(
        proposed=booking, days="83 days", previous=moved_day, interval=RETREATMENT_INTERVAL_DAYS
    )
    left_open = BOOKING_LEFT_OPEN.format(date=moved_day, booking=booking, reason=too_soon)
    assert [(p.line, p.column, p.message) for p in refused.value.problems] == [
        (line, "date", left_open),
        (line, "date", message),
    ]
    assert InjectionSession.objects.filter(patient=patient).count() == stored
    assert _sessions_import(world, patient, text).lines() == ["sessions: 0 created, 0 updated, 2 unchanged"]


def _left_open(day: dt.date, booking: dt.date) -> str:
    """``BOOKING_LEFT_OPEN`` for a session on ``day`` beside a booking on ``booking``, with the engine's reason."""
    from onaboard.clinical import ScheduleError, interval_check
    from onaboard.web.interop.services import BOOKING_LEFT_OPEN

    try:
        reason = interval_check(day, booking).reason
    except ScheduleError as refused:
        (reason,) = refused.problems
    return BOOKING_LEFT_OPEN.format(date=day, booking=booking, reason=reason)


def test_a_latest_session_leaving_an_open_booking_too_soon_after_it_is_refused_at_its_date(world):
    """A sessions CSV adding the patient's latest session 8 or 83 days before their open booking, or 3 days after a
    missed one, is refused at its date naming both days (it was added beside the booking, which stayed "next
    session booked" days after it; the screen records the session on the booking); a booking 84 days after it is
    the next session's, and the session is recorded beside it. An older session backfilled before the latest one is
    not asked, though the missed booking falls 82 days after it."""
    from onaboard.clinical.cycles import PROPOSED_BEFORE_PREVIOUS

    patient, today = world.same_clinic_patient, timezone.localdate()
    day = today - dt.timedelta(days=2)
    booking = InjectionSession.objects.create(patient=patient, date=today, status=SessionStatus.BOOKED)
    source = f"{SESSIONS_HEADER}\n{_preempt_row(patient, day)}\n"
    for gap in (8, 83, -3):
        InjectionSession.objects.filter(pk=booking.pk).update(date=day + dt.timedelta(days=gap))
        with pytest.raises(DiaryCsvInvalidError) as refused:
            _sessions_import(world, patient, source)
        expected = _left_open(day, day + dt.timedelta(days=gap))
        assert [(p.line, p.column, p.message) for p in refused.value.problems] == [(2, "date", expected)]
        assert list(InjectionSession.objects.filter(patient=patient)) == [booking]
    assert PROPOSED_BEFORE_PREVIOUS.format(proposed=day - dt.timedelta(days=3), previous=day) in expected
    InjectionSession.objects.filter(pk=booking.pk).update(date=day + dt.timedelta(days=84))
    assert _sessions_import(world, patient, source).lines() == ["sessions: 1 created, 0 updated, 0 unchanged"]
    booking.refresh_from_db()
    assert booking.status == SessionStatus.BOOKED
    InjectionSession.objects.filter(pk=booking.pk).update(date=day - dt.timedelta(days=3))  # a missed booking
    backfilled = f"{SESSIONS_HEADER}\n{_preempt_row(patient, day - dt.timedelta(days=85))}\n"
    assert _sessions_import(world, patient, backfilled).lines() == ["sessions: 1 created, 0 updated, 0 unchanged"]


def test_a_latest_session_with_its_booking_cancelled_in_the_same_sessions_csv_is_recorded(world):
    """The refused file with a cancelled row on the booking's day added is imported: the booking is cancelled and
    the session recorded, so no booking is left open eight days after the session."""
    patient, today = world.same_clinic_patient, timezone.localdate()
    day = today - dt.timedelta(days=2)
    booked = day + dt.timedelta(days=8)
    booking = InjectionSession.objects.create(patient=patient, date=booked, status=SessionStatus.BOOKED)
    source = f"{SESSIONS_HEADER}\n{_preempt_row(patient, day)}\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, patient, source)
    assert [p.message for p in refused.value.problems] == [_left_open(day, booked)]
    cancelled = f"{patient.record_number},{booked},cancelled" + "," * (SESSIONS_HEADER.count(",") - 2)
    summary = _sessions_import(world, patient, f"{source}{cancelled}\n")
    assert summary.lines() == ["sessions: 1 created, 1 updated, 0 unchanged"]
    booking.refresh_from_db()
    assert booking.status == SessionStatus.CANCELLED
    assert InjectionSession.objects.get(patient=patient, date=day).status == SessionStatus.RECORDED
    assert not InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).exists()


def test_a_bundle_adding_a_latest_session_beside_an_open_booking_is_refused_unless_it_cancels_it(world, charted):
    """The patient's own Bundle with a session added a week ago is refused at that session, the booking two weeks
    ahead left open three weeks after it; the same Bundle with the booking's status changed to cancelled records
    the session and cancels the booking."""
    from onaboard.clinical import FIXED_SITES
    from onaboard.interop.fhir.records import SessionRecord, SiteRecord

    (record,) = _exported(world, charted)
    (exported_booking,) = record.sessions
    day = timezone.localdate() - dt.timedelta(days=7)
    sites = tuple(SiteRecord(m.value, s.value, 5) for m, sides in FIXED_SITES.items() for s in sides)
    session = SessionRecord(
        "s1", day, "recorded", 200, 1, 155, 45, "C1234AB", day + dt.timedelta(days=365),
        override_reason="first session here", sites=sites,
    )  # fmt: skip
    with pytest.raises(BundleInvalidError) as refused:
        _import(world, [dataclasses.replace(record, sessions=(exported_booking, session))])
    where = "Bundle.entry.resource.where(id = 's1')"
    message = f"patient {charted.record_number}: {_left_open(day, exported_booking.date)}"
    assert [(p.expression, p.message) for p in refused.value.problems] == [(where, message)]
    assert InjectionSession.objects.filter(patient=charted).count() == 1
    cancelled = dataclasses.replace(exported_booking, status="cancelled")
    _import(world, [dataclasses.replace(record, sessions=(cancelled, session))])
    statuses = dict(InjectionSession.objects.filter(patient=charted).values_list("date", "status"))
    assert statuses == {exported_booking.date: SessionStatus.CANCELLED, day: SessionStatus.RECORDED}


def test_recorded_sessions_a_day_apart_need_an_override_reason_which_is_stored_with_the_checks(world):
    """Three 155 U sessions on three days in a sessions CSV are refused at the second's and third's dates (the
    12-week interval; the third also the 400 U in 3 months), as the session screen refuses them; with an override
    reason they are recorded, each storing the checks it overrode and their reasons as the screen does."""
    from onaboard.web.injections.selectors import CheckCode, check_title

    patient = world.same_clinic_patient
    first = timezone.localdate() - dt.timedelta(days=10)
    days = [first + dt.timedelta(days=n) for n in range(3)]
    plain = "\n".join([SESSIONS_HEADER, *(_preempt_row(patient, day) for day in days)]) + "\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, patient, plain)
    found = [(p.line, p.column) for p in refused.value.problems]
    assert found == [(3, "date"), (4, "date")]
    assert check_title(CheckCode.INTERVAL) in refused.value.problems[0].message
    assert check_title(CheckCode.CUMULATIVE_DOSE) not in refused.value.problems[0].message
    assert check_title(CheckCode.CUMULATIVE_DOSE) in refused.value.problems[1].message
    assert not InjectionSession.objects.filter(patient=patient).exists()
    reason = "given elsewhere as recorded"
    overridden = "\n".join([SESSIONS_HEADER, *(_preempt_row(patient, day, reason) for day in days)]) + "\n"
    assert _sessions_import(world, patient, overridden).lines() == ["sessions: 3 created, 0 updated, 0 unchanged"]
    stored = InjectionSession.objects.filter(patient=patient).order_by("date")
    assert [s.overridden_checks for s in stored] == ["", "interval", "interval,cumulative_dose"]
    assert stored[2].check_reasons.startswith(f"interval: 12-week rule: {days[2]} is 1 day after the session of")
    assert "\ncumulative_dose: BOTOX label: 155 U proposed + 310 U" in stored[2].check_reasons
    assert _sessions_import(world, patient, overridden).lines() == ["sessions: 0 created, 0 updated, 3 unchanged"]


def test_a_session_imported_after_a_stop_needs_a_clinicians_override_reason(world):
    """A recorded session the sessions CSV adds after a decision to stop on record fails the screen's "decision to
    stop treatment" check: refused without an override reason, refused with one from a nurse (only a clinician may
    override it, as on the screen), and recorded with a clinician's, storing the check it overrode."""
    from onaboard.web.injections.selectors import CheckCode, check_title
    from onaboard.web.injections.services import CLINICIAN_OVERRIDE_ONLY
    from onaboard.web.outcomes.services import treatment_decision_record

    patient = world.same_clinic_patient
    today, clinician = timezone.localdate(), world.users["clinician"]
    first = today - dt.timedelta(days=120)
    _recorded_on_screen(world, patient, first)
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).delete()
    stop = {"reason": "No benefit; agreed to stop", "decided_on": first + dt.timedelta(days=1), "today": today}
    treatment_decision_record(user=clinician, patient=patient, decision="stop", **stop)
    given = first + dt.timedelta(days=90)
    plain = f"{SESSIONS_HEADER}\n{_preempt_row(patient, given)}\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, patient, plain)
    ((line, column, message),) = [(p.line, p.column, p.message) for p in refused.value.problems]
    assert (line, column) == (2, "date")
    assert message.startswith(f"the session of {given} fails the {check_title(CheckCode.STOP_DECISION)} check")
    reasoned = f"{SESSIONS_HEADER}\n{_preempt_row(patient, given, 'Patient chose to go on; reviewed')}\n"
    with pytest.raises(DiaryCsvInvalidError) as by_nurse:
        _sessions_import(world, patient, reasoned, user="nurse")
    assert [(p.line, p.column, p.message) for p in by_nurse.value.problems] == [
        (2, "override_reason", CLINICIAN_OVERRIDE_ONLY.format(checks=check_title(CheckCode.STOP_DECISION)))
    ]
    assert not InjectionSession.objects.filter(patient=patient, date=given).exists()
    assert _sessions_import(world, patient, reasoned).lines() == ["sessions: 1 created, 0 updated, 0 unchanged"]
    stored = InjectionSession.objects.get(patient=patient, date=given)
    assert stored.overridden_checks == "stop_decision"
    assert stored.check_reasons.startswith(f"stop_decision: Treatment stopped on {stop['decided_on']}")


def test_a_session_imported_after_the_safety_answers_is_held_to_their_contraindication(world):
    """A recorded session the sessions CSV adds on or after the day the safety answers were taken fails the screen's
    contraindication check when they hold one (infection at the injection sites): refused without a reason, refused
    with a nurse's (a clinician's override, as on the screen), recorded with a clinician's, storing the check. A
    session before that day is not asked (the answers are not the ones that held then)."""
    from onaboard.web.injections.selectors import CheckCode, check_title
    from onaboard.web.injections.services import CLINICIAN_OVERRIDE_ONLY

    patient = world.same_clinic_patient
    today = timezone.localdate()
    _recorded_on_screen(world, patient, today - dt.timedelta(days=200))
    InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).delete()
    patient.injection_site_infection = True
    patient.safety_answered_on = today - dt.timedelta(days=100)
    patient.save()
    before, after = today - dt.timedelta(days=110), today - dt.timedelta(days=5)
    plain = f"{SESSIONS_HEADER}\n{_preempt_row(patient, before)}\n{_preempt_row(patient, after)}\n"
    with pytest.raises(DiaryCsvInvalidError) as refused:
        _sessions_import(world, patient, plain)
    ((line, column, message),) = [(p.line, p.column, p.message) for p in refused.value.problems]
    assert (line, column) == (3, "date")
    assert message.startswith(f"the session of {after} fails the {check_title(CheckCode.CONTRAINDICATION)} check")
    reason = "Infection resolved on examination; treated"
    reasoned = f"{SESSIONS_HEADER}\n{_preempt_row(patient, before)}\n{_preempt_row(patient, after, reason)}\n"
    with pytest.raises(DiaryCsvInvalidError) as by_nurse:
        _sessions_import(world, patient, reasoned, user="nurse")
    assert [(p.line, p.column, p.message) for p in by_nurse.value.problems] == [
        (3, "override_reason", CLINICIAN_OVERRIDE_ONLY.format(checks=check_title(CheckCode.CONTRAINDICATION)))
    ]
    assert _sessions_import(world, patient, reasoned).lines() == ["sessions: 2 created, 0 updated, 0 unchanged"]
    assert InjectionSession.objects.get(patient=patient, date=after).overridden_checks == "contraindication"
    assert InjectionSession.objects.get(patient=patient, date=before).overridden_checks == ""


def test_a_past_session_imported_for_a_patient_whose_request_was_denied_needs_no_approval(world):
    """The sessions import asks no prior authorisation of the sessions it adds (the screen does): a session given
    elsewhere is restored under whatever approval held then, which this clinic may never have recorded. A patient
    of a commercial payer whose only request was denied gets the session without an override reason."""
    from onaboard.web.coverage.models import PatientInsurance, PriorAuthorisation

    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=30)
    PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-a", terms_as_of=day)
    PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.719",
        requested_on=day - dt.timedelta(days=20),
        status="denied",
        decided_on=day - dt.timedelta(days=10),
    )
    text = f"{SESSIONS_HEADER}\n{_preempt_row(patient, day)}\n"
    assert _sessions_import(world, patient, text).lines() == ["sessions: 1 created, 0 updated, 0 unchanged"]
    stored = InjectionSession.objects.get(patient=patient, date=day)
    assert (stored.overridden_checks, stored.override_reason) == ("", "")


def test_a_course_restored_into_an_empty_clinic_passes_the_session_checks(world):
    """A patient's sessions 12 weeks apart and one recorded early with an override reason, exported and imported
    into another clinic, are imported as they are (the checks pass, or were overridden when recorded), and their
    export is the same; importing it again changes nothing."""
    from onaboard.web.patients.models import Patient

    patient = world.same_clinic_patient
    first = timezone.localdate() - dt.timedelta(days=250)
    _recorded_on_screen(world, patient, first)
    _recorded_on_screen(world, patient, first + dt.timedelta(days=84))
    _recorded_on_screen(world, patient, first + dt.timedelta(days=84 + 60), override_reason="migraine back early")
    (record,) = _exported(world, patient)
    assert [s.overridden_checks for s in record.sessions if s.status == "recorded"] == ["", "", "interval"]
    importer = world.users["clinician"].__class__.objects.create(
        username="importer", role="clinician", clinic=world.other_clinic
    )
    summary = fhir_records_import(user=importer, clinic=world.other_clinic, records=[record])
    assert "sessions: 4 created, 0 updated, 0 unchanged" in summary.lines()
    copy = Patient.objects.get(clinic=world.other_clinic, record_number=patient.record_number)
    (again,) = read_bundle(patients_export(user=importer, patients=[copy]), today=timezone.localdate())
    blank = [dataclasses.replace(s, key="") for s in record.sessions]
    assert [dataclasses.replace(s, key="") for s in again.sessions] == blank
    assert not fhir_records_import(user=importer, clinic=world.other_clinic, records=[record]).changed


def test_a_bundle_giving_a_stored_patients_id_another_record_number_is_refused(world, charted):
    """A patient's own export with only the record number changed is refused at the Patient's identifier naming
    both numbers (it created a new patient with a copy of the chart)."""
    from onaboard.web.interop.services import PATIENT_ID_TAKEN, entry_places
    from onaboard.web.patients.models import Patient

    document = patients_export(user=world.users["clinician"], patients=[charted])
    (record,) = read_bundle(document, today=timezone.localdate())
    places = entry_places(document)
    renumbered = dataclasses.replace(record, record_number="DEMO-0099")
    patients = Patient.objects.count()
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(user=world.users["clinician"], clinic=world.clinic, records=[renumbered], places=places)
    (problem,) = refused.value.problems
    message = PATIENT_ID_TAKEN.format(record_number="DEMO-0099", stored=charted.record_number)
    assert (problem.expression, problem.message) == (
        f"{places[str(charted.external_id)]}.identifier",
        f"patient DEMO-0099: {message}",
    )
    assert Patient.objects.count() == patients


def test_a_patients_export_whose_booking_day_has_passed_restores_into_an_empty_clinic(world):
    """A patient's export whose booking's day has passed unrecorded (a missed booking) imports into another clinic,
    the booking stored as it stands (the whole import was refused: "A booking must be today or later")."""
    from onaboard.web.patients.models import Patient

    patient = world.same_clinic_patient
    passed = timezone.localdate() - dt.timedelta(days=3)
    InjectionSession.objects.create(patient=patient, date=passed, status=SessionStatus.BOOKED)
    (record,) = _exported(world, patient)
    importer = world.users["clinician"].__class__.objects.create(
        username="importer", role="clinician", clinic=world.other_clinic
    )
    summary = fhir_records_import(user=importer, clinic=world.other_clinic, records=[record])
    assert "sessions: 1 created, 0 updated, 0 unchanged" in summary.lines()
    copy = Patient.objects.get(clinic=world.other_clinic, record_number=patient.record_number)
    assert list(InjectionSession.objects.filter(patient=copy).values_list("date", "status")) == [
        (passed, SessionStatus.BOOKED)
    ]


def test_a_diary_csv_replacing_stored_answers_says_which_days_and_fields_it_changes(world, charted):
    """A diary CSV that leaves out the symptom columns replaces the patient's stored answers with "no" on its days
    (the contract: blank counts as no); the result, shown by "Only check the file" too, names each stored day it
    changes and what changes on it (it said only "2 updated"), and a day whose answers it keeps is not named."""
    from onaboard.web.interop.services import DIARY_DAY_CHANGES, DIARY_DAYS_CHANGED

    today, rn = timezone.localdate(), charted.record_number
    two, one, three = (today - dt.timedelta(days=ago) for ago in (2, 1, 3))
    text = f"patient_id,date,headache_hours,intensity\n{rn},{three},0,\n{rn},{two},6,severe\n{rn},{one},2.5,severe\n"
    summary = diary_csv_import(
        user=world.users["clinician"], clinic=world.clinic, source=text, today=today, patient=charted
    )
    days = ", ".join(DIARY_DAY_CHANGES.format(day=day, fields="nausea, acute medicines") for day in (two, one))
    assert summary.lines() == [
        "diary days: 0 created, 2 updated, 1 unchanged",
        DIARY_DAYS_CHANGED.format(record_number=rn, count=2, days=days),
    ]


def test_a_refused_diary_file_tells_nothing_of_another_patients_days(world, charted):
    """A patient's own file with a contract problem and rows naming another patient of the clinic lists those rows
    as another patient's only: never that patient's birth date or first treatment (an upload must not read them)."""
    other = world.same_clinic_patient
    early = other.birth_date - dt.timedelta(days=1)
    day = timezone.localdate() - dt.timedelta(days=5)
    text = (
        "patient_id,date,headache_hours,intensity\n"
        f"{charted.record_number},{day},abc,severe\n{other.record_number},{day},2,mild\n"
        f"{other.record_number},{early},2,mild\n"
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(
            user=world.users["patient"],
            clinic=world.clinic,
            source=text,
            today=timezone.localdate(),
            patient=charted,
        )
    messages = " ".join(p.message for p in refused.value.problems)
    assert other.birth_date.isoformat() not in messages
    assert [p.line for p in refused.value.problems if p.column == "date"] == []


def test_a_side_effect_put_down_to_a_session_after_its_onset_is_refused(world, charted):
    """A Bundle's side effect that began before the session it names (the review refuses that pairing) is refused
    naming both days, and nothing is stored: stored, it failed the clinic's whole cohort report (409)."""
    from onaboard.web.injections.services import SESSION_AFTER_ONSET

    InjectionSession.objects.filter(patient=charted).delete()
    day = timezone.localdate() - dt.timedelta(days=10)
    _recorded_on_screen(world, charted, day)
    records = read_bundle(
        patients_export(user=world.users["clinician"], patients=[charted]), today=timezone.localdate()
    )
    effect = SideEffectRecord("", "neck_pain", day - dt.timedelta(days=3), "mild", session_date=day)
    with pytest.raises(BundleInvalidError) as refused:
        fhir_records_import(
            user=world.users["clinician"],
            clinic=world.clinic,
            records=[dataclasses.replace(records[0], side_effects=(effect,))],
        )
    (problem,) = refused.value.problems
    message = SESSION_AFTER_ONSET.format(session=day, onset=effect.onset)
    assert problem.message == f"patient {charted.record_number}: {message}"
    assert not SideEffect.objects.filter(patient=charted).exists()
