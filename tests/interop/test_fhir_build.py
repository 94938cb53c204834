"""Export (onaboard/interop/fhir/build.py): FHIR invariants fhir.resources does not check, and older Bundles."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from onaboard.interop.fhir import BundleInvalidError, bundle, codes, read_bundle
from onaboard.interop.fhir.build import derived_id
from onaboard.interop.fhir.records import ConditionRecord, DecisionRecord
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

    record = dataclasses.replace(
        _record(), condition=ConditionRecord(TODAY, ("15 or more headache days",)), decisions=(CONTINUE, STOP)
    )
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


STOP = DecisionRecord(
    "6f1c1f5e-0000-4000-8000-0000000000d1",
    dt.date(2026, 7, 20),
    "stop",
    "No benefit after two cycles; the patient chose to stop",
    "Dr Dana Whitfield",
    "stop",
    ("NICE TA260 7 B: fewer than 30 % fewer headache days at week 24",),
)
CONTINUE = DecisionRecord(
    "6f1c1f5e-0000-4000-8000-0000000000d0",
    dt.date(2026, 6, 1),
    "continue",
    "Better at work",
    "Dr Avery Stone",
    "continue",
)


def test_a_decision_to_continue_or_stop_is_an_observation_naming_who_why_and_the_nice_verdict_then():
    """Each treatment decision is exported as a valid R4B Observation coded treatment-decision: the decision as its
    value, its day, the clinician by name, the reason as a note, and the engine's NICE TA260 verdict and reasons of
    that day as components (a decision without reasons has the verdict alone)."""
    from fhir.resources.R4B.observation import Observation

    record = dataclasses.replace(_record(), decisions=(CONTINUE, STOP))
    decisions = [
        o for o in _resources(bundle([record]), "Observation") if o["code"]["coding"][0]["code"] == "treatment-decision"
    ]
    assert [o["id"] for o in decisions] == [CONTINUE.key, STOP.key]
    stop = decisions[1]
    assert stop["code"]["coding"] == [
        {
            "system": codes.TREATMENT_DECISION,
            "code": "treatment-decision",
            "display": "Decision to continue or stop treatment",
        }
    ]
    assert stop["valueCodeableConcept"]["coding"] == [
        {"system": codes.TREATMENT_DECISION, "code": "stop", "display": "stop treatment"}
    ]
    assert (stop["effectiveDateTime"], stop["performer"], stop["note"]) == (
        "2026-07-20",
        [{"display": "Dr Dana Whitfield"}],
        [{"text": "No benefit after two cycles; the patient chose to stop"}],
    )
    assert [c["code"]["coding"][0]["code"] for c in stop["component"]] == ["nice-ta260-verdict", "nice-ta260-reasons"]
    assert stop["component"][0]["valueCodeableConcept"]["coding"] == [
        {"system": codes.NICE_TA260_VERDICT, "code": "stop"}
    ]
    assert stop["component"][1]["valueString"] == STOP.nice_reasons[0]
    assert [c["code"]["coding"][0]["code"] for c in decisions[0]["component"]] == ["nice-ta260-verdict"]
    for observation in decisions:
        Observation.model_validate(observation)


@pytest.mark.parametrize(
    ("decisions", "booked", "status"),
    [
        ((), False, "completed"),
        ((STOP,), False, "revoked"),
        ((STOP, dataclasses.replace(CONTINUE, decided_on=dt.date(2026, 7, 25))), False, "completed"),
        ((STOP,), True, "active"),
    ],
    ids=["no-decision", "stopped", "continued-after-a-stop", "stopped-but-booked"],
)
def test_the_care_plan_is_revoked_once_treatment_is_stopped(decisions, booked, status):
    """The cycles' CarePlan is revoked (ended before its course was done, on the decision's day) when the latest
    decision is to stop, and nothing is booked; a session still booked keeps it active, a later decision to
    continue completed."""
    record = _record()
    sessions = record.sessions if booked else record.sessions[:1]
    (plan,) = _resources(bundle([dataclasses.replace(record, sessions=sessions, decisions=decisions)]), "CarePlan")
    assert plan["status"] == status
    assert plan["period"].get("end") == (STOP.decided_on.isoformat() if status == "revoked" else None)


def test_a_revoked_care_plan_ends_at_the_last_session_given_after_the_stop():
    """A session given after the decision to stop (no decision to continue recorded) is inside the plan's period:
    it ends on that session's day, not before it."""
    record = _record()
    given = record.sessions[0]
    early_stop = dataclasses.replace(STOP, decided_on=given.date - dt.timedelta(days=5))
    (plan,) = _resources(bundle([dataclasses.replace(record, sessions=(given,), decisions=(early_stop,))]), "CarePlan")
    assert (plan["status"], plan["period"]["end"]) == ("revoked", given.date.isoformat())


def test_a_withdrawn_decision_is_not_read_for_the_summary():
    """A decision Observation entered in error (or cancelled) is still accepted and skipped, and not read: the
    import's summary names no stop it withdrew."""
    document = bundle([dataclasses.replace(_record(), decisions=(CONTINUE, STOP))])
    for entry in document["entry"]:
        if entry["resource"]["id"] == STOP.key:
            entry["resource"]["status"] = "entered-in-error"
    (read,) = read_bundle(document, today=TODAY)
    assert [d.key for d in read.decisions] == [CONTINUE.key]


def test_an_import_accepts_and_skips_the_decisions_and_refuses_one_about_no_patient_of_the_bundle():
    """A Bundle holding decisions reads back to the same record (they are not imported: a decision is recorded by
    a clinician of the clinic holding the record, and read only for the import's summary); a decision whose subject
    is not a Patient of the Bundle is refused at its subject, as any resource's."""
    record = dataclasses.replace(_record(), decisions=(CONTINUE, STOP))
    (read,) = read_bundle(bundle([record]), today=TODAY)
    assert read == record
    # read only as far as the import's summary names them: day, decision, clinician, reason
    assert [(d.key, d.decided_on, d.decision, d.decided_by, d.reason) for d in read.decisions] == [
        (d.key, d.decided_on, d.decision, d.decided_by, d.reason) for d in (CONTINUE, STOP)
    ]
    document = bundle([record])
    index, observation = next(
        (i, e["resource"])
        for i, e in enumerate(document["entry"])
        if e["resource"]["resourceType"] == "Observation" and e["resource"]["id"] == STOP.key
    )
    observation["subject"] = {"reference": "urn:uuid:6f1c1f5e-0000-4000-8000-0000000000ff"}
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    assert [(p.expression, p.message) for p in refused.value.problems] == [
        (
            f"Bundle.entry[{index}].resource.subject.reference",
            "the reference 'urn:uuid:6f1c1f5e-0000-4000-8000-0000000000ff' is not a Patient in this Bundle",
        )
    ]
