"""What an audit event's ``detail`` may hold (onaboard/web/audit/services.py, ``AuditEntry``): who did what to which
record, never the record's clinical content, which administrators reading the trail are otherwise kept from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from onaboard.interop.fhir import read_bundle
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import AuditEvent
from onaboard.web.injections import services as injections
from onaboard.web.interop.selectors import patients_export
from onaboard.web.interop.services import fhir_records_import
from onaboard.web.outcomes.models import Instrument
from onaboard.web.outcomes.services import questionnaire_response_record
from onaboard.web.patients.models import SAFETY_FLAGS
from onaboard.web.patients.services import other_toxin_treatment_create, preventive_trial_create
from tests.web.factories import UserFactory
from tests.web.injections.conftest import TODAY, record

FIRST = dt.date(2026, 3, 2)
EARLY = FIRST + dt.timedelta(days=60)
"""Within 12 weeks of the first session: recorded only with an override reason."""
REASON = "Severe relapse; neurologist agreed."
SEVERE_HIT6 = ["always", "very_often", "very_often", "sometimes", "always", "rarely"]
MIDAS = {"q1": 7, "q2": 8, "q3": 9, "q4": 6, "q5": 7}
TRIAL = {
    "drug": "amitriptyline",
    "drug_class": "tricyclic_antidepressant",
    "dose": "25 mg at night",
    "start": dt.date(2024, 1, 10),
    "stop": dt.date(2024, 6, 1),
    "stop_reason": "ineffective",
}
OTHER_TOXIN = {"date": dt.date(2025, 6, 3), "product": "Dysport", "units": 500, "indication": "cervical dystonia"}


def _treated_patient(world):
    """The portal patient with two sessions (the second overridden), a side effect they reported and a clinician
    reviewed, a HIT-6 and a MIDAS response, a preventive tried and another toxin given, all through the services;
    returns the patient and the clinical words and numbers no audit detail may hold."""
    patient = world.own_patient
    for flag in SAFETY_FLAGS:
        setattr(patient, flag, False)
    patient.other_toxin_asked = True
    patient.save()
    nurse, clinician = world.users["nurse"], world.users["clinician"]
    record(user=nurse, patient=patient, date=FIRST)
    early = record(user=clinician, patient=patient, date=EARLY, override_reason=REASON)
    assert early.overridden_checks == "interval"
    effect = injections.side_effect_report(
        user=world.users["patient"],
        patient=patient,
        kind="diplopia",
        onset=EARLY + dt.timedelta(days=2),
        severity="severe",
        today=TODAY,
    )
    injections.side_effect_review(
        user=clinician, side_effect=effect, grade="moderate", related_to_treatment=True, session=early
    )
    hit6 = questionnaire_response_record(
        user=world.users["patient"],
        patient=patient,
        instrument=Instrument.HIT6,
        answers=SEVERE_HIT6,
        date=TODAY,
        today=TODAY,
    )
    midas = questionnaire_response_record(
        user=world.users["patient"],
        patient=patient,
        instrument=Instrument.MIDAS,
        answers=MIDAS,
        date=TODAY,
        today=TODAY,
    )
    preventive_trial_create(user=clinician, patient=patient, data=TRIAL, today=TODAY)
    other_toxin_treatment_create(user=clinician, patient=patient, data=OTHER_TOXIN, today=TODAY)
    clinical = (
        REASON,
        "diplopia",
        "severe",
        "urgent",
        "moderate",
        "related",
        str(hit6.total),
        hit6.category,
        str(midas.total),
        midas.category,
        TRIAL["drug"],
        TRIAL["drug_class"],
        OTHER_TOXIN["product"],
        str(OTHER_TOXIN["units"]),
        OTHER_TOXIN["indication"],
    )
    return patient, clinical


def _holding_clinical(clinical):
    """The (object type, detail) of every event whose detail holds one of the ``clinical`` words or numbers as a
    word of its own (a date's digits are not a score)."""
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(word)}(?![\w-])" for word in clinical), re.IGNORECASE)
    return [(event.object_type, event.detail) for event in AuditEvent.objects.all() if pattern.search(event.detail)]


def test_no_audit_detail_holds_the_clinical_content_the_services_recorded(world):
    """Recording an overridden session, a side effect and its review, a HIT-6 and a MIDAS response, a preventive and
    another toxin writes events naming the action and the record, but no detail holds the override reason, the side
    effect's kind, severity or urgency, the clinician's grade or relatedness, a score or band, or a drug or product."""
    _patient, clinical = _treated_patient(world)
    assert AuditEvent.objects.filter(object_type="injection_session_override").get().detail == "overrode interval"
    assert _holding_clinical(clinical) == []


def test_no_audit_detail_of_an_import_holds_clinical_content(world):
    """Importing the patient's FHIR record into another clinic, then again with another toxin's units corrected,
    writes no side effect's kind or severity, product or units into an audit detail."""
    patient, clinical = _treated_patient(world)
    importer = UserFactory(username="far.clinician", role=Role.CLINICIAN, clinic=world.other_clinic)
    records = read_bundle(patients_export(user=world.users["clinician"], patients=[patient]), today=TODAY)
    fhir_records_import(user=importer, clinic=world.other_clinic, records=records, today=TODAY)
    corrected = [
        dataclasses.replace(
            each, other_toxins=tuple(dataclasses.replace(toxin, units=600) for toxin in each.other_toxins)
        )
        for each in records
    ]
    fhir_records_import(user=importer, clinic=world.other_clinic, records=corrected, today=TODAY)
    imported = AuditEvent.objects.filter(username="far.clinician")
    assert {"side_effect", "other_toxin_treatment"} <= set(imported.values_list("object_type", flat=True))
    assert _holding_clinical((*clinical, "600")) == []
