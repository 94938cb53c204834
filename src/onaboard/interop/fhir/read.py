"""Import: a FHIR R4B Bundle (as onaboard exports it) back into plain records, with every problem located.

The Bundle is first validated with the ``fhir.resources.R4B`` models; then each entry is read into
``records`` values. The diary's per-row rules are the engine's (``diary_day_from_fields``) and questionnaires are
scored by the engine, so a Bundle can never store what the pages would refuse. A problem is ``(expression,
message)`` where the expression is a FHIRPath such as ``Bundle.entry[3].resource.component[0].valueQuantity``;
the web app returns them as an OperationOutcome. Messages are module constants so tests assert them exactly.

The resources onaboard derives itself (``OWN_DERIVED``: its chronic-migraine Condition, a recorded session's
Procedure, the cycles CarePlan) are accepted and skipped: they are recomputed from the rows. Any other Condition,
Procedure or CarePlan is refused (``NOT_DERIVED``), so another system's diagnosis or treatment is never dropped while
the import answers "200 OK". A clinician's decision to continue or stop (an Observation coded
``treatment-decision#treatment-decision``) is accepted and skipped too: it names a clinician of the clinic that
exported it, and a decision here is recorded by one of this clinic's (the export carries it so that the patient's
own download and another clinic's reader have it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from onaboard.clinical import (
    DiaryDay,
    Muscle,
    PromError,
    Side,
    StopReason,
    diary_day_from_fields,
    hit6_score,
    medicine_key,
    midas_score,
)
from onaboard.interop.fhir import codes
from onaboard.interop.fhir.build import DIARY_FLAGS
from onaboard.interop.fhir.records import (
    AFTER_TODAY,
    SAFETY_QUESTIONS,
    DecisionRecord,
    OtherToxinRecord,
    PatientRecord,
    PreventiveRecord,
    QuestionnaireRecord,
    SessionRecord,
    SideEffectRecord,
    SiteRecord,
    recorded_session_problems,
)

NOT_A_BUNDLE = "expected a Bundle resource"
IMPORT_METHODS: tuple[str, ...] = ("PUT", "POST")
"""The transaction requests an import carries out: create or update the entry's resource (``PUT`` by id, as the
export writes; ``POST``). A DELETE, GET, HEAD or PATCH entry is refused: carrying it out as a create would do the
opposite of what it asks."""
METHOD_NOT_IMPORTED = "request.method {method!r} is not imported: onaboard creates or updates ({methods}) only"
NOT_JSON = "the body is not JSON: {detail}"
BUNDLE_TYPE = "a Bundle of type {expected} is required (got {found!r})"
UNKNOWN_TYPE = "resourceType {value!r} is not a FHIR R4B resource"
NOT_VALID = "the Bundle is not valid FHIR R4B: {detail}"
MAX_DEPTH = 64
"""The deepest nesting of objects and arrays read (the Bundle itself is level 1; onaboard's own export reaches 11).
Deeper JSON would exhaust the interpreter's recursion in the validation; no FHIR resource needs it."""
NESTED_TOO_DEEPLY = f"the JSON is nested too deeply: at most {MAX_DEPTH} levels of objects and arrays are read"
UNSUPPORTED_RESOURCE = "onaboard does not import {resource_type} resources"
NO_RESOURCE = (
    "the entry holds no resource: onaboard imports resources (a request without one, such as DELETE, is not supported)"
)
NO_RECORD_NUMBER = f"the Patient needs an identifier with system {codes.RECORD_NUMBER}"
DUPLICATE_PATIENT = "a second Patient with record number {value} (the first is {first})"
DUPLICATE_PATIENT_ID = "a second Patient with id {value!r} and no fullUrl (the first is {first})"
DUPLICATE_FULL_URL = "a second entry with fullUrl {value!r} (the first is {first}): a fullUrl names one entry (bdl-7)"
NO_NAME = "the Patient needs a name with a family name and a given name"
NO_CURRENT_NAME = (
    "the Patient needs a current name: each name given is marked old, nickname, anonymous or maiden, or has ended"
)
NOT_CURRENT_NAME_USES = frozenset({"old", "nickname", "anonymous", "maiden"})
"""The HumanName uses that are not the name to file the patient under (R4B name-use). Of the others, ``official`` is
read first, then ``usual``, then the first name without a use; a name whose ``period`` ended before today is old."""
NO_BIRTH_DATE = "the Patient needs a birthDate"
UNKNOWN_SAFETY_QUESTION = "unknown safety-screen question {value!r} (onaboard asks: {questions})"
SAFETY_NOT_BOOLEAN = "the answer to the safety-screen question {question} must be a valueBoolean"
REPEATED_SAFETY_QUESTION = "the safety-screen question {question} is answered more than once"
BAD_GENDER = "gender must be female, male, other or unknown (got {value!r})"
UNKNOWN_SUBJECT = "the reference {value!r} is not a Patient in this Bundle"
NO_SUBJECT = "a subject (or participant) that is a Patient in this Bundle is required"
NOT_A_DIARY_DAY = (
    f"only headache-diary Observations (code {codes.DIARY}#diary-day) are imported, and onaboard's decisions to "
    f"continue or stop (code {codes.TREATMENT_DECISION}#treatment-decision) are accepted and skipped"
)
NO_DATE = "a date is required"
UNKNOWN_COMPONENT = "unknown diary component {code!r}"
COMPONENT = "a diary component"
"""``NOT_IN_SYSTEM``'s ``what`` for a component coded in another system (LOINC's heart rate, say)."""
REPEATED_COMPONENT = "the component {code!r} appears more than once"
BAD_COMPONENT_VALUE = "the component {code!r} needs a value{value_type}"
DIARY_FIELD = "{column}: {message}"
DUPLICATE_DAY = "a second diary day for this patient on {day} (the first is {first})"
UNKNOWN_QUESTIONNAIRE = "unknown questionnaire {value!r} (onaboard imports {hit6} and {midas})"
BAD_ANSWERS = "the answers are refused: {problems}"
DUPLICATE_RESPONSE = "a second {instrument} response for this patient on {day} (the first is {first})"
NOT_ONABOTULINUMTOXINA = "the administered medication must be the contained onabotulinumtoxinA (#product)"
NOT_COMPLETED = "only a completed administration is a recorded session (got status {value!r})"
NOT_ACTUAL = "only an actual adverse event is a side effect (got actuality {value!r})"
STATUS_NOT_IMPORTED = "status {value!r} is not imported: the resource was entered in error or did not happen"
NO_DOSE = "the total dose in units (dosage.dose.value) is required"
NO_TOXIN_DOSE = "the dose in units (dosage[0].doseAndRate[0].doseQuantity.value) is required"
BAD_SITE = "each injection site needs a bodySite (muscle and side) and units"
UNKNOWN_SITE = "unknown injection site {muscle}:{side}: the muscle must be one of {muscles}, the side one of {sides}"
FRACTIONAL_UNITS = "units at a site must be a whole number (got {value})"
DOSE_NOT_WHOLE = "the total dose must be a whole number of units (got {value})"
UNITS_NOT_WHOLE = "the dose must be a whole number of units (got {value})"
NUL_IN_TEXT = "text must not contain the NUL character"
_MUSCLES = tuple(muscle.value for muscle in Muscle)
_SIDES = tuple(side.value for side in Side)
DUPLICATE_PREVENTIVE = "a second trial of {drug} started on {start} for this patient (the first is {first})"
DUPLICATE_OTHER_TOXIN = "a second {product} treatment on {day} for this patient (the first is {first})"
DUPLICATE_SESSION = "a second session for this patient on {day} (the first is {first})"
NO_KIND = f"the event must be coded in {codes.SIDE_EFFECT}"
UNKNOWN_CATEGORY = "a MedicationStatement must be a preventive or another botulinum toxin treatment"
NO_DRUG = "the medication needs a text (the drug or product name)"
WRONG_UNIT = "the quantity must be in {unit} (UCUM code {code!r}, system {system}): got {found}"
NOT_IN_SYSTEM = "{what} must be coded in {system} (got {found})"
ONLY_TEXT = "only the text {text!r}"
NO_CODING = "no coding"
NO_SYSTEM = "no system"
UNIT_WITHOUT_CODE = " (unit {unit!r})"
"""``NOT_IN_SYSTEM``'s and ``WRONG_UNIT``'s ``found``: a concept with text and no coding, one with neither, a
quantity without a system, a quantity naming its unit only in words."""
NO_SEVERITY = f"the severity is required, coded in {codes.ADVERSE_EVENT_SEVERITY}"

STILL_TAKEN_STATUSES = frozenset({"active", "on-hold"})
"""The R4B MedicationStatement statuses of a preventive the patient still takes, onaboard's "still taking"
(``ongoing``) without a statusReason: ``active`` ("the medication is still being taken") and ``on-hold``
("temporarily halted, but expected to continue later": paused, not stopped, so no trial that ended). Any other
status read (``completed``, "no longer being taken"; ``stopped``, "permanently halted"; ``unknown``) is a medicine
stopped, for another reason (``other``) without a statusReason, and so needs its end (``preventive_trial_problems``
asks it at effectivePeriod.end). ``entered-in-error``, ``intended`` ("may be taken at some time in the future") and
``not-taken`` are refused at their status: none is a trial of the medicine."""
NO_LONGER_TAKEN_STATUSES = frozenset({"completed", "stopped"})
STILL_TAKEN_REASON = (
    "status {status!r} says the medicine is still taken: the stop reason can only be 'ongoing' (got {reason!r})"
)
NO_LONGER_TAKEN_REASON = "status {status!r} says the medicine is no longer taken: the stop reason cannot be {reason!r}"

OWN_DERIVED: dict[str, str] = {
    "Condition": f"chronic-migraine Condition, coded {codes.SNOMED}|{codes.CHRONIC_MIGRAINE_SNOMED[0]}",
    "Procedure": (
        f"session Procedure, coded {codes.CPT}|{codes.CPT_CHEMODENERVATION[0]} and named by its "
        "MedicationAdministration's partOf"
    ),
    "CarePlan": f"cycles CarePlan, category {codes.CARE_PLAN}|preempt-cycles",
}
"""The resources onaboard writes on export and derives from the rows (``build``: ``condition_resource``,
``procedure_resource``, ``care_plan_resource``), so an import skips them: what onaboard reads of each kind."""
NOT_DERIVED = (
    "onaboard does not import this {resource_type} (coded {found}): it reads only its own {own}, and recomputes "
    "that from the record; record what this one says in onaboard, or leave it out of the Bundle"
)
PROCEDURE_ALONE = (
    "a session Procedure is not imported on its own: a session is read from its MedicationAdministration (the "
    "onabotulinumtoxinA given, its dose and sites), and none in this Bundle names this Procedure as its partOf"
)
TRANSACTION_TYPES = frozenset({"transaction"})
FILE_TYPES = frozenset({"transaction", "collection", "searchset"})


@dataclass(frozen=True, slots=True)
class Problem:
    expression: str
    message: str


class BundleInvalidError(ValueError):
    """The Bundle cannot be imported; ``problems`` locates every reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{p.expression}: {p.message}" for p in self.problems))


def _path(loc: Sequence[Any]) -> str:
    text = "Bundle"
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _resource_type_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Entries whose resourceType names no R4B resource (the models cannot even be chosen for them)."""
    problems = []
    entries = document.get("entry")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping):
            continue
        name = resource.get("resourceType")
        try:
            known = isinstance(name, str) and get_fhir_model_class(name) is not None
        except (ValueError, KeyError):
            known = False
        if not known:
            problems.append(Problem(f"Bundle.entry[{index}].resource.resourceType", UNKNOWN_TYPE.format(value=name)))
    return problems


