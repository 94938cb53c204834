"""Reading FHIR Bundles back into records (onaboard/interop/fhir/read.py): round trip and located problems."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from onaboard.clinical import AcuteClass, DiaryDay, Intensity
from onaboard.interop.fhir import BundleInvalidError, bundle, read_bundle, records
from onaboard.interop.fhir import codes as fhir_codes
from onaboard.interop.fhir import read as fhir_read
from onaboard.interop.fhir.records import (
    OtherToxinRecord,
    PatientRecord,
    PreventiveRecord,
    QuestionnaireRecord,
    SessionRecord,
    SideEffectRecord,
    SiteRecord,
)

TODAY = dt.date(2026, 6, 1)
KEY = "6f1c1f5e-0000-4000-8000-000000000001"


def _record() -> PatientRecord:
    return PatientRecord(
        key=KEY,
        record_number="MRN-1",
        given_name="Alex",
        family_name="Synthetic",
        birth_date=dt.date(1984, 5, 17),
        sex="female",
        safety=(("pregnant", False), ("dysphagia", True)),
        other_toxin_asked=True,
        diary=(
            DiaryDay("MRN-1", dt.date(2026, 5, 1), Decimal(0), aura=True),
            DiaryDay(
                "MRN-1",
                dt.date(2026, 5, 2),
                Decimal("6.5"),
                Intensity.SEVERE,
                unilateral=True,
                nausea=True,
                acute_medication=frozenset({AcuteClass.TRIPTAN, AcuteClass.OPIOID}),
                acute_relief=True,
                notes='at work, "bad"',
            ),
        ),
        sessions=(
            SessionRecord(
                "6f1c1f5e-0000-4000-8000-000000000002",
                dt.date(2026, 5, 3),
                "recorded",
                vials_used=1,
                total_units=10,
                discarded_units=190,
                lot="C1",
                expiry=dt.date(2027, 1, 1),
                override_reason="The patient fainted after two sites.",
                overridden_checks="site_dose",
                sites=(SiteRecord("procerus", "midline", 5, x=10, y=20), SiteRecord("temporalis", "left", 5, True)),
            ),
            SessionRecord("6f1c1f5e-0000-4000-8000-000000000003", dt.date(2026, 7, 26), "booked"),
        ),
        questionnaires=(
            QuestionnaireRecord(
                "6f1c1f5e-0000-4000-8000-000000000004",
                "hit6",
                dt.date(2026, 5, 2),
                ("always", "very_often", "sometimes", "rarely", "never", "always"),
                61,
                "severe_impact",
            ),
            QuestionnaireRecord(
                "6f1c1f5e-0000-4000-8000-000000000005",
                "midas",
                dt.date(2026, 5, 2),
                (("q1", 1), ("q2", 2), ("q3", 0), ("q4", 0), ("q5", 3), ("a", None), ("b", 7)),
                6,
                "II",
            ),
        ),
        side_effects=(
            SideEffectRecord(
                "6f1c1f5e-0000-4000-8000-000000000006",
                "neck_pain",
                dt.date(2026, 5, 5),
                "mild",
                "stiff",
                "mild",
                True,
                dt.date(2026, 5, 3),
            ),
        ),
        preventives=(
            PreventiveRecord(
                "6f1c1f5e-0000-4000-8000-000000000007",
                "topiramate",
                "anticonvulsant",
                dt.date(2025, 1, 1),
                dt.date(2025, 3, 1),
                "not_tolerated",
                "50 mg",
            ),
        ),
        other_toxins=(OtherToxinRecord("6f1c1f5e-0000-4000-8000-000000000008", dt.date(2026, 1, 1), "X", 20, "lines"),),
    )


def test_a_record_round_trips_through_a_bundle():
    """Every field of every kind of row comes back from the Bundle unchanged."""
    record = _record()
    document = bundle([record])
    (back,) = read_bundle(document, today=TODAY)
    assert back == record


def test_the_bundle_is_a_valid_r4b_transaction_with_the_public_codes():
    """The export PUTs each resource by id and carries SNOMED CT, CPT 64615 and HCPCS J0585 (no ICD-10-CM code)."""
    from onaboard.interop.fhir.records import ConditionRecord

    record = _record()
    fields = {name: getattr(record, name) for name in record.__slots__}
    with_condition = PatientRecord(**{**fields, "condition": ConditionRecord(TODAY, ("15 or more headache days",))})
    document = bundle([with_condition])
    assert all(entry["request"]["method"] == "PUT" for entry in document["entry"])
    text = str(document)
    for code in ("37796009", "64615", "J0585"):
        assert code in text
    assert "G43." not in text  # the ICD-10-CM code is the clinician's choice (aura, intractable): not written


def _problems(document) -> list[tuple[str, str]]:
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    return [(p.expression, p.message) for p in refused.value.problems]


def test_every_problem_is_named_with_its_place():
    """Bad hours, a duplicate day, an unknown questionnaire and a site without units are all listed, in order."""
    document = bundle([_record()])
    entries = document["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    first_day = kinds.index("Observation")
    entries[first_day + 1]["resource"]["component"][0]["valueQuantity"]["value"] = 25
    duplicate = copy.deepcopy(entries[first_day])
    duplicate["fullUrl"] = "urn:uuid:6f1c1f5e-0000-4000-8000-0000000000aa"  # its own entry, the same day
    entries.append(duplicate)
    response = kinds.index("QuestionnaireResponse")
    entries[response]["resource"]["questionnaire"] = "https://example.org/q"
    administration = kinds.index("MedicationAdministration")
    del entries[administration]["resource"]["extension"][0]["extension"][1]
    assert _problems(document) == [
        (
            f"Bundle.entry[{first_day + 1}].resource.component[0]",
            "headache_hours: headache hours must be a number from 0 to 24 (got '25')",
        ),
        (
            f"Bundle.entry[{response}].resource.questionnaire",
            fhir_read.UNKNOWN_QUESTIONNAIRE.format(
                value="https://example.org/q",
                hit6="https://onaboard.org/fhir/Questionnaire/hit6",
                midas="https://onaboard.org/fhir/Questionnaire/midas",
            ),
        ),
        (f"Bundle.entry[{administration}].resource.extension[0]", fhir_read.BAD_SITE),
        (
            f"Bundle.entry[{len(entries) - 1}].resource.effectiveDateTime",
            fhir_read.DUPLICATE_DAY.format(day="2026-05-01", first=f"Bundle.entry[{first_day}].resource"),
        ),
    ]


def test_engine_refusals_of_answers_and_references_are_located():
    """HIT-6 answers the engine refuses and a subject outside the Bundle are problems at their place."""
    document = bundle([_record()])
    entries = document["entry"]
    kinds = [e["resource"]["resourceType"] for e in entries]
    response = kinds.index("QuestionnaireResponse")
    entries[response]["resource"]["item"][0]["answer"][0]["valueCoding"]["code"] = "often"
    event = kinds.index("AdverseEvent")
    entries[event]["resource"]["subject"]["reference"] = "urn:uuid:nobody"
    problems = _problems(document)
    assert problems[0][0] == f"Bundle.entry[{response}].resource.item"
    assert problems[0][1].startswith("the answers are refused: ")
    assert "often" in problems[0][1]
    assert problems[1] == (
        f"Bundle.entry[{event}].resource.subject.reference",
        fhir_read.UNKNOWN_SUBJECT.format(value="urn:uuid:nobody"),
    )


def test_structural_problems_come_from_the_fhir_models():
    """An invalid date is reported by fhir.resources with its path; other resource types are refused by name."""
    patient = {"resourceType": "Patient", "birthDate": "17/05/1984"}
    document = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient}]}
    assert _problems(document) == [
        ("Bundle.entry[0].resource.birthDate", "Date value string does not match spec regex.")
    ]
    encounter = {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"}}
    document["entry"] = [{"resource": encounter}]
    assert _problems(document) == [
        ("Bundle.entry[0].resource", fhir_read.UNSUPPORTED_RESOURCE.format(resource_type="Encounter"))
    ]
    assert _problems({"resourceType": "Patient"}) == [("Bundle", fhir_read.NOT_A_BUNDLE)]


def test_an_entry_without_a_resource_is_named_so():
    """A transaction's DELETE carries no resource: the problems say the entry holds none (it read 'onaboard does
    not import None resources') and that its method is not one an import carries out."""
    document = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "DELETE", "url": "Patient/123"}}],
    }
    assert _problems(document) == [
        ("Bundle.entry[0].request.method", fhir_read.METHOD_NOT_IMPORTED.format(method="DELETE", methods="PUT, POST")),
        ("Bundle.entry[0].resource", fhir_read.NO_RESOURCE),
    ]


