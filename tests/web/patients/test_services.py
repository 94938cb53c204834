"""Changing the patient record (onaboard/web/patients/services.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.patients.models import Patient, PreventiveTrial
from onaboard.web.patients.services import (
    BIRTH_DATE_TOO_EARLY,
    OLDEST_AGE_YEARS,
    RECORD_NUMBER_TAKEN,
    STALE_VERSION,
    UNKNOWN_FIELDS,
    PatientVersionConflictError,
    birth_date_problem,
    other_toxin_treatment_create,
    patient_create,
    patient_update,
    preventive_trial_create,
    preventive_trial_update,
)

pytestmark = pytest.mark.django_db

TRIAL = {
    "drug": "amitriptyline",
    "drug_class": "tricyclic_antidepressant",
    "dose": "25 mg at night",
    "start": date(2024, 1, 10),
    "stop": date(2024, 6, 1),
    "stop_reason": "ineffective",
}


def test_an_update_at_the_current_version_saves_and_bumps_it(world):
    """Saving at the stored version changes the fields, bumps the version and audits the changed field names."""
    patient = world.same_clinic_patient
    saved = patient_update(
        user=world.users["nurse"], patient=patient, data={"given_name": "Samuel", "pregnant": False}, expected_version=1
    )
    assert (saved.given_name, saved.pregnant, saved.version) == ("Samuel", False, 2)
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="patient")
    assert event.detail == "changed: given_name, pregnant"
    assert event.patient_id == patient.external_id


def test_an_update_at_an_old_version_is_refused_and_saves_nothing(world):
    """The second of two saves from the same version is refused with the stored record; nothing of it is saved."""
    patient = world.same_clinic_patient
    patient_update(user=world.users["nurse"], patient=patient, data={"family_name": "Samson"}, expected_version=1)
    with pytest.raises(PatientVersionConflictError) as raised:
        patient_update(
            user=world.users["clinician"],
            patient=Patient.objects.get(pk=patient.pk),
            data={"given_name": "Samuel"},
            expected_version=1,
        )
    assert str(raised.value) == str(STALE_VERSION)
    assert raised.value.current.version == 2
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.given_name, stored.family_name, stored.version) == ("Sam", "Samson", 2)
    assert AuditEvent.objects.filter(action=Action.UPDATE).count() == 1


def test_fields_outside_the_record_cannot_be_updated(world):
    """The clinic, the portal login and the version itself are not editable through the service."""
    with pytest.raises(ValueError, match="not editable") as raised:
        patient_update(
            user=world.users["nurse"], patient=world.same_clinic_patient, data={"version": 9}, expected_version=1
        )
    assert str(raised.value) == UNKNOWN_FIELDS.format(fields="version")


def test_an_update_to_a_record_number_another_patient_holds_is_refused_at_its_field(world):
    """A record number another patient of the clinic holds (taken after the form checked it: the service is called
    without the form) is refused at ``record_number`` in the form's words instead of the database's error; nothing
    is saved or audited, and the caller's transaction can still be used."""
    patient = world.same_clinic_patient
    taken = world.own_patient.record_number
    with pytest.raises(ValidationError) as raised:
        patient_update(
            user=world.users["nurse"],
            patient=patient,
            data={"given_name": "Samuel", "record_number": taken},
            expected_version=1,
        )
    assert raised.value.message_dict == {"record_number": [str(RECORD_NUMBER_TAKEN)]}
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.given_name, stored.record_number, stored.version) == ("Sam", patient.record_number, 1)
    assert not AuditEvent.objects.filter(action=Action.UPDATE).exists()


def test_a_new_patient_is_created_and_audited(world):
    """Registering a patient creates the record in the clinic, every safety answer unasked, and audits it."""
    patient = patient_create(
        user=world.users["clinician"],
        clinic=world.clinic,
        data={
            "given_name": "Nova",
            "family_name": "Newcomb",
            "birth_date": date(1990, 2, 3),
            "sex": "female",
            "record_number": "N1",
        },
    )
    assert patient.clinic == world.clinic
    assert patient.pregnant is None
    assert AuditEvent.objects.get(action=Action.CREATE, object_type="patient").object_id == str(patient.external_id)