def _too_deep(document: Any) -> str | None:
    """The place of the first object or array nested more than ``MAX_DEPTH`` levels deep, or None (iterative, so any
    depth is measured without recursion)."""
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(document, 1, ())]
    while stack:
        value, depth, chain = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.items()
        elif isinstance(value, list):
            children = enumerate(value)
        else:
            continue
        if depth > MAX_DEPTH:
            steps: list[Any] = []
            while chain:
                chain, step = chain
                steps.append(step)
            return _path(steps[::-1])
        stack.extend((child, depth + 1, (chain, key)) for key, child in children)
    return None


def _validated(document: Mapping[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    """The problems the R4B models find, and the Bundle as they normalise it (nulls and empty values dropped)."""
    problems = _resource_type_problems(document)
    if problems:
        return problems, {}
    try:
        dumped = Bundle.model_validate(document).model_dump(mode="json", by_alias=True, exclude_none=True)
    except pydantic.ValidationError as error:
        found = [Problem(_path(i["loc"]), str(i["msg"]).removeprefix("Value error, ")) for i in error.errors()]
        return found, {}
    except (TypeError, KeyError, ValueError) as error:
        return [Problem("Bundle", NOT_VALID.format(detail=error))], {}
    except RecursionError:  # not reached within MAX_DEPTH; kept so no depth can crash the import
        return [Problem("Bundle", NESTED_TOO_DEEPLY)], {}
    return [], dumped


@dataclass
class _Patient:
    at: str
    fields: dict[str, Any]
    diary: dict[dt.date, tuple[str, DiaryDay]] = field(default_factory=dict)
    questionnaires: dict[tuple[str, dt.date], tuple[str, QuestionnaireRecord]] = field(default_factory=dict)
    sessions: dict[dt.date, tuple[str, SessionRecord]] = field(default_factory=dict)
    """Booked or recorded sessions, one a day (where each was read)."""
    all_sessions: list[SessionRecord] = field(default_factory=list)
    """Every session kept, in file order: those and the cancelled ones (any number a day)."""
    side_effects: list[SideEffectRecord] = field(default_factory=list)
    preventives: dict[tuple[str, dt.date], tuple[str, PreventiveRecord]] = field(default_factory=dict)
    """By drug (``medicine_key``: letter case aside) and start, the natural key an import matches them by (where each
    was read)."""
    other_toxins: dict[tuple[dt.date, str], tuple[str, OtherToxinRecord]] = field(default_factory=dict)
    """By date and product (``medicine_key``: letter case aside, as the import matches them), where each was read."""
    decisions: list[DecisionRecord] = field(default_factory=list)
    """The decisions to continue or stop the Bundle holds: not imported, read so that the import can say so."""


def _codes(value: Mapping[str, Any] | None, system: str) -> list[str]:
    return [c["code"] for c in (value or {}).get("coding", []) if c.get("system") == system and c.get("code")]


def _code(value: Mapping[str, Any] | None, system: str) -> str | None:
    found = _codes(value, system)
    return found[0] if found else None


def _foreign(value: Mapping[str, Any] | None) -> str:
    """What a CodeableConcept holds instead of a code in the expected system: its codings (``system|code``) or its
    text."""
    codings = [f"{c.get('system') or ''}|{c.get('code') or ''}" for c in (value or {}).get("coding", [])]
    if codings:
        return ", ".join(codings)
    text = (value or {}).get("text")
    return ONLY_TEXT.format(text=text) if text else NO_CODING


def _unit_problem(quantity: Mapping[str, Any], unit: Mapping[str, str]) -> str | None:
    """A problem when ``quantity`` is not in ``unit`` (one of ``codes.HOURS`` and ``codes.BOTOX_UNIT``, what the
    export writes): its UCUM system and code must be exactly those. No other unit is converted: a BOTOX unit has
    no conversion, and hours are the diary contract's unit."""
    if quantity.get("system") == unit["system"] and quantity.get("code") == unit["code"]:
        return None
    found = f"{quantity.get('system') or NO_SYSTEM}|{quantity.get('code') or ''}"
    if quantity.get("unit") and not quantity.get("code"):
        found += UNIT_WITHOUT_CODE.format(unit=quantity["unit"])
    return WRONG_UNIT.format(unit=unit["unit"], code=unit["code"], system=unit["system"], found=found)


def _subs(extension: Mapping[str, Any]) -> dict[str, Any]:
    """The sub-extensions' values by url (``valueX`` whatever X is)."""
    values = {}
    for sub in extension.get("extension", []):
        value = next((v for k, v in sub.items() if k.startswith("value")), None)
        values[sub.get("url")] = value
    return values


def _whole(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (12 or 12.0), else None (12.7, NaN, infinity, true, text)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError, InvalidOperation):  # NaN, infinity
            return int(value) if value == int(value) else None
    return None


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _ended(end: Any, today: dt.date) -> bool:
    """Whether a period's ``end`` (a FHIR dateTime: a year, a month, a day or a time) is before ``today``: compared
    as ISO text to today's year, month or day, so "2001" and "2001-06" are past and "2026-06" is not in June 2026."""
    if not isinstance(end, str) or not end:
        return False
    day = end[:10]
    return day < today.isoformat()[: len(day)]


class _Reader:
    def __init__(self, *, today: dt.date) -> None:
        self.today = today
        self.problems: list[Problem] = []
        self.patients: dict[str, _Patient] = {}
        self.by_record_number: dict[str, str] = {}
        self.refused_patients: set[str] = set()
        """The fullUrls of Patients refused for their record number: a reference to one names it, though it is not
        read."""

    def problem(self, at: str, message: str) -> None:
        self.problems.append(Problem(at, message))

    # -- Patients --

    def happened(self, at: str, day: dt.date | None, what: str) -> dt.date | None:
        """``day`` when it is given and not after today; otherwise a problem at ``at`` and None."""
        if day is None:
            self.problem(at, NO_DATE)
        elif day > self.today:
            self.problem(at, AFTER_TODAY.format(what=what, day=day, today=self.today))
            return None
        return day

    def read_patient(self, at: str, full_url: str, resource: Mapping[str, Any]) -> None:
        if full_url in self.patients:  # two Patients without a fullUrl and with the same id
            first = self.patients[full_url].at
            self.problem(f"{at}.id", DUPLICATE_PATIENT_ID.format(value=resource.get("id"), first=first))
            return
        numbers = [i.get("value") for i in resource.get("identifier", []) if i.get("system") == codes.RECORD_NUMBER]
        number = numbers[0] if numbers and numbers[0] else None
        if number is None:
            self.problem(f"{at}.identifier", NO_RECORD_NUMBER)
        elif number in self.by_record_number:
            first = self.patients[self.by_record_number[number]].at
            self.problem(f"{at}.identifier", DUPLICATE_PATIENT.format(value=number, first=first))
            number = None
        names = resource.get("name") or []
        name = self.current_name(names)
        family = name.get("family") if name else None
        given = " ".join(name.get("given") or []) if name else None
        if names and name is None:
            self.problem(f"{at}.name", NO_CURRENT_NAME)
        elif not family or not given:
            self.problem(f"{at}.name", NO_NAME)
        birth = _date(resource.get("birthDate"))
        if birth is None:
            self.problem(f"{at}.birthDate", NO_BIRTH_DATE)
        gender = resource.get("gender")  # None: not given, and an import keeps the stored value
        if gender is not None and gender not in {"female", "male", "other", "unknown"}:
            self.problem(f"{at}.gender", BAD_GENDER.format(value=gender))
        safety: dict[str, bool | None] = {}
        other_asked: bool | None = None  # likewise: only a given extension changes the answer
        for index, extension in enumerate(resource.get("extension", [])):
            if extension.get("url") == codes.SAFETY_SCREEN:
                self.read_safety(f"{at}.extension[{index}]", extension, safety)
            elif extension.get("url") == codes.OTHER_TOXIN_ASKED:
                other_asked = bool(extension.get("valueBoolean"))
        if number is None:
            self.refused_patients.add(full_url)  # its resources' references to it are not reported again
            return
        self.by_record_number[number] = full_url
        self.patients[full_url] = _Patient(
            at,
            {
                "key": resource.get("id") or "",
                "record_number": number,
                "given_name": given or "",
                "family_name": family or "",
                "birth_date": birth,
                "sex": gender,
                "safety": safety,
                "other_toxin_asked": other_asked,
            },
        )

    def current_name(self, names: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        """The name to file the patient under (``NOT_CURRENT_NAME_USES``): the official name, else the usual one,
        else the first without a use, of those not old (by use, or by a period ended before today); None when every
        name is old."""
        current = [
            name
            for name in names
            if name.get("use") not in NOT_CURRENT_NAME_USES
            and not _ended((name.get("period") or {}).get("end"), self.today)
        ]
        for use in ("official", "usual"):
            for name in current:
                if name.get("use") == use:
                    return name
        return current[0] if current else None

    def read_safety(self, at: str, extension: Mapping[str, Any], safety: dict[str, bool | None]) -> None:
        """Each sub-extension of the safety screen into ``safety``: a question the screen asks, answered yes or no."""
        for index, sub in enumerate(extension.get("extension", [])):
            here = f"{at}.extension[{index}]"
            question = sub.get("url")
            if question not in SAFETY_QUESTIONS:
                questions = ", ".join(SAFETY_QUESTIONS)
                self.problem(f"{here}.url", UNKNOWN_SAFETY_QUESTION.format(value=question, questions=questions))
            elif not isinstance(sub.get("valueBoolean"), bool):
                self.problem(here, SAFETY_NOT_BOOLEAN.format(question=question))
            elif question in safety:
                self.problem(f"{here}.url", REPEATED_SAFETY_QUESTION.format(question=question))
            else:
                safety[question] = sub["valueBoolean"]

    def subject(self, at: str, resource: Mapping[str, Any], *, key: str = "subject") -> _Patient | None:
        reference = (resource.get(key) or {}).get("reference")
        if reference is None:
            self.problem(f"{at}.{key}", NO_SUBJECT)
            return None
        patient = self.patients.get(reference)
        if patient is None and reference not in self.refused_patients:
            self.problem(f"{at}.{key}.reference", UNKNOWN_SUBJECT.format(value=reference))
        return patient

    def refused_status(self, at: str, resource: Mapping[str, Any], refused: frozenset[str]) -> bool:
        """True, with a problem at its status, when ``resource`` records something entered in error or not done."""
        if resource.get("status") in refused:
            self.problem(f"{at}.status", STATUS_NOT_IMPORTED.format(value=resource.get("status")))
            return True
        return False

    # -- Diary --

    def read_observation(self, at: str, resource: Mapping[str, Any]) -> None:
        if "diary-day" not in _codes(resource.get("code"), codes.DIARY):
            if "treatment-decision" in _codes(resource.get("code"), codes.TREATMENT_DECISION):
                # accepted and skipped: a decision is recorded by a clinician of the clinic holding the record; read
                # as far as the import's summary names it (a decision about a patient the Bundle lacks is refused)
                patient = self.subject(at, resource)
                decision = _decision_read(resource)
                if patient is not None and decision is not None:
                    patient.decisions.append(decision)
                return
            self.problem(f"{at}.code", NOT_A_DIARY_DAY)
            return
        if self.refused_status(at, resource, frozenset({"entered-in-error", "cancelled"})):
            return
        patient = self.subject(at, resource)
        day = _date(resource.get("effectiveDateTime"))
        if day is None:
            self.problem(f"{at}.effectiveDateTime", NO_DATE)
        fields: dict[str, str] = {"patient_id": "P", "date": day.isoformat() if day else ""}
        where: dict[str, str] = {"date": f"{at}.effectiveDateTime", "patient_id": f"{at}.subject"}
        classes: list[str] = []
        refused: set[str] = set()
        for index, component in enumerate(resource.get("component", [])):
            here = f"{at}.component[{index}]"
            code = _code(component.get("code"), codes.DIARY) or ""
            if not code:  # coded in another system: named, not "unknown diary component ''"
                found = _foreign(component.get("code"))
                self.problem(f"{here}.code", NOT_IN_SYSTEM.format(what=COMPONENT, system=codes.DIARY, found=found))
                refused.add(code)
                continue
            text = self._component_text(here, code, component)
            if text is None:
                refused.add(code)
                continue
            if code == "acute_medication":
                classes.append(text)
                where.setdefault(code, here)
            elif code in fields:
                self.problem(f"{here}.code", REPEATED_COMPONENT.format(code=code))
            else:
                fields[code] = text
                where[code] = here
        fields["acute_medication"] = ";".join(classes)
        fields["notes"] = "\n".join(note.get("text", "") for note in resource.get("note", []))
        where["notes"] = f"{at}.note"
        if day is None:
            return
        result = diary_day_from_fields(fields, today=self.today, stored=True)  # held to the diary page's limits
        if isinstance(result, list):
            for column, message in result:
                if column not in refused:  # a refused component is reported at it, not again as missing
                    self.problem(where.get(column, at), DIARY_FIELD.format(column=column, message=message))
            return
        if patient is None:
            return
        if day in patient.diary:
            self.problem(f"{at}.effectiveDateTime", DUPLICATE_DAY.format(day=day, first=patient.diary[day][0]))
            return
        patient.diary[day] = (at, dataclasses.replace(result, patient_id=patient.fields["record_number"]))

    def _component_text(self, here: str, code: str, component: Mapping[str, Any]) -> str | None:
        if code == "headache_hours":
            quantity = component.get("valueQuantity") or {}
            value = quantity.get("value")
            if value is None:
                self.problem(here, BAD_COMPONENT_VALUE.format(code=code, value_type="Quantity"))
                return None
            wrong = _unit_problem(quantity, codes.HOURS)  # 20 min was stored as 20 hours
            if wrong is not None:
                self.problem(f"{here}.valueQuantity", wrong)
                return None
            try:
                return format(Decimal(str(value)).normalize(), "f")
            except InvalidOperation:
                return str(value)
        if code in {"intensity", "acute_medication"}:
            system = codes.INTENSITY if code == "intensity" else codes.ACUTE_CLASS
            value = _code(component.get("valueCodeableConcept"), system)
            if value is None:
                self.problem(here, BAD_COMPONENT_VALUE.format(code=code, value_type="CodeableConcept"))
            return value
        if code in DIARY_FLAGS:
            value = component.get("valueBoolean")
            if value is None:
                self.problem(here, BAD_COMPONENT_VALUE.format(code=code, value_type="Boolean"))
                return None
            return "yes" if value else "no"
        self.problem(f"{here}.code", UNKNOWN_COMPONENT.format(code=code))
        return None

    # -- Questionnaires --

    def read_questionnaire(self, at: str, resource: Mapping[str, Any]) -> None:
        canonical = resource.get("questionnaire")
        instrument = {codes.HIT6_QUESTIONNAIRE: "hit6", codes.MIDAS_QUESTIONNAIRE: "midas"}.get(canonical or "")
        if instrument is None:
            self.problem(
                f"{at}.questionnaire",
                UNKNOWN_QUESTIONNAIRE.format(
                    value=canonical, hit6=codes.HIT6_QUESTIONNAIRE, midas=codes.MIDAS_QUESTIONNAIRE
                ),
            )
            return
        if self.refused_status(at, resource, frozenset({"entered-in-error"})):
            return
        patient = self.subject(at, resource)
        day = self.happened(f"{at}.authored", _date(resource.get("authored")), "a questionnaire response")
        answers: dict[str, Any] = {}
        for item in resource.get("item", []):
            answer = (item.get("answer") or [{}])[0]
            if "valueCoding" in answer:
                answers[item.get("linkId")] = answer["valueCoding"].get("code")
            else:
                answers[item.get("linkId")] = answer.get("valueInteger")
        try:
            if instrument == "hit6":
                values: Any = tuple(str(answers.get(f"item{n}")) for n in range(1, 7))
                scored = hit6_score(list(values))
                total, category = scored.total, scored.impact.value
            else:
                values = tuple((key, answers.get(key)) for key in ("q1", "q2", "q3", "q4", "q5", "a", "b"))
                midas = midas_score(**dict(values))
                total, category = midas.total, midas.grade.value
        except PromError as refused:
            self.problem(f"{at}.item", BAD_ANSWERS.format(problems="; ".join(refused.problems)))
            return
        if patient is None or day is None:
            return
        if (instrument, day) in patient.questionnaires:
            first = patient.questionnaires[instrument, day][0]
            self.problem(f"{at}.authored", DUPLICATE_RESPONSE.format(instrument=instrument, day=day, first=first))
            return
        record = QuestionnaireRecord(resource.get("id") or "", instrument, day, values, total, category)
        patient.questionnaires[instrument, day] = (at, record)

    # -- Sessions --

    def _add_session(self, at: str, patient: _Patient, session: SessionRecord) -> None:
        if session.status != "cancelled":
            if session.date in patient.sessions:
                first = patient.sessions[session.date][0]
                self.problem(at, DUPLICATE_SESSION.format(day=session.date, first=first))
                return
            patient.sessions[session.date] = (at, session)
        patient.all_sessions.append(session)

    def _whole_dose(self, at: str, resource: Mapping[str, Any]) -> int | None:
        """The total dose in units, or None with a problem at ``dosage.dose`` when it is missing or not whole."""
        quantity = (resource.get("dosage") or {}).get("dose") or {}
        dose = quantity.get("value")
        if dose is None:
            self.problem(f"{at}.dosage.dose", NO_DOSE)
            return None
        wrong = _unit_problem(quantity, codes.BOTOX_UNIT)  # 2 mL was stored as 2 U
        if wrong is not None:
            self.problem(f"{at}.dosage.dose", wrong)
            return None
        whole = _whole(dose)
        if whole is None:
            self.problem(f"{at}.dosage.dose", DOSE_NOT_WHOLE.format(value=dose))
        return whole

    def _site(self, at: str, extension: Mapping[str, Any]) -> SiteRecord | None:
        """One ``injection-site`` extension read, or None with a problem at ``at`` (its muscle, side or units
        missing or unknown, its units not whole or not BOTOX units). The engine's and the map's rules are
        ``recorded_session_problems``'."""
        parts = _subs(extension)
        muscle = _code(parts.get("bodySite"), codes.MUSCLE)
        side = _code(parts.get("bodySite"), codes.SIDE)
        quantity = parts.get("units") or {}
        units = quantity.get("value") if isinstance(quantity, Mapping) else None
        if not muscle or not side or units is None:
            self.problem(at, BAD_SITE)
            return None
        wrong = _unit_problem(quantity, codes.BOTOX_UNIT)  # 1 mL was stored as 1 U
        if wrong is not None:
            part = next(n for n, sub in enumerate(extension["extension"]) if sub.get("url") == "units")
            self.problem(f"{at}.extension[{part}].valueQuantity", wrong)
            return None
        if muscle not in _MUSCLES or side not in _SIDES:
            message = UNKNOWN_SITE.format(
                muscle=muscle, side=side, muscles=", ".join(_MUSCLES), sides=", ".join(_SIDES)
            )
            self.problem(at, message)
            return None
        if isinstance(units, bool) or not isinstance(units, int | float) or not float(units).is_integer():
            self.problem(at, FRACTIONAL_UNITS.format(value=units))
            return None
        return SiteRecord(
            muscle,
            side,
            int(units),
            bool(parts.get("followThePain")),
            parts.get("view") or "front",
            parts.get("x"),
            parts.get("y"),
        )

    def read_administration(self, at: str, resource: Mapping[str, Any]) -> None:
        patient = self.subject(at, resource)
        if resource.get("status") != "completed":  # not-done, entered-in-error ...: no dose was given
            self.problem(f"{at}.status", NOT_COMPLETED.format(value=resource.get("status")))
            return
        day = _date(resource.get("effectiveDateTime"))
        if day is None:
            self.problem(f"{at}.effectiveDateTime", NO_DATE)
        contained = {c.get("id"): index for index, c in enumerate(resource.get("contained", []))}
        product = contained.get("product")
        medication = (
            resource["contained"][product]
            if product is not None and (resource.get("medicationReference") or {}).get("reference") == "#product"
            else None
        )
        if medication is None or _code(medication.get("code"), codes.HCPCS) != codes.HCPCS_ONABOTULINUMTOXINA[0]:
            self.problem(f"{at}.medicationReference", NOT_ONABOTULINUMTOXINA)
            return
        dose = self._whole_dose(at, resource)
        sites: list[SiteRecord] = []
        site_places: list[str] = []
        problems_before_sites = len(self.problems)
        vial: dict[str, Any] = {}
        checks: dict[str, Any] = {}
        for index, extension in enumerate(resource.get("extension", [])):
            url = extension.get("url")
            if url == codes.INJECTION_SITE:
                site = self._site(f"{at}.extension[{index}]", extension)
                if site is not None:
                    sites.append(site)
                    site_places.append(f"extension[{index}]")
            elif url == codes.VIAL:
                vial = _subs(extension)
            elif url == codes.CHECKS:
                checks = _subs(extension)
        batch = medication.get("batch") or {}
        places = {
            "lot": f"contained[{product}].batch.lotNumber",
            "expiry": f"contained[{product}].batch.expirationDate",
            "date": "effectiveDateTime",
            "total_units": "dosage.dose",
            "sites": "extension",
            **dict.fromkeys(("vial_units", "vials_used", "discarded_units"), f"extension.where(url = '{codes.VIAL}')"),
        }
        sites_read = len(self.problems) == problems_before_sites  # a refused site is not summed against the dose
        refused = recorded_session_problems(
            day=day,
            total_units=dose,
            sites=sites if sites_read else None,
            lot=batch.get("lotNumber") or "",
            expiry=_date(batch.get("expirationDate")),
            today=self.today,
            vial_units=vial.get("vialUnits") or 200,
            vials_used=vial.get("vialsUsed"),
            discarded_units=vial.get("discardedUnits"),
            override_reason=checks.get("overrideReason") or "",
        )
        places.update((f"sites[{number}]", place) for number, place in enumerate(site_places))
        for what, message in refused:
            if what != "total_units" or dose is not None:  # a missing or broken dose is reported by _whole_dose
                self.problem(f"{at}.{places[what]}", message)
        if patient is None or day is None or dose is None or refused:
            return
        session = SessionRecord(
            key=resource.get("id") or "",
            date=day,
            status="recorded",
            vial_units=vial.get("vialUnits") or 200,
            vials_used=vial.get("vialsUsed"),
            total_units=dose,
            discarded_units=vial.get("discardedUnits"),
            lot=batch.get("lotNumber") or "",
            expiry=_date(batch.get("expirationDate")),
            override_reason=checks.get("overrideReason") or "",
            overridden_checks=checks.get("overriddenChecks") or "",
            check_reasons=checks.get("checkReasons") or "",
            complications="\n".join(note.get("text", "") for note in resource.get("note", [])),
            sites=tuple(sites),
        )
        self._add_session(f"{at}.effectiveDateTime", patient, session)

    def read_appointment(self, at: str, resource: Mapping[str, Any]) -> None:
        if self.refused_status(at, resource, frozenset({"entered-in-error"})):
            return
        actors = [p.get("actor") or {} for p in resource.get("participant", [])]
        patient = next((self.patients[a["reference"]] for a in actors if a.get("reference") in self.patients), None)
        if patient is None and not any(a.get("reference") in self.refused_patients for a in actors):
            self.problem(f"{at}.participant", NO_SUBJECT)
        periods = resource.get("requestedPeriod") or []
        day = _date(periods[0].get("start")) if periods else _date(resource.get("start"))
        if day is None:
            self.problem(f"{at}.requestedPeriod", NO_DATE)
        if patient is None or day is None:
            return
        status = "cancelled" if resource.get("status") in {"cancelled", "noshow"} else "booked"
        self._add_session(f"{at}.requestedPeriod", patient, SessionRecord(resource.get("id") or "", day, status))

    # -- Side effects and medication history --

    def read_adverse_event(self, at: str, resource: Mapping[str, Any]) -> None:
        patient = self.subject(at, resource)
        if resource.get("actuality") != "actual":  # a potential event (a near miss) is no side effect the patient had
            self.problem(f"{at}.actuality", NOT_ACTUAL.format(value=resource.get("actuality")))
            return
        kind = _code(resource.get("event"), codes.SIDE_EFFECT)
        if kind is None:
            self.problem(f"{at}.event", NO_KIND)
        onset = self.happened(f"{at}.date", _date(resource.get("date")), "a side effect")
        detail: dict[str, Any] = {}
        for extension in resource.get("extension", []):
            if extension.get("url") == codes.SIDE_EFFECT_DETAIL:
                detail = _subs(extension)
        severity = _code(resource.get("severity"), codes.ADVERSE_EVENT_SEVERITY)
        if severity is None:  # a severe event coded in SNOMED CT was stored as mild
            found = resource.get("severity")
            self.problem(
                f"{at}.severity",
                NOT_IN_SYSTEM.format(what="the severity", system=codes.ADVERSE_EVENT_SEVERITY, found=_foreign(found))
                if found
                else NO_SEVERITY,
            )
        if patient is None or kind is None or onset is None or severity is None:
            return
        patient.side_effects.append(
            SideEffectRecord(
                key=resource.get("id") or "",
                kind=kind,
                onset=onset,
                severity=severity,
                description=detail.get("description") or "",
                clinician_grade=detail.get("clinicianGrade") or "",
                related_to_treatment=detail.get("relatedToTreatment"),
                session_date=_date(detail.get("sessionDate")),
            )
        )

    def read_statement(self, at: str, resource: Mapping[str, Any]) -> None:
        patient = self.subject(at, resource)
        if self.refused_status(at, resource, frozenset({"entered-in-error", "not-taken", "intended"})):
            return
        category = _code(resource.get("category"), codes.MEDICATION)
        medication = resource.get("medicationCodeableConcept") or {}
        name = medication.get("text")
        if not name:
            self.problem(f"{at}.medicationCodeableConcept.text", NO_DRUG)
        if category == "preventive":
            period = resource.get("effectivePeriod") or {}
            start = _date(period.get("start"))
            if start is None:
                self.problem(f"{at}.effectivePeriod.start", NO_DATE)
            # The drug's codings are where another system puts its own drug codes (RxNorm, SNOMED CT): without one
            # in onaboard's class system the class is not given, so "other", as for a drug given by text alone.
            codings = [c for c in medication.get("coding") or [] if isinstance(c, dict)]
            ours = [c for c in codings if c.get("system") == codes.PREVENTIVE_CLASS]
            drug_class = self._coded(
                f"{at}.medicationCodeableConcept.coding", ours or None, codes.PREVENTIVE_CLASS, "the class"
            )
            stop_reason = self._stop_reason(at, resource)
            if patient is None or start is None or not name or drug_class is None or stop_reason is None:
                return
            key = (medicine_key(name), start)
            if key in patient.preventives:  # matched by drug and start, the second would overwrite the first
                first = patient.preventives[key][0]
                self.problem(
                    f"{at}.effectivePeriod.start", DUPLICATE_PREVENTIVE.format(drug=name, start=start, first=first)
                )
                return
            dosage = resource.get("dosage") or [{}]
            patient.preventives[key] = (
                at,
                PreventiveRecord(
                    key=resource.get("id") or "",
                    drug=name,
                    drug_class=drug_class,
                    start=start,
                    stop=_date(period.get("end")),
                    stop_reason=stop_reason,
                    dose=dosage[0].get("text") or "",
                ),
            )
        elif category == "other-botulinum-toxin":
            day = _date(resource.get("effectiveDateTime"))
            if day is None:
                self.problem(f"{at}.effectiveDateTime", NO_DATE)
            dose = (resource.get("dosage") or [{}])[0].get("doseAndRate") or [{}]
            quantity = dose[0].get("doseQuantity") or {}
            value = quantity.get("value")
            units = _whole(value)
            wrong = _unit_problem(quantity, codes.BOTOX_UNIT)
            if value is None:
                self.problem(f"{at}.dosage", NO_TOXIN_DOSE)
            elif units is None:  # 12.7 U was stored as 12
                self.problem(f"{at}.dosage[0].doseAndRate[0].doseQuantity", UNITS_NOT_WHOLE.format(value=value))
            elif wrong is not None:  # 20 mg was stored as 20 U
                self.problem(f"{at}.dosage[0].doseAndRate[0].doseQuantity", wrong)
                units = None
            if patient is None or day is None or units is None or not name:
                return
            toxin_key = (day, medicine_key(name))
            if toxin_key in patient.other_toxins:  # matched by date and product, the second would overwrite the first
                first = patient.other_toxins[toxin_key][0]
                self.problem(
                    f"{at}.effectiveDateTime", DUPLICATE_OTHER_TOXIN.format(product=name, day=day, first=first)
                )
                return
            reasons = resource.get("reasonCode") or [{}]
            record = OtherToxinRecord(resource.get("id") or "", day, name, units, reasons[0].get("text") or "")
            patient.other_toxins[toxin_key] = (at, record)
        else:
            self.problem(f"{at}.category", UNKNOWN_CATEGORY)

    def _stop_reason(self, at: str, resource: Mapping[str, Any]) -> str | None:
        """A preventive statement's stop reason: its statusReason, coded in onaboard's system; without one, what its
        status says (``STILL_TAKEN_STATUSES``: still taking, otherwise stopped for another reason). None, with a
        problem at the statusReason, for a reason in another system or only in words, and for one its status
        contradicts (a stop reason on a medicine still taken, or "still taking" on one no longer taken)."""
        status = resource.get("status")
        reasons = resource.get("statusReason") or []
        default = StopReason.ONGOING.value if status in STILL_TAKEN_STATUSES else StopReason.OTHER.value
        here = f"{at}.statusReason[0]"
        reason = self._coded(here, reasons[0] if reasons else None, codes.STOP_REASON, "the stop reason", default)
        if status in STILL_TAKEN_STATUSES and reason not in {None, StopReason.ONGOING}:
            self.problem(here, STILL_TAKEN_REASON.format(status=status, reason=reason))
            return None
        if status in NO_LONGER_TAKEN_STATUSES and reason == StopReason.ONGOING:
            self.problem(here, NO_LONGER_TAKEN_REASON.format(status=status, reason=reason))
            return None
        return reason

    def _coded(self, at: str, value: Any, system: str, what: str, default: str = "other") -> str | None:
        """The code in ``system`` of a CodeableConcept (or, given a list, of those codings); ``default`` when the
        element is absent (optional in onaboard's profile, docs/fhir.md); None, with a problem at ``at``, when it
        is present but holds no code in ``system`` (another system's code, or only a text)."""
        concept = {"coding": value} if isinstance(value, list) else value
        if not concept:
            return default
        code = _code(concept, system)
        if code is None:
            self.problem(at, NOT_IN_SYSTEM.format(what=what, system=system, found=_foreign(concept)))
        return code

    # -- What onaboard derives --

    def read_derived(self, at: str, resource: Mapping[str, Any], part_of: frozenset[str], full_url: str) -> None:
        """Skip onaboard's own derived resource (``OWN_DERIVED``); refuse any other Condition, Procedure or CarePlan
        at its code (or category), naming what it is coded as. ``part_of``: the references of the Bundle's
        MedicationAdministrations to the Procedures they are part of."""
        resource_type = resource["resourceType"]
        if resource_type == "CarePlan":
            categories = resource.get("category") or []
            if any("preempt-cycles" in _codes(category, codes.CARE_PLAN) for category in categories):
                return
            found = ", ".join(_foreign(category) for category in categories) or NO_CODING
            where = f"{at}.category"
        else:
            own = codes.CHRONIC_MIGRAINE_SNOMED if resource_type == "Condition" else codes.CPT_CHEMODENERVATION
            system = codes.SNOMED if resource_type == "Condition" else codes.CPT
            if own[0] in _codes(resource.get("code"), system):
                if resource_type == "Procedure" and full_url not in part_of:
                    self.problem(at, PROCEDURE_ALONE)
                return
            found, where = _foreign(resource.get("code")), f"{at}.code"
        own_text = OWN_DERIVED[resource_type]
        self.problem(where, NOT_DERIVED.format(resource_type=resource_type, found=found, own=own_text))

    def records(self) -> tuple[PatientRecord, ...]:
        records = []
        for patient in self.patients.values():
            fields = dict(patient.fields)
            safety = fields.pop("safety")
            records.append(
                PatientRecord(
                    **fields,
                    safety=tuple(safety.items()),
                    diary=tuple(day for _, day in sorted(patient.diary.values(), key=lambda p: p[1].date)),
                    sessions=tuple(sorted(patient.all_sessions, key=lambda s: s.date)),
                    questionnaires=tuple(
                        r
                        for _, r in sorted(patient.questionnaires.values(), key=lambda p: (p[1].date, p[1].instrument))
                    ),
                    side_effects=tuple(patient.side_effects),
                    preventives=tuple(record for _, record in patient.preventives.values()),
                    other_toxins=tuple(record for _, record in patient.other_toxins.values()),
                    decisions=tuple(sorted(patient.decisions, key=lambda d: d.decided_on)),
                )
            )
        return tuple(records)


_READERS = {
    "Observation": _Reader.read_observation,
    "QuestionnaireResponse": _Reader.read_questionnaire,
    "MedicationAdministration": _Reader.read_administration,
    "Appointment": _Reader.read_appointment,
    "AdverseEvent": _Reader.read_adverse_event,
    "MedicationStatement": _Reader.read_statement,
}


def _decision_read(resource: Mapping[str, Any]) -> DecisionRecord | None:
    """A decision Observation as far as an import reports it (its day and whether it is to continue or stop); None
    without a day or a decision onaboard writes, or when it was entered in error or cancelled. Nothing is refused
    here: the decision is not imported."""
    day = _date(resource.get("effectiveDateTime"))
    decision = _code(resource.get("valueCodeableConcept"), codes.TREATMENT_DECISION)
    withdrawn = resource.get("status") in {"entered-in-error", "cancelled"}
    if day is None or decision not in {"continue", "stop"} or withdrawn:
        return None
    notes = resource.get("note") or [{}]
    performers = resource.get("performer") or [{}]
    return DecisionRecord(
        key=str(resource.get("id") or ""),
        decided_on=day,
        decision=decision,
        reason=str(notes[0].get("text") or ""),
        decided_by=str(performers[0].get("display") or ""),
        nice_verdict="",
    )


def _nul_places(value: Any, where: str) -> Iterator[str]:
    """The places of text holding the NUL character (a database's text cannot store it; no FHIR text needs it)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield where
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _nul_places(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_places(item, f"{where}[{index}]")


def _trimmed(value: Any) -> Any:
    """``value`` with every text trimmed, as the CSV readers trim every value: text read with a space or line
    break at an end would differ from the same text read back from a CSV export, and each import would change it."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return {key: _trimmed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trimmed(item) for item in value]
    return value


def read_bundle(document: Any, *, today: dt.date, types: frozenset[str] = FILE_TYPES) -> tuple[PatientRecord, ...]:
    """The patients of a Bundle, or ``BundleInvalidError`` listing every located problem (nothing partial)."""
    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        raise BundleInvalidError([Problem("Bundle", NOT_A_BUNDLE)])
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in types:
        expected = " or ".join(sorted(types))
        raise BundleInvalidError(
            [Problem("Bundle.type", BUNDLE_TYPE.format(expected=expected, found=document.get("type")))]
        )
    deep = _too_deep(document)
    if deep is not None:
        raise BundleInvalidError([Problem(deep, NESTED_TOO_DEEPLY)])
    problems, document = _validated(document)
    problems = problems or [Problem(where, NUL_IN_TEXT) for where in _nul_places(document, "Bundle")]
    document = _trimmed(document)
    if problems:
        raise BundleInvalidError(problems)
    reader = _Reader(today=today)
    entries = [
        (f"Bundle.entry[{i}].resource", e.get("fullUrl"), e.get("resource") or {})
        for i, e in enumerate(document.get("entry", []))
    ]
    for index, entry in enumerate(document.get("entry", [])):
        method = (entry.get("request") or {}).get("method")
        if method is not None and method not in IMPORT_METHODS:
            message = METHOD_NOT_IMPORTED.format(method=method, methods=", ".join(IMPORT_METHODS))
            reader.problem(f"Bundle.entry[{index}].request.method", message)
    first_of: dict[str, str] = {}
    repeated: set[str] = set()
    for index, (at, full_url, _) in enumerate(entries):
        if full_url is None:
            continue
        if full_url in first_of:  # a reference to it would name two resources: a patient's rows could go to another
            message = DUPLICATE_FULL_URL.format(value=full_url, first=first_of[full_url])
            reader.problem(f"Bundle.entry[{index}].fullUrl", message)
            repeated.add(at)
        else:
            first_of[full_url] = f"Bundle.entry[{index}]"
    for at, full_url, resource in entries:
        if resource.get("resourceType") == "Patient" and at not in repeated:
            reader.read_patient(at, full_url or f"Patient/{resource.get('id')}", resource)
    part_of = frozenset(
        reference.get("reference")
        for _, _, resource in entries
        if resource.get("resourceType") == "MedicationAdministration"
        for reference in resource.get("partOf") or []
    )
    for at, full_url, resource in entries:
        resource_type = resource.get("resourceType")
        if resource_type == "Patient":
            continue
        if resource_type in OWN_DERIVED:
            reader.read_derived(at, resource, part_of, full_url or f"{resource_type}/{resource.get('id')}")
            continue
        read = _READERS.get(resource_type)
        if read is None:
            message = NO_RESOURCE if resource_type is None else UNSUPPORTED_RESOURCE.format(resource_type=resource_type)
            reader.problem(f"{at}", message)
            continue
        read(reader, at, resource)
    if reader.problems:
        raise BundleInvalidError(reader.problems)
    return reader.records()