def test_a_patient_without_a_record_number_or_name_is_refused():
    """The record number, the name and the birth date are required, each reported at its place."""
    document = bundle([_record()])
    patient = document["entry"][0]["resource"]
    patient["identifier"] = []
    patient["name"] = [{"family": "Synthetic"}]
    del patient["birthDate"]
    problems = _problems(document)
    assert problems[:3] == [
        ("Bundle.entry[0].resource.identifier", fhir_read.NO_RECORD_NUMBER),
        ("Bundle.entry[0].resource.name", fhir_read.NO_NAME),
        ("Bundle.entry[0].resource.birthDate", fhir_read.NO_BIRTH_DATE),
    ]


def test_unknown_resource_types_and_odd_bundle_types_are_located_problems():
    """A resourceType no R4B resource has, or a Bundle.type that is not text, is refused at its place."""
    document = bundle([_record()])
    document["entry"][1]["resource"]["resourceType"] = "NoSuchResource"
    assert _problems(document) == [
        ("Bundle.entry[1].resource.resourceType", fhir_read.UNKNOWN_TYPE.format(value="NoSuchResource"))
    ]
    document = bundle([_record()])
    document["type"] = ["transaction"]
    assert _problems(document)[0][0] == "Bundle.type"


def test_json_nulls_the_models_accept_are_read_as_absent():
    """A null coding or component list is dropped by the models' normalisation, so it is a problem, not a crash."""
    document = bundle([_record()])
    kinds = [e["resource"]["resourceType"] for e in document["entry"]]
    observation = document["entry"][kinds.index("Observation")]["resource"]
    observation["code"] = {"coding": None, "text": "diary"}
    assert _problems(document) == [
        (f"Bundle.entry[{kinds.index('Observation')}].resource.code", fhir_read.NOT_A_DIARY_DAY)
    ]


