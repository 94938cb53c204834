"""Reading another system's FHIR Bundles (onaboard/interop/fhir/read.py): the Patient's current name, clinical
resources onaboard does not derive itself refused rather than dropped, and messages that name what was found."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from onaboard.interop.fhir import BundleInvalidError, bundle, read_bundle
from onaboard.interop.fhir import codes as fhir_codes
from onaboard.interop.fhir import read as fhir_read
from onaboard.interop.fhir.build import derived_id
from onaboard.interop.fhir.records import ConditionRecord
from tests.interop.test_fhir_read import TODAY, _record

LOINC = "http://loinc.org"
HYPERTENSION = {"system": fhir_codes.SNOMED, "code": "38341003", "display": "Hypertensive disorder"}


def _problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    return [(p.expression, p.message) for p in refused.value.problems]


def _index(document: dict[str, Any], resource_type: str) -> int:
    return [e["resource"]["resourceType"] for e in document["entry"]].index(resource_type)


def _with_names(names: list[dict[str, Any]]) -> dict[str, Any]:
    document = bundle([_record()])
    document["entry"][0]["resource"]["name"] = names
    return document


# -- The Patient's name --


def test_the_official_name_is_read_with_all_its_given_names():
    """Of a maiden name marked old and the official name, the official one is stored, every given name kept."""
    document = _with_names(
        [
            {"use": "old", "family": "Maiden", "given": ["Mary"]},
            {"use": "official", "family": "Jones", "given": ["Mary", "Ann"]},
        ]
    )
    (patient,) = read_bundle(document, today=TODAY)
    assert (patient.given_name, patient.family_name) == ("Mary Ann", "Jones")


def test_a_nickname_listed_first_does_not_rename_the_patient():
    """A nickname (or an anonymous or maiden name) is passed over for the first name in use."""
    for use in ("nickname", "anonymous", "maiden"):
        document = _with_names(
            [{"use": use, "family": "Jones", "given": ["Molly"]}, {"family": "Jones", "given": ["Mary"]}]
        )
        (patient,) = read_bundle(document, today=TODAY)
        assert (patient.given_name, patient.family_name) == ("Mary", "Jones"), use


def test_a_usual_name_comes_before_one_without_a_use_but_after_the_official_name():
    """Without an official name the usual one is read; a name with no use comes last."""
    document = _with_names(
        [{"family": "Other", "given": ["Ann"]}, {"use": "usual", "family": "Jones", "given": ["Mary"]}]
    )
    (patient,) = read_bundle(document, today=TODAY)
    assert (patient.given_name, patient.family_name) == ("Mary", "Jones")


def test_a_name_whose_period_has_ended_is_an_old_name():
    """A name with a period ended before today is no longer the patient's, whatever its use says."""
    document = _with_names(
        [
            {"use": "official", "family": "Maiden", "given": ["Mary"], "period": {"end": "2001-06-30"}},
            {"use": "official", "family": "Jones", "given": ["Mary"], "period": {"start": "2001-07-01"}},
        ]
    )
    (patient,) = read_bundle(document, today=TODAY)
    assert patient.family_name == "Jones"
    for end, family in (("2001", "Jones"), ("2001-06", "Jones"), (TODAY.isoformat(), "Maiden")):
        document["entry"][0]["resource"]["name"][0]["period"] = {"end": end}
        (patient,) = read_bundle(document, today=TODAY)
        assert patient.family_name == family, end  # a name ending today is still today's


def test_a_patient_with_only_old_names_is_refused_at_its_names():
    """Names all marked old, nickname, anonymous or maiden give no current name: refused there, not guessed."""
    document = _with_names([{"use": "old", "family": "Maiden", "given": ["Mary"]}])
    assert _problems(document)[0] == ("Bundle.entry[0].resource.name", fhir_read.NO_CURRENT_NAME)


def test_a_name_of_several_given_names_round_trips():
    """A stored given name of two words is written as one given element and read back unchanged."""
    record = dataclasses.replace(_record(), given_name="Mary Ann", family_name="Jones")
    (back,) = read_bundle(bundle([record]), today=TODAY)
    assert back == record


# -- Clinical resources onaboard does not derive --


def _condition(code: dict[str, str]) -> dict[str, Any]:
    return {
        "fullUrl": "urn:uuid:6f1c1f5e-0000-4000-8000-0000000000c1",
        "resource": {
            "resourceType": "Condition",
            "id": "6f1c1f5e-0000-4000-8000-0000000000c1",
            "code": {"coding": [code]},
            "subject": {"reference": f"urn:uuid:{_record().key}"},
        },
    }


