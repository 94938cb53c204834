"""Export (onaboard/interop/fhir/build.py): FHIR invariants fhir.resources does not check, and older Bundles."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import pytest

from onaboard.interop.fhir import bundle, read_bundle
from onaboard.interop.fhir.build import derived_id
from onaboard.interop.fhir.records import ConditionRecord
from tests.interop.test_fhir_read import TODAY, _record


def _resources(document: dict, resource_type: str) -> list[dict]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == resource_type]


def test_a_booking_has_a_start_and_an_end_spanning_its_day_in_the_clinics_zone():
    """A booked Appointment must have start and end (FHIR app-3): the booked day, from midnight to midnight in the
    clinic's time zone (it had neither), the day itself still the requested period."""
    document = bundle([_record()], zone=ZoneInfo("America/New_York"))
    (appointment,) = _resources(document, "Appointment")
    assert appointment["status"] == "booked"
    assert (appointment["start"], appointment["end"]) == ("2026-07-26T00:00:00-04:00", "2026-07-27T00:00:00-04:00")
    assert appointment["requestedPeriod"] == [{"start": "2026-07-26", "end": "2026-07-26"}]


def test_the_care_plan_names_bookings_as_activities_and_recorded_sessions_as_outcomes():
    """CarePlan.activity.reference may not be a MedicationAdministration: a recorded session is the activity's
    outcomeReference, a booking its reference; addresses is left out without a Condition (FHIR allows no empty
    list) and names the Condition when there is one."""
    record = _record()
    (plan,) = _resources(bundle([record]), "CarePlan")
    recorded, booked = record.sessions
    assert plan["activity"] == [
        {"outcomeReference": [{"reference": f"urn:uuid:{recorded.key}"}]},
        {"reference": {"reference": f"urn:uuid:{booked.key}"}},
    ]
    assert "addresses" not in plan
    with_condition = dataclasses.replace(record, condition=ConditionRecord(TODAY, ("15 or more headache days",)))
    (plan,) = _resources(bundle([with_condition]), "CarePlan")
    assert plan["addresses"] == [{"reference": f"urn:uuid:{derived_id(record.key, 'condition')}"}]


def test_a_bundle_in_the_older_shape_is_still_read():
    """Bundles exported before (a booking without start and end, the care plan's activities referencing every
    session, an empty addresses) read back to the same record as the current shape."""
    record = _record()
    document = bundle([record])
    (appointment,) = _resources(document, "Appointment")
    del appointment["start"], appointment["end"]
    (plan,) = _resources(document, "CarePlan")
    plan["activity"] = [{"reference": {"reference": f"urn:uuid:{s.key}"}} for s in record.sessions]
    plan["addresses"] = []
    (older,) = read_bundle(document, today=TODAY)
    (current,) = read_bundle(bundle([record]), today=TODAY)
    assert older == current == record


@pytest.mark.parametrize("kind", ["transaction", "collection", "searchset"])
def test_every_kind_of_bundle_written_is_valid_r4b(kind):
    """The exporter does not validate at run time (it cost 2 ms a diary day), so this does: a record holding every
    resource kind onaboard writes passes the R4B models as a Bundle of each type."""
    from fhir.resources.R4B.bundle import Bundle

    record = dataclasses.replace(_record(), condition=ConditionRecord(TODAY, ("15 or more headache days",)))
    document = bundle([record], kind=kind, zone=ZoneInfo("Europe/London"))
    written = {e["resource"]["resourceType"] for e in document["entry"]}
    assert written == {
        "Patient", "Observation", "QuestionnaireResponse", "MedicationAdministration", "Appointment", "AdverseEvent",
        "MedicationStatement", "Condition", "Procedure", "CarePlan",
    }  # fmt: skip
    Bundle.model_validate(document)


def test_the_condition_is_coded_in_snomed_only():
    """The chronic-migraine Condition carries SNOMED CT 37796009 and no ICD-10-CM code: G43.709 ("without aura,
    not intractable") was written even for a patient with many aura days, and which G43.7-/G43.E- code applies is
    the clinician's coding decision."""
    record = dataclasses.replace(_record(), condition=ConditionRecord(TODAY, ("15 or more headache days",)))
    (condition,) = _resources(bundle([record]), "Condition")
    assert condition["code"]["coding"] == [
        {"system": "http://snomed.info/sct", "code": "37796009", "display": "Migraine (disorder)"}
    ]


@pytest.mark.parametrize(
    ("stop_reason", "status"),
    [
        ("ineffective", "stopped"),
        ("not_tolerated", "stopped"),
        ("contraindicated", "stopped"),
        ("ongoing", "active"),
        ("other", "completed"),
    ],
)
def test_a_preventive_halted_is_a_stopped_statement(stop_reason, status):
    """A preventive stopped as ineffective, not tolerated or contraindicated is R4B `stopped` (it was `completed`),
    one still taken `active`, one ended for another reason `completed`; each reads back with its stop reason."""
    record = _record()
    trial = dataclasses.replace(record.preventives[0], stop_reason=stop_reason)
    record = dataclasses.replace(record, preventives=(trial,))
    document = bundle([record])
    (statement,) = [s for s in _resources(document, "MedicationStatement") if s["id"] == trial.key]
    assert statement["status"] == status
    (back,) = read_bundle(document, today=TODAY)
    assert back.preventives == (trial,)


def test_the_diary_flags_and_the_care_plans_interval_are_the_engines():
    """The Observation's yes/no components are the engine's YES_NO_COLUMNS themselves (a copy kept beside them could
    drift), and the care plan's title names the engine's retreatment interval in weeks."""
    from onaboard.clinical import RETREATMENT_INTERVAL_DAYS
    from onaboard.clinical.diary import YES_NO_COLUMNS
    from onaboard.interop.fhir import build

    assert build.DIARY_FLAGS is YES_NO_COLUMNS
    assert f"every {RETREATMENT_INTERVAL_DAYS // 7} weeks" in build.CARE_PLAN_TITLE