def test_an_unknown_muscle_or_side_and_fractional_units_are_refused_by_site():
    """A site coded with a muscle or side the engine does not know, or with 2.5 or `true` units, is a problem at
    that site (stored, it would break every later reading of the session's plan)."""
    document = bundle([_record()])
    entries = document["entry"]
    administration = [e["resource"]["resourceType"] for e in entries].index("MedicationAdministration")
    extensions = entries[administration]["resource"]["extension"]
    first, second = (extension["extension"] for extension in extensions[:2])
    for part in first:
        if part["url"] == "bodySite":
            for coding in part["valueCodeableConcept"]["coding"]:
                if coding["code"] == "procerus" or coding["system"].endswith("muscle"):
                    coding["code"] = "foo"
    for part in second:
        if part["url"] == "units":
            part["valueQuantity"]["value"] = 2.5
    problems = _problems(document)
    assert problems[0][0] == f"Bundle.entry[{administration}].resource.extension[0]"
    assert problems[0][1].startswith("unknown injection site foo:")
    assert problems[1] == (
        f"Bundle.entry[{administration}].resource.extension[1]",
        fhir_read.FRACTIONAL_UNITS.format(value=2.5),
    )
    for part in second:
        if part["url"] == "units":
            part["valueQuantity"]["value"] = True  # JSON true is no number of units, though Python counts it as 1
    place = f"Bundle.entry[{administration}].resource.extension[1]"
    assert any(where.startswith(place) for where, _message in _problems(document))


