"""Reading FHIR Bundles (onaboard/interop/fhir/read.py): quantities only in the units the export writes, codes only
from onaboard's systems, and sites the session page can show, each refusal at its place."""

from __future__ import annotations

from typing import Any

import pytest

from onaboard.clinical import preempt
from onaboard.interop.fhir import BundleInvalidError, bundle, read_bundle, records
from onaboard.interop.fhir import codes as fhir_codes
from onaboard.interop.fhir import read as fhir_read
from tests.interop.test_fhir_read import TODAY, _record

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    return [(p.expression, p.message) for p in refused.value.problems]


def _entry(document: dict[str, Any], resource_type: str) -> tuple[int, dict[str, Any]]:
    index = [e["resource"]["resourceType"] for e in document["entry"]].index(resource_type)
    return index, document["entry"][index]["resource"]


def _preventive(document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(document["entry"]):
        resource = entry["resource"]
        if (
            resource["resourceType"] == "MedicationStatement"
            and resource["category"]["coding"][0]["code"] == "preventive"
        ):
            return index, resource
    raise AssertionError("no preventive")


def _other_toxin(document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    for index, entry in enumerate(document["entry"]):
        resource = entry["resource"]
        if (
            resource["resourceType"] == "MedicationStatement"
            and resource["category"]["coding"][0]["code"] != "preventive"
        ):
            return index, resource
    raise AssertionError("no other toxin")


def _wrong(unit: dict[str, str], found: str) -> str:
    return fhir_read.WRONG_UNIT.format(unit=unit["unit"], code=unit["code"], system=unit["system"], found=found)


def test_headache_hours_in_minutes_are_refused_at_the_quantity():
    """20 minutes of headache is refused at its valueQuantity (it was stored as 20 hours), not converted."""
    document = bundle([_record()])
    index, observation = _entry(document, "Observation")
    observation["component"][0]["valueQuantity"].update(unit="min", code="min", value=20)
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.component[0].valueQuantity",
            _wrong(fhir_codes.HOURS, f"{fhir_codes.UCUM}|min"),
        )
    ]


def test_hours_without_a_ucum_code_are_refused():
    """A Quantity that only says "h" as its display unit, without UCUM's system and code, is refused too."""
    document = bundle([_record()])
    index, observation = _entry(document, "Observation")
    observation["component"][0]["valueQuantity"] = {"value": 2, "unit": "h"}
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.component[0].valueQuantity",
            _wrong(fhir_codes.HOURS, fhir_read.NO_SYSTEM + "|" + fhir_read.UNIT_WITHOUT_CODE.format(unit="h")),
        )
    ]


def test_a_total_dose_in_millilitres_is_refused_at_the_dose():
    """A total dose in mL is refused at dosage.dose (it was stored as that many units) and not summed again."""
    document = bundle([_record()])
    index, administration = _entry(document, "MedicationAdministration")
    administration["dosage"]["dose"].update(unit="mL", code="mL")
    assert _problems(document) == [
        (f"Bundle.entry[{index}].resource.dosage.dose", _wrong(fhir_codes.BOTOX_UNIT, f"{fhir_codes.UCUM}|mL"))
    ]


def test_site_units_in_milligrams_are_refused_at_the_site_quantity():
    """A site's units in mg are refused at that site's units Quantity; the sites are then not summed."""
    document = bundle([_record()])
    index, administration = _entry(document, "MedicationAdministration")
    parts = administration["extension"][1]["extension"]
    part = [p["url"] for p in parts].index("units")
    parts[part]["valueQuantity"].update(unit="mg", code="mg")
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.extension[1].extension[{part}].valueQuantity",
            _wrong(fhir_codes.BOTOX_UNIT, f"{fhir_codes.UCUM}|mg"),
        )
    ]