def test_the_oldest_birth_date_rule_refuses_a_year_more_than_120_before_todays():
    """``birth_date_problem`` (the one rule of the form, the services and every import) refuses a birth year more
    than ``OLDEST_AGE_YEARS`` (120) before today's in the form's words, and allows 120 years and no birth date."""
    today = date(2026, 3, 1)
    assert OLDEST_AGE_YEARS == 120
    assert birth_date_problem(date(1905, 12, 31), today) == str(BIRTH_DATE_TOO_EARLY)
    assert birth_date_problem(date(1906, 1, 1), today) is None
    assert birth_date_problem(None, today) is None


def test_a_new_patient_born_over_120_years_ago_is_refused_at_the_birth_date(world):
    """Registering a patient without the form (as an import does) with a birth date the details form refuses as
    too early is refused at ``birth_date`` in the form's words; nothing is stored or audited."""
    with pytest.raises(ValidationError) as raised:
        patient_create(
            user=world.users["clinician"],
            clinic=world.clinic,
            data={
                "given_name": "Olde",
                "family_name": "Yeare",
                "birth_date": date(1890, 5, 1),
                "sex": "female",
                "record_number": "N-OLD",
            },
        )
    assert raised.value.message_dict == {"birth_date": [str(BIRTH_DATE_TOO_EARLY)]}
    assert not Patient.objects.filter(record_number="N-OLD").exists()
    assert not AuditEvent.objects.filter(action=Action.CREATE).exists()


def test_a_birth_date_changed_to_over_120_years_ago_is_refused_at_its_field(world):
    """Changing a birth date without the form to one the details form refuses as too early is refused at
    ``birth_date`` in the form's words; nothing is saved or audited."""
    patient = world.same_clinic_patient
    with pytest.raises(ValidationError) as raised:
        patient_update(
            user=world.users["nurse"], patient=patient, data={"birth_date": date(1890, 5, 1)}, expected_version=1
        )
    assert raised.value.message_dict == {"birth_date": [str(BIRTH_DATE_TOO_EARLY)]}
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.birth_date, stored.version) == (patient.birth_date, 1)
    assert not AuditEvent.objects.filter(action=Action.UPDATE).exists()


def test_a_preventive_is_created_and_audited(world):
    """A preventive tried is saved with its class and reason, and the creation is audited without naming the drug."""
    trial = preventive_trial_create(user=world.users["nurse"], patient=world.same_clinic_patient, data=TRIAL)
    assert trial.patient == world.same_clinic_patient
    event = AuditEvent.objects.get(object_type="preventive_trial")
    assert event.detail == "preventive medicine added"


def test_a_preventive_stopping_before_it_started_is_refused(world):
    """The model's start <= stop rule is checked before saving."""
    with pytest.raises(ValidationError):
        preventive_trial_create(
            user=world.users["nurse"],
            patient=world.same_clinic_patient,
            data={**TRIAL, "stop": date(2023, 12, 1)},
        )
    assert not PreventiveTrial.objects.exists()


def test_the_services_ask_the_forms_rules_themselves(world):
    """A preventive starting after today or stopped while still taken, and another toxin of 0 U, are refused by the
    services (the forms' ``*_problems`` rules), so no caller can store what the form refuses; nothing is saved."""
    nurse, patient = world.users["nurse"], world.same_clinic_patient
    today = date(2026, 11, 29)
    with pytest.raises(ValidationError) as future:
        preventive_trial_create(
            user=nurse, patient=patient, data={**TRIAL, "start": date(2027, 1, 1), "stop": None}, today=today
        )
    assert "start" in future.value.message_dict
    trial = preventive_trial_create(user=nurse, patient=patient, data=TRIAL, today=today)
    with pytest.raises(ValidationError) as ongoing:
        preventive_trial_update(user=nurse, trial=trial, data={**TRIAL, "stop_reason": "ongoing"}, today=today)
    assert "stop" in ongoing.value.message_dict
    with pytest.raises(ValidationError) as units:
        other_toxin_treatment_create(
            user=nurse, patient=patient, data={"date": date(2026, 1, 5), "product": "Dysport", "units": 0}, today=today
        )
    assert "units" in units.value.message_dict
    trial.refresh_from_db()
    assert (PreventiveTrial.objects.count(), trial.stop_reason) == (1, TRIAL["stop_reason"])
    assert not patient.other_toxin_treatments.exists()