def test_text_holding_a_nul_character_is_refused_at_its_place():
    """A NUL character in a name (no FHIR text needs one, and PostgreSQL text cannot store it) is a problem at that
    place, not a database error when the patient is written."""
    document = bundle([_record()])
    entries = document["entry"]
    patient = [e["resource"]["resourceType"] for e in entries].index("Patient")
    entries[patient]["resource"]["name"][0]["family"] = "Pa\x00tient"
    assert _problems(document) == [
        (f"Bundle.entry[{patient}].resource.name[0].family", fhir_read.NUL_IN_TEXT),
    ]


def _first_entry(document: dict, resource_type: str) -> int:
    return [e["resource"]["resourceType"] for e in document["entry"]].index(resource_type)


def test_what_has_not_happened_yet_is_refused_at_its_date():
    """A session recorded, a questionnaire answered or a side effect starting after today is a problem at its date
    (a session to come is an Appointment, booked); on today they are read."""
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    document = bundle([_record()])
    at = {kind: _first_entry(document, kind) for kind in ("MedicationAdministration", "QuestionnaireResponse")}
    at["AdverseEvent"] = _first_entry(document, "AdverseEvent")
    entries = document["entry"]
    entries[at["MedicationAdministration"]]["resource"]["effectiveDateTime"] = tomorrow
    entries[at["QuestionnaireResponse"]]["resource"]["authored"] = tomorrow
    entries[at["AdverseEvent"]]["resource"]["date"] = tomorrow
    problems = _problems(document)
    assert sorted(problems) == sorted([
        (
            f"Bundle.entry[{at['MedicationAdministration']}].resource.effectiveDateTime",
            records.AFTER_TODAY.format(what="a recorded session", day=tomorrow, today=TODAY),
        ),
        (
            f"Bundle.entry[{at['QuestionnaireResponse']}].resource.authored",
            records.AFTER_TODAY.format(what="a questionnaire response", day=tomorrow, today=TODAY),
        ),
        (
            f"Bundle.entry[{at['AdverseEvent']}].resource.date",
            records.AFTER_TODAY.format(what="a side effect", day=tomorrow, today=TODAY),
        ),
    ])  # fmt: skip
    assert read_bundle(document, today=TODAY + dt.timedelta(days=1))


def _vials_message(given: int, what: str, total: int, vial_units: int, expected: int) -> str:
    return records.VIALS_DO_NOT_MATCH.format(
        given=given, what=what, total=total, vial_units=vial_units, expected=expected
    )