def test_another_toxins_dose_in_another_unit_is_refused_at_its_quantity():
    """Another toxin's 20 mg is refused at its doseQuantity (it was stored as 20 U)."""
    document = bundle([_record()])
    index, statement = _other_toxin(document)
    statement["dosage"][0]["doseAndRate"][0]["doseQuantity"].update(unit="mg", code="mg")
    assert _problems(document) == [
        (
            f"Bundle.entry[{index}].resource.dosage[0].doseAndRate[0].doseQuantity",
            _wrong(fhir_codes.BOTOX_UNIT, f"{fhir_codes.UCUM}|mg"),
        )
    ]


def test_a_severity_coded_in_another_system_or_missing_is_refused():
    """A severity coded in SNOMED CT ("24484000 Severe") or not given is refused at the severity, not stored as
    mild."""
    document = bundle([_record()])
    index, event = _entry(document, "AdverseEvent")
    event["severity"] = {"coding": [{"system": "http://snomed.info/sct", "code": "24484000", "display": "Severe"}]}
    message = fhir_read.NOT_IN_SYSTEM.format(
        what="the severity", system=fhir_codes.ADVERSE_EVENT_SEVERITY, found="http://snomed.info/sct|24484000"
    )
    assert _problems(document) == [(f"Bundle.entry[{index}].resource.severity", message)]
    del event["severity"]
    assert _problems(document) == [(f"Bundle.entry[{index}].resource.severity", fhir_read.NO_SEVERITY)]


def test_a_preventive_coded_only_in_another_system_or_not_at_all_is_class_other():
    """A preventive coded only in another system (another system's RxNorm drug code, where onaboard writes its class)
    or given by text alone gets the documented class "other", so other systems' Bundles still load; onaboard's own
    class coding beside the RxNorm one is read."""
    document = bundle([_record()])
    _, statement = _preventive(document)
    ours = list(statement["medicationCodeableConcept"]["coding"])
    statement["medicationCodeableConcept"]["coding"] = [{"system": RXNORM, "code": "38404"}]
    (patient,) = read_bundle(document, today=TODAY)
    assert patient.preventives[0].drug_class == "other"
    statement["medicationCodeableConcept"]["coding"] = [{"system": RXNORM, "code": "38404"}, *ours]
    (patient,) = read_bundle(document, today=TODAY)
    assert patient.preventives[0].drug_class == ours[0]["code"]
    del statement["medicationCodeableConcept"]["coding"]
    (patient,) = read_bundle(document, today=TODAY)
    assert patient.preventives[0].drug_class == "other"


def test_a_stop_reason_given_as_text_only_is_refused_and_one_not_given_is_other():
    """A statusReason with only a text ("did not work") is refused at it (it became stop reason "other", and an
    ineffective trial is what payers count); without a statusReason the documented "other" is kept."""
    document = bundle([_record()])
    index, statement = _preventive(document)
    statement["statusReason"] = [{"text": "did not work"}]
    message = fhir_read.NOT_IN_SYSTEM.format(
        what="the stop reason", system=fhir_codes.STOP_REASON, found=fhir_read.ONLY_TEXT.format(text="did not work")
    )
    assert _problems(document) == [(f"Bundle.entry[{index}].resource.statusReason[0]", message)]
    del statement["statusReason"]
    (patient,) = read_bundle(document, today=TODAY)
    assert patient.preventives[0].stop_reason == "other"


@pytest.mark.parametrize("status", ["active", "on-hold"])
def test_a_statement_still_taken_without_a_reason_or_an_end_is_a_medicine_still_taken(status):
    """Another system's preventive statement ``active`` (R4B: "still being taken") or ``on-hold`` ("temporarily
    halted, but expected to continue later") with no statusReason and no end is a medicine still taken: it was read
    as stopped for another reason, which the import then refused for its missing stop date."""
    document = bundle([_record()])
    _, statement = _preventive(document)
    statement["status"] = status
    del statement["statusReason"]
    del statement["effectivePeriod"]["end"]
    (patient,) = read_bundle(document, today=TODAY)
    assert (patient.preventives[0].stop_reason, patient.preventives[0].stop) == ("ongoing", None)


