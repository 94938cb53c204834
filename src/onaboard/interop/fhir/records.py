"""Plain values for one patient's record as FHIR carries it: what the exporter reads and the importer returns.

Framework-free: the web app turns its rows into these and back. Diary days are the engine's ``DiaryDay``; the
``patient_id`` of every day is the patient's record number. ``key`` fields are the public UUIDs used as FHIR ids;
an import matches rows by their natural keys (record number, date, instrument ...) instead, so a Bundle can be
loaded into another clinic and loading it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from onaboard.clinical import DiaryDay


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