def test_a_session_above_the_most_a_session_holds_is_refused_at_its_dose_and_sites():
    """A recorded session of more than 195 U (PREEMPT's follow-the-pain maximum, which recording enforces) is a
    problem at its dose; sites adding up to more than the dose say so at the sites, as the sessions CSV does (the
    limit cannot be passed by the sites alone)."""
    document = bundle([_record()])
    administration = _first_entry(document, "MedicationAdministration")
    resource = document["entry"][administration]["resource"]
    resource["dosage"]["dose"]["value"] = 600
    vial = f"Bundle.entry[{administration}].resource.extension.where(url = '{fhir_codes.VIAL}')"
    assert _problems(document) == [
        (f"Bundle.entry[{administration}].resource.dosage.dose", records.DOSE_ABOVE_LIMIT.format(units=600, limit=195)),
        (f"Bundle.entry[{administration}].resource.extension", records.SITES_TOTAL.format(sites=10, total=600)),
        (vial, _vials_message(1, "vials used", 600, 200, 3)),
        (vial, _vials_message(190, "units discarded", 600, 200, 0)),
    ]
    resource["dosage"]["dose"]["value"] = 195.9  # not cut to 195: a dose is a whole number of units
    assert _problems(document) == [
        (f"Bundle.entry[{administration}].resource.dosage.dose", fhir_read.DOSE_NOT_WHOLE.format(value=195.9)),
    ]
    resource["dosage"]["dose"]["value"] = 10
    for extension in resource["extension"]:
        for part in extension.get("extension", []):
            if part["url"] == "units":
                part["valueQuantity"]["value"] = 100
    # 100 U at a site departs from the label: recording it needs an override reason
    resource["extension"].append(
        {"url": fhir_codes.CHECKS, "extension": [{"url": "overrideReason", "valueString": "agreed"}]}
    )
    assert _problems(document) == [
        (f"Bundle.entry[{administration}].resource.extension", records.SITES_TOTAL.format(sites=200, total=10)),
    ]


def test_vials_and_discarded_units_that_do_not_match_the_dose_are_refused_at_the_vial():
    """One 100 U vial cannot hold 10 U and leave 190 U: vials used and units discarded must be the engine's for the
    total (the procedure note and its claim lines are worked out from them), and the vial a size the label has."""
    document = bundle([_record()])
    administration = _first_entry(document, "MedicationAdministration")
    resource = document["entry"][administration]["resource"]
    (vial,) = [e for e in resource["extension"] if e["url"] == fhir_codes.VIAL]
    for part in vial["extension"]:
        if part["url"] == "vialUnits":
            part["valueInteger"] = 100
    where = f"Bundle.entry[{administration}].resource.extension.where(url = '{fhir_codes.VIAL}')"
    assert _problems(document) == [(where, _vials_message(190, "units discarded", 10, 100, 90))]
    for part in vial["extension"]:
        if part["url"] == "vialUnits":
            part["valueInteger"] = 150
    assert _problems(document) == [(where, "vial_units must be 100 or 200 (BOTOX vial sizes), got 150")]


def _second_patient(document: dict) -> dict:
    """Another patient, MRN-2, entered beside the first one's entries."""
    patient = copy.deepcopy(document["entry"][0])
    patient["resource"]["identifier"][0]["value"] = "MRN-2"
    patient["resource"]["id"] = "6f1c1f5e-0000-4000-8000-0000000000ff"
    return patient


def test_two_entries_with_one_fullurl_are_refused_before_any_reference_is_followed():
    """A second Patient under the first one's fullUrl is a problem at its fullUrl (FHIR bdl-7): read, it replaced
    the first, and the diary referring to that fullUrl went into the second patient's record."""
    document = bundle([_record()])
    document["entry"].insert(1, _second_patient(document))
    assert _problems(document) == [
        (
            "Bundle.entry[1].fullUrl",
            fhir_read.DUPLICATE_FULL_URL.format(value=f"urn:uuid:{KEY}", first="Bundle.entry[0]"),
        )
    ]


def test_two_patients_without_a_fullurl_and_with_one_id_are_refused():
    """Without fullUrls a Patient is named by its id, so two with the same id are refused at the second's id."""
    document = bundle([_record()])
    second = _second_patient(document)
    second["resource"]["id"] = KEY
    document["entry"].insert(1, second)
    for entry in document["entry"]:
        del entry["fullUrl"]
    problems = _problems(document)
    assert problems[0] == (
        "Bundle.entry[1].resource.id",
        fhir_read.DUPLICATE_PATIENT_ID.format(value=KEY, first="Bundle.entry[0].resource"),
    )


def _nested_extension(levels: int) -> dict:
    """A Bundle whose Patient holds an extension nested ``levels`` times inside itself."""
    extension: dict = {"url": "x", "valueString": "a"}
    for _ in range(levels):
        extension = {"url": "x", "extension": [extension]}
    patient = {"resourceType": "Patient", "extension": [extension]}
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": patient}]}


