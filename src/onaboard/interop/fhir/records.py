"""Plain values for one patient's record as FHIR carries it: what the exporter reads and the importer returns.

Framework-free: the web app turns its rows into these and back. Diary days are the engine's ``DiaryDay``; the
``patient_id`` of every day is the patient's record number. ``key`` fields are the public UUIDs used as FHIR ids;
an import matches rows by their natural keys (record number, date, instrument ...) instead, so a Bundle can be
loaded into another clinic and loading it twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from onaboard.clinical import MAX_SESSION_UNITS, DiaryDay, PlanError, SafetyInput, vials_for

AFTER_TODAY = "{what} on {day} is after today ({today}): only what has happened is imported"
DOSE_ABOVE_LIMIT = "a session of {units} U is above {limit} U, the most a session holds (PREEMPT with follow-the-pain)"
SITES_TOTAL = "the sites add up to {sites} U, not the total of {total} U"
RECORDED_NEEDS = "a recorded session needs {what}"
VIALS_DO_NOT_MATCH = "{given} {what} do not match {total} U from {vial_units} U vials: that is {expected}"

SAFETY_QUESTIONS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(SafetyInput) if f.name not in {"birth_date", "other_toxin_treatments"}
)
"""The yes/no questions of the safety screen (the engine's ``SafetyInput``), as a record's ``safety`` names them."""


def recorded_session_problems(
    *,
    day: dt.date | None,
    total_units: int | None,
    site_units: Sequence[int] | None,
    lot: str,
    expiry: dt.date | None,
    today: dt.date,
    vial_units: int = 200,
    vials_used: int | None = None,
    discarded_units: int | None = None,
) -> list[tuple[str, str]]:
    """What keeps a recorded session read from a file (the sessions CSV or a Bundle) from being stored, as
    ``(what, message)`` with ``what`` one of ``lot``, ``expiry``, ``total_units``, ``sites``, ``date``: a missing
    lot, expiry, total or sites (recording asks for each, and a session without them could not be written to the
    sessions CSV and read back), a day after ``today`` (a session to come is a booking), a total above
    ``MAX_SESSION_UNITS`` (recording allows no more), sites that do not add up to the total. ``site_units`` None:
    the sites could not be read (a problem the reader reports), so they are neither required nor summed. A vial
    size the label does not have (``vial_units``), or vials used or units discarded other than the engine's for the
    total (``vials_for``; the procedure note and its claim lines come from them), is refused too. Each reader places
    the message at its own column or Bundle element."""
    problems = [
        (what, RECORDED_NEEDS.format(what=needed))
        for what, value, needed in (
            ("lot", lot.strip(), "a lot"),
            ("expiry", expiry, "an expiry date"),
            ("total_units", total_units is not None, "the total units"),
            ("sites", site_units is None or bool(site_units), "its sites"),
        )
        if not value
    ]
    if day is not None and day > today:
        problems.append(("date", AFTER_TODAY.format(what="a recorded session", day=day, today=today)))
    if total_units is not None and total_units > MAX_SESSION_UNITS:
        problems.append(("total_units", DOSE_ABOVE_LIMIT.format(units=total_units, limit=MAX_SESSION_UNITS)))
    if site_units and total_units is not None and sum(site_units) != total_units:
        problems.append(("sites", SITES_TOTAL.format(sites=sum(site_units), total=total_units)))
    problems.extend(_vial_problems(total_units, vial_units, vials_used, discarded_units))
    return problems


def _vial_problems(
    total_units: int | None, vial_units: int, vials_used: int | None, discarded_units: int | None
) -> list[tuple[str, str]]:
    try:
        vials, discarded = vials_for(total_units or 0, vial_units)
    except PlanError as refused:
        return [("vial_units", message) for message in refused.problems]
    if total_units is None:
        return []
    found = []
    for what, given, expected, words in (
        ("vials_used", vials_used, vials, "vials used"),
        ("discarded_units", discarded_units, discarded, "units discarded"),
    ):
        if given is not None and given != expected:
            message = VIALS_DO_NOT_MATCH.format(
                given=given, what=words, total=total_units, vial_units=vial_units, expected=expected
            )
            found.append((what, message))
    return found


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One injection: muscle, side and units, and where it was drawn on the map."""

    muscle: str
    side: str
    units: int
    follow_the_pain: bool = False
    view: str = "front"
    x: int | None = None
    y: int | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A treatment session: ``recorded`` (with product and sites), ``booked`` or ``cancelled``."""

    key: str
    date: dt.date
    status: str
    vial_units: int = 200
    vials_used: int | None = None
    total_units: int | None = None
    discarded_units: int | None = None
    lot: str = ""
    expiry: dt.date | None = None
    override_reason: str = ""
    overridden_checks: str = ""
    check_reasons: str = ""
    complications: str = ""
    sites: tuple[SiteRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionnaireRecord:
    """A HIT-6 (six answers in item order) or MIDAS (q1..q5, a, b) response with the engine's total and band."""

    key: str
    instrument: str
    date: dt.date
    answers: tuple[str, ...] | tuple[tuple[str, int | None], ...]
    total: int
    category: str


@dataclass(frozen=True, slots=True)
class SideEffectRecord:
    key: str
    kind: str
    onset: dt.date
    severity: str
    description: str = ""
    clinician_grade: str = ""
    related_to_treatment: bool | None = None
    session_date: dt.date | None = None
    """The recorded session it is attributed to, by date (one recorded session per patient per day)."""


@dataclass(frozen=True, slots=True)
class PreventiveRecord:
    key: str
    drug: str
    drug_class: str
    start: dt.date
    stop: dt.date | None
    stop_reason: str
    dose: str = ""


@dataclass(frozen=True, slots=True)
class OtherToxinRecord:
    key: str
    date: dt.date
    product: str
    units: int
    indication: str = ""


@dataclass(frozen=True, slots=True)
class ConditionRecord:
    """The engine's chronic-migraine verdict (ICHD-3 1.3) on ``as_of``, with its reasons. Export only: an import
    recomputes it from the diary."""

    as_of: dt.date
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatientRecord:
    key: str
    record_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str
    safety: tuple[tuple[str, bool | None], ...] = ()
    """Each safety-screen question and its answer (None: not asked), in ``SAFETY_FLAGS`` order."""
    other_toxin_asked: bool = False
    diary: tuple[DiaryDay, ...] = ()
    sessions: tuple[SessionRecord, ...] = ()
    questionnaires: tuple[QuestionnaireRecord, ...] = ()
    side_effects: tuple[SideEffectRecord, ...] = ()
    preventives: tuple[PreventiveRecord, ...] = ()
    other_toxins: tuple[OtherToxinRecord, ...] = ()
    condition: ConditionRecord | None = field(default=None, compare=False)