@pytest.mark.parametrize("status", ["completed", "stopped", "unknown"])
def test_a_statement_no_longer_taken_without_a_reason_is_stopped_for_another_reason(status):
    """A preventive statement ``completed`` ("no longer being taken"), ``stopped`` or ``unknown`` with no
    statusReason is stopped for another reason, on its end date (without one, the import asks for it)."""
    document = bundle([_record()])
    _, statement = _preventive(document)
    statement["status"] = status
    del statement["statusReason"]
    (patient,) = read_bundle(document, today=TODAY)
    stop = _record().preventives[0].stop
    assert (patient.preventives[0].stop_reason, patient.preventives[0].stop) == ("other", stop)


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        ("active", "ineffective", fhir_read.STILL_TAKEN_REASON),
        ("on-hold", "contraindicated", fhir_read.STILL_TAKEN_REASON),
        ("completed", "ongoing", fhir_read.NO_LONGER_TAKEN_REASON),
        ("stopped", "ongoing", fhir_read.NO_LONGER_TAKEN_REASON),
    ],
)
def test_a_stop_reason_the_status_contradicts_is_refused_at_it(status, reason, message):
    """A statement ``active`` or ``on-hold`` whose stop reason says it stopped, or ``completed`` or ``stopped`` whose
    stop reason says it is still taken, is refused at the stop reason: either reading would store a failed trial
    the other system calls current, or a current medicine it calls ended."""
    document = bundle([_record()])
    index, statement = _preventive(document)
    statement["status"] = status
    statement["statusReason"] = [{"coding": [{"system": fhir_codes.STOP_REASON, "code": reason}]}]
    expected = message.format(status=status, reason=reason)
    assert _problems(document) == [(f"Bundle.entry[{index}].resource.statusReason[0]", expected)]


@pytest.mark.parametrize("status", ["entered-in-error", "intended", "not-taken"])
def test_a_preventive_entered_in_error_not_yet_taken_or_never_taken_is_refused_at_its_status(status):
    """A preventive statement entered in error, ``intended`` ("may be taken at some time in the future") or
    ``not-taken`` is no trial of the medicine: refused at its status, not stored as one still taken."""
    document = bundle([_record()])
    index, statement = _preventive(document)
    statement["status"] = status
    expected = fhir_read.STATUS_NOT_IMPORTED.format(value=status)
    assert _problems(document) == [(f"Bundle.entry[{index}].resource.status", expected)]


def _site_part(administration: dict[str, Any], site: int, url: str) -> dict[str, Any]:
    parts = administration["extension"][site]["extension"]
    found = [part for part in parts if part["url"] == url]
    if not found:
        parts.append({"url": url})
        found = [parts[-1]]
    return found[0]


def test_sites_the_session_page_cannot_show_are_refused_at_each_site():
    """Procerus on the left, a site at -5 U with the total still adding up, a view "side" and x -5 are refused at
    their own injection-site extension (the session page answered 500 for each, the database for the negatives)."""
    document = bundle([_record()])
    index, administration = _entry(document, "MedicationAdministration")
    _site_part(administration, 0, "bodySite")["valueCodeableConcept"]["coding"][1]["code"] = "left"
    _site_part(administration, 0, "view")["valueCode"] = "side"
    _site_part(administration, 1, "units")["valueQuantity"]["value"] = -5
    _site_part(administration, 1, "x")["valueInteger"] = -5
    administration["dosage"]["dose"]["value"] = 0
    at = f"Bundle.entry[{index}].resource"

    def refused(number: int, muscle: str, units: int, problem: str) -> str:
        return records.SITE_REFUSED.format(number=number, muscle=muscle, side="left", units=units, problem=problem)

    assert _problems(document)[:4] == [
        (f"{at}.extension[0]", refused(1, "procerus", 5, preempt.SITE_MIDLINE_ONLY.format(side="left"))),
        (f"{at}.extension[0]", refused(1, "procerus", 5, records.BAD_VIEW.format(views="front or back", value="side"))),
        (f"{at}.extension[1]", refused(2, "temporalis", -5, preempt.SITE_UNITS.format(units=-5))),
        (f"{at}.extension[1]", refused(2, "temporalis", -5, records.OFF_THE_MAP.format(axis="x", size=1000, value=-5))),
    ]