def test_json_nested_too_deeply_is_refused_at_the_first_place_past_the_limit():
    """Objects and arrays nested more than MAX_DEPTH levels are a problem where the limit is passed, however deep
    (3,000 levels exhausted the recursion of the validation: a RecursionError, a 500 on the FHIR endpoint)."""
    past = f"Bundle.entry[0].resource.extension[0]{'.extension[0]' * 29}.extension"
    for levels in (30, 3000):
        assert _problems(_nested_extension(levels)) == [(past, fhir_read.NESTED_TOO_DEEPLY)]
    assert all(message != fhir_read.NESTED_TOO_DEEPLY for _, message in _problems(_nested_extension(29)))


def test_a_safety_answer_to_an_unknown_question_or_not_yes_or_no_is_refused_at_its_place():
    """A safety-screen sub-extension must name a question the screen asks and answer it with a boolean, once (an
    unknown url reached the database as a patient field that does not exist: an AttributeError, a 500)."""
    document = bundle([_record()])
    screen = document["entry"][0]["resource"]["extension"][0]
    screen["extension"] = [
        {"url": "https://example.org/new-question", "valueBoolean": True},
        {"url": "pregnant", "valueString": "no"},
        {"url": "dysphagia", "valueBoolean": True},
        {"url": "dysphagia", "valueBoolean": False},
    ]
    at = "Bundle.entry[0].resource.extension[0]"
    assert _problems(document) == [
        (
            f"{at}.extension[0].url",
            fhir_read.UNKNOWN_SAFETY_QUESTION.format(
                value="https://example.org/new-question", questions=", ".join(records.SAFETY_QUESTIONS)
            ),
        ),
        (f"{at}.extension[1]", fhir_read.SAFETY_NOT_BOOLEAN.format(question="pregnant")),
        (f"{at}.extension[3].url", fhir_read.REPEATED_SAFETY_QUESTION.format(question="dysphagia")),
    ]


def test_an_administration_not_completed_is_no_recorded_session():
    """A MedicationAdministration not-done or entered-in-error is refused at its status: read, it became a
    recorded session of its dose."""
    document = bundle([_record()])
    administration = _first_entry(document, "MedicationAdministration")
    for status in ("not-done", "entered-in-error"):
        document["entry"][administration]["resource"]["status"] = status
        assert _problems(document) == [
            (f"Bundle.entry[{administration}].resource.status", fhir_read.NOT_COMPLETED.format(value=status))
        ]


def test_a_recorded_session_needs_its_lot_expiry_and_sites_in_a_bundle_as_in_the_csv():
    """Without batch and injection sites an administration is refused at the lot, the expiry and the sites, the
    sessions CSV's rule (records.recorded_session_problems): read, it was stored and its CSV export could not be
    imported again."""
    document = bundle([_record()])
    administration = _first_entry(document, "MedicationAdministration")
    resource = document["entry"][administration]["resource"]
    del resource["contained"][0]["batch"]
    resource["extension"] = [e for e in resource["extension"] if e["url"] != fhir_codes.INJECTION_SITE]
    at = f"Bundle.entry[{administration}].resource"
    assert _problems(document) == [
        (f"{at}.contained[0].batch.lotNumber", records.RECORDED_NEEDS.format(what="a lot")),
        (f"{at}.contained[0].batch.expirationDate", records.RECORDED_NEEDS.format(what="an expiry date")),
        (f"{at}.extension", records.RECORDED_NEEDS.format(what="its sites")),
    ]