def test_a_condition_other_than_chronic_migraine_is_refused_not_dropped():
    """A hypertension Condition (cardiovascular disease is a safety-screen question) is refused at its code; it
    was skipped and the import said 200 OK."""
    document = bundle([_record()])
    document["entry"].append(_condition(HYPERTENSION))
    index = len(document["entry"]) - 1
    found = f"{fhir_codes.SNOMED}|38341003"
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.code",
            fhir_read.NOT_DERIVED.format(
                resource_type="Condition", found=found, own=fhir_read.OWN_DERIVED["Condition"]
            ),
        )
    ]


def test_a_procedure_other_than_a_sessions_is_refused_at_its_code():
    """A nerve-block Procedure from another system is refused at its code, naming what onaboard reads instead."""
    document = bundle([_record()])
    index = _index(document, "Procedure")
    procedure = document["entry"][index]["resource"]
    procedure["code"] = {"coding": [{"system": fhir_codes.SNOMED, "code": "231290007"}], "text": "nerve block"}
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.code",
            fhir_read.NOT_DERIVED.format(
                resource_type="Procedure",
                found=f"{fhir_codes.SNOMED}|231290007",
                own=fhir_read.OWN_DERIVED["Procedure"],
            ),
        )
    ]


def test_a_session_procedure_without_its_administration_is_refused():
    """A CPT 64615 Procedure no MedicationAdministration names as its partOf is a session given without its dose
    and sites: refused, since the session is read from its administration."""
    document = bundle([_record()])
    index = _index(document, "Procedure")
    del document["entry"][index + 1]["resource"]["partOf"]  # the administration follows its procedure
    assert _problems(document) == [(f"Bundle.entry[{index}].resource", fhir_read.PROCEDURE_ALONE)]


def test_a_care_plan_other_than_the_cycles_is_refused_at_its_category():
    """A physiotherapy CarePlan is refused at its category; onaboard's own cycles plan is skipped."""
    document = bundle([_record()])
    index = _index(document, "CarePlan")
    document["entry"][index]["resource"]["category"] = [{"text": "physiotherapy"}]
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.category",
            fhir_read.NOT_DERIVED.format(
                resource_type="CarePlan",
                found=fhir_read.ONLY_TEXT.format(text="physiotherapy"),
                own=fhir_read.OWN_DERIVED["CarePlan"],
            ),
        )
    ]


def test_onaboards_own_derived_resources_are_still_skipped():
    """An export holding the chronic-migraine Condition, the sessions' Procedures and the CarePlan reads back."""
    record = dataclasses.replace(_record(), condition=ConditionRecord(TODAY, ("15 or more headache days",)))
    document = bundle([record])
    kinds = {e["resource"]["resourceType"] for e in document["entry"]}
    assert {"Condition", "Procedure", "CarePlan"} <= kinds
    (back,) = read_bundle(document, today=TODAY)
    assert back == dataclasses.replace(record, condition=None)  # recomputed by the app, not read
    assert derived_id(record.key, "condition") in str(document)


# -- Messages that say what was found --


def test_a_patient_refused_for_its_record_number_is_the_only_problem():
    """A Patient without an identifier is refused there; its resources' references to it are not each reported as
    'not a Patient in this Bundle' (one problem, not one per resource)."""
    document = bundle([_record()])
    document["entry"][0]["resource"]["identifier"] = []
    assert _problems(document) == [("Bundle.entry[0].resource.identifier", fhir_read.NO_RECORD_NUMBER)]


def test_a_reference_to_no_patient_at_all_is_still_reported():
    """A subject naming no entry of the Bundle is still a problem at that reference."""
    document = bundle([_record()])
    index = _index(document, "Observation")
    document["entry"][index]["resource"]["subject"]["reference"] = "urn:uuid:nobody"
    assert _problems(document) == [
        (f"Bundle.entry[{index}].resource.subject.reference", fhir_read.UNKNOWN_SUBJECT.format(value="urn:uuid:nobody"))
    ]


def test_a_diary_component_in_another_code_system_names_its_system_and_code():
    """A component coded in LOINC is refused naming LOINC and its code, not as the unknown component ''."""
    document = bundle([_record()])
    index = _index(document, "Observation")
    observation = document["entry"][index]["resource"]
    observation["component"].append(
        {"code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, "valueQuantity": {"value": 72}}
    )
    here = f"Bundle.entry[{index}].resource.component[{len(observation['component']) - 1}].code"
    message = fhir_read.NOT_IN_SYSTEM.format(what=fhir_read.COMPONENT, system=fhir_codes.DIARY, found=f"{LOINC}|8867-4")
    assert _problems(document) == [(here, message)]