def test_the_services_refuse_a_stopped_medicine_without_its_stop_date(world):
    """A preventive created or corrected as stopped (ineffective) with no stop date is refused at the stop date by the
    services too, so no import stores it; nothing is saved."""
    from onaboard.web.patients.services import STOP_DATE_NEEDED

    nurse, patient = world.users["nurse"], world.same_clinic_patient
    today = date(2026, 11, 29)
    with pytest.raises(ValidationError) as created:
        preventive_trial_create(user=nurse, patient=patient, data={**TRIAL, "stop": None}, today=today)
    assert created.value.message_dict == {"stop": [str(STOP_DATE_NEEDED)]}
    ongoing = {**TRIAL, "stop": None, "stop_reason": "ongoing"}
    trial = preventive_trial_create(user=nurse, patient=patient, data=ongoing, today=today)
    with pytest.raises(ValidationError) as corrected:
        preventive_trial_update(user=nurse, trial=trial, data={**ongoing, "stop_reason": "ineffective"}, today=today)
    assert corrected.value.message_dict == {"stop": [str(STOP_DATE_NEEDED)]}
    trial.refresh_from_db()
    assert (PreventiveTrial.objects.count(), trial.stop_reason, trial.stop) == (1, "ongoing", None)


def test_a_preventive_correction_audits_the_changed_fields(world):
    """Correcting a preventive saves it and names the changed fields in the audit trail."""
    trial = preventive_trial_create(user=world.users["nurse"], patient=world.same_clinic_patient, data=TRIAL)
    preventive_trial_update(user=world.users["clinician"], trial=trial, data={**TRIAL, "dose": "10 mg at night"})
    trial.refresh_from_db()
    assert trial.dose == "10 mg at night"
    assert AuditEvent.objects.get(action=Action.UPDATE, object_type="preventive_trial").detail == "changed: dose"


def test_recording_another_toxin_answers_the_screening_question(world):
    """An other-toxin treatment marks the patient as asked about other toxins (and bumps the record version)."""
    patient = world.same_clinic_patient
    other_toxin_treatment_create(
        user=world.users["clinician"],
        patient=patient,
        data={"date": date(2026, 5, 1), "product": "Dysport", "units": 500, "indication": ""},
    )
    assert patient.other_toxin_asked
    assert patient.version == 2
    assert AuditEvent.objects.get(object_type="other_toxin_treatment").detail == "other toxin treatment added"


# --- The day the safety checklist was answered ------------------------------------------------------------------


def test_saving_checklist_answers_records_today_and_who(world):
    """Saving any checklist answer (the safety form) records the clinic's today and the user as when and by whom
    the checklist was answered; saving the details only leaves them as they were."""
    patient = world.same_clinic_patient
    nurse = world.users["nurse"]
    patient = patient_update(user=nurse, patient=patient, data={"given_name": "Samuel"}, expected_version=1)
    assert (patient.safety_answered_on, patient.safety_answered_by) == (None, None)
    patient = patient_update(user=nurse, patient=patient, data={"dysphagia": False}, expected_version=2)
    assert (patient.safety_answered_on, patient.safety_answered_by) == (timezone.localdate(), nurse)


def test_an_import_changing_a_per_visit_answer_leaves_the_day_not_known(world):
    """An import's answers were given on a day it does not say: one changing an answer about the day of injection
    clears the day (an old "no" is not dated today), one changing only history answers keeps it."""
    patient = world.same_clinic_patient
    nurse = world.users["nurse"]
    patient = patient_update(user=nurse, patient=patient, data={"pregnant": False}, expected_version=1)
    answered = (timezone.localdate(), nurse)
    patient = patient_update(
        user=nurse, patient=patient, data={"dysphagia": True}, expected_version=2, checklist_asked=False
    )
    assert (patient.safety_answered_on, patient.safety_answered_by) == answered
    patient = patient_update(
        user=nurse, patient=patient, data={"pregnant": False}, expected_version=3, checklist_asked=False
    )
    assert (patient.safety_answered_on, patient.safety_answered_by) == answered  # the same answer: not a change
    patient = patient_update(
        user=nurse, patient=patient, data={"breastfeeding": False}, expected_version=4, checklist_asked=False
    )
    assert (patient.safety_answered_on, patient.safety_answered_by) == (None, None)