def test_what_was_entered_in_error_or_did_not_happen_is_refused_at_its_status():
    """A diary day cancelled or entered in error, a questionnaire response or a medication statement entered in
    error, and a potential (not actual) adverse event are refused where they say so, not stored as facts (the
    export writes final, completed and actual)."""
    document = bundle([_record()])
    entries = document["entry"]
    at = {kind: _first_entry(document, kind) for kind in ("Observation", "QuestionnaireResponse", "AdverseEvent")}
    at["MedicationStatement"] = _first_entry(document, "MedicationStatement")
    at["Appointment"] = _first_entry(document, "Appointment")
    entries[at["Observation"]]["resource"]["status"] = "cancelled"
    entries[at["QuestionnaireResponse"]]["resource"]["status"] = "entered-in-error"
    entries[at["MedicationStatement"]]["resource"]["status"] = "entered-in-error"
    entries[at["Appointment"]]["resource"]["status"] = "entered-in-error"
    entries[at["AdverseEvent"]]["resource"]["actuality"] = "potential"
    place = "Bundle.entry[{}].resource.{}".format
    assert sorted(_problems(document)) == sorted([
        (place(at["Observation"], "status"), fhir_read.STATUS_NOT_IMPORTED.format(value="cancelled")),
        (place(at["QuestionnaireResponse"], "status"), fhir_read.STATUS_NOT_IMPORTED.format(value="entered-in-error")),
        (place(at["MedicationStatement"], "status"), fhir_read.STATUS_NOT_IMPORTED.format(value="entered-in-error")),
        (place(at["Appointment"], "status"), fhir_read.STATUS_NOT_IMPORTED.format(value="entered-in-error")),
        (place(at["AdverseEvent"], "actuality"), fhir_read.NOT_ACTUAL.format(value="potential")),
    ])  # fmt: skip


def test_a_fractional_dose_of_another_toxin_is_refused_not_cut():
    """Another toxin's 12.7 U is a problem at its doseQuantity (it was stored as 12); 20.0 is read as 20, like the
    session's dose."""
    document = bundle([_record()])
    statement = len(document["entry"]) - 1  # the other toxin's MedicationStatement is written last
    quantity = document["entry"][statement]["resource"]["dosage"][0]["doseAndRate"][0]["doseQuantity"]
    quantity["value"] = 12.7
    assert _problems(document) == [
        (
            f"Bundle.entry[{statement}].resource.dosage[0].doseAndRate[0].doseQuantity",
            fhir_read.UNITS_NOT_WHOLE.format(value=12.7),
        )
    ]
    quantity["value"] = 20.0
    (record,) = read_bundle(document, today=TODAY)
    assert record.other_toxins == _record().other_toxins


def test_text_is_read_trimmed_as_the_csv_readers_trim_it():
    """Spaces and line breaks at the ends of a drug, a complication or a diary note are dropped, as the CSV readers
    drop them: kept, the CSV export read back differed ("Topiramate " and "Topiramate" two trials, a recorded
    session's complications refused as changed)."""
    document = bundle([_record()])
    entries = document["entry"]
    entries[_first_entry(document, "MedicationStatement")]["resource"]["medicationCodeableConcept"]["text"] = (
        " topiramate\n"
    )
    entries[_first_entry(document, "MedicationAdministration")]["resource"]["note"] = [{"text": "Bruising \n"}]
    day = [e["resource"]["resourceType"] for e in entries].index("Observation") + 1  # the day with a note
    entries[day]["resource"]["note"] = [{"text": '  at work, "bad"\r\n'}]
    (record,) = read_bundle(document, today=TODAY)
    assert record.preventives[0].drug == "topiramate"
    assert record.sessions[0].complications == "Bruising"
    assert record.diary == _record().diary


def test_a_second_preventive_or_other_toxin_with_the_same_natural_key_is_refused():
    """Two trials of one drug from one start, or two treatments with one product on one day, are refused at the
    second (an import matches them by that key, so each import overwrote one with the other)."""
    document = bundle([_record()])
    entries = document["entry"]
    preventive, toxin = (i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "MedicationStatement")
    for twin_id, index in (("98", preventive), ("99", toxin)):
        twin = copy.deepcopy(entries[index])
        twin["fullUrl"] = twin["fullUrl"][:-2] + twin_id
        twin["resource"]["id"] = twin["resource"]["id"][:-2] + twin_id
        entries.append(twin)
    assert _problems(document) == [
        (
            f"Bundle.entry[{len(entries) - 2}].resource.effectivePeriod.start",
            fhir_read.DUPLICATE_PREVENTIVE.format(
                drug="topiramate", start="2025-01-01", first=f"Bundle.entry[{preventive}].resource"
            ),
        ),
        (
            f"Bundle.entry[{len(entries) - 1}].resource.effectiveDateTime",
            fhir_read.DUPLICATE_OTHER_TOXIN.format(
                product="X", day="2026-01-01", first=f"Bundle.entry[{toxin}].resource"
            ),
        ),
    ]


def _renamed_twin(entry: dict, suffix: str, text: str) -> dict:
    """A copy of the MedicationStatement ``entry`` with an id and fullUrl of its own (ending ``suffix``) naming its
    medicine ``text``."""
    twin = copy.deepcopy(entry)
    twin["fullUrl"] = twin["fullUrl"][:-2] + suffix
    twin["resource"]["id"] = twin["resource"]["id"][:-2] + suffix
    twin["resource"]["medicationCodeableConcept"]["text"] = text
    return twin


def test_a_second_preventive_spelled_in_other_letter_case_is_refused():
    """ "Topiramate" and "topiramate" from one start are one trial (``medicine_key``, as the coverage engine counts
    medicines and the import matches them): the second is refused, where the import updated one row with the one and
    created another with the other."""
    document = bundle([_record()])
    entries = document["entry"]
    preventive = next(i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "MedicationStatement")
    entries.append(_renamed_twin(entries[preventive], "98", "Topiramate"))
    assert _problems(document) == [
        (
            f"Bundle.entry[{len(entries) - 1}].resource.effectivePeriod.start",
            fhir_read.DUPLICATE_PREVENTIVE.format(
                drug="Topiramate", start="2025-01-01", first=f"Bundle.entry[{preventive}].resource"
            ),
        )
    ]


def test_a_second_other_toxin_spelled_in_other_letter_case_is_refused():
    """ "X" and "x" on one day are one treatment (``medicine_key``, as the import matches other toxins): the second
    is refused, where the import updated one row with the one and created another with the other."""
    document = bundle([_record()])
    entries = document["entry"]
    toxin = [i for i, e in enumerate(entries) if e["resource"]["resourceType"] == "MedicationStatement"][1]
    entries.append(_renamed_twin(entries[toxin], "99", "x"))
    assert _problems(document) == [
        (
            f"Bundle.entry[{len(entries) - 1}].resource.effectiveDateTime",
            fhir_read.DUPLICATE_OTHER_TOXIN.format(
                product="x", day="2026-01-01", first=f"Bundle.entry[{toxin}].resource"
            ),
        )
    ]


def test_a_diary_note_longer_than_the_diary_page_allows_is_refused_at_its_note():
    """A diary Observation whose note is longer than NOTES_MAX_CHARACTERS is refused at its note element (it was
    stored, and the patient could not save that day on the diary page)."""
    from onaboard.clinical.diary import NOTES_MAX_CHARACTERS, NOTES_TOO_LONG

    document = bundle([_record()])
    entries = document["entry"]
    day = [e["resource"]["resourceType"] for e in entries].index("Observation") + 1  # the day with a note
    entries[day]["resource"]["note"] = [{"text": "x" * (NOTES_MAX_CHARACTERS + 1)}]
    message = NOTES_TOO_LONG.format(limit=NOTES_MAX_CHARACTERS, length=NOTES_MAX_CHARACTERS + 1)
    assert _problems(document) == [(f"Bundle.entry[{day}].resource.note", f"notes: {message}")]
