"""The clinic's own cohort: its database rows as the cohort tables, and the cohort report over them.

The registry report (``onaboard.cohort.report``) reads five tables (``onaboard.cohort.tables``). Here the clinic's
rows become those tables, as Arrow, column for column, and the same rules run on them in an in-memory DuckDB:
nothing of the report is computed a second time. Which patients: ``access.patients_visible_to`` (the caller's
clinic). How the clinic's records fill the registry's columns:

- ``patients``: ``observed_from`` is the first diary day or session (else the day the record was made),
  ``observed_until`` is today, so a diary that ended more than a period ago reads as a drop-out;
  ``prior_preventives_failed`` counts the preventive trials stopped as ineffective or not tolerated;
- ``diary``: every stored day, the acute classes one boolean column each;
- ``sessions``: the recorded sessions (not booked or cancelled ones), numbered from 1, with their units, and their
  sites and follow-the-pain sites as the engine's plan of the recorded sites counts them (``site_count``,
  ``follow_the_pain_count`` of the plan ``injections.selectors.session_plan`` makes);
- ``prom``: visit k is day 0 + 12 weeks x (k - 1); its HIT-6 and MIDAS are the latest answered in the 28 days up
  to that day (``onaboard.clinical.prom_visit_answer``), so visit 1 is the baseline before the first injection, the
  one the patient's pages and letters compare with (``prom_baseline``), and visit 3 week 24; a visit with one
  instrument leaves the other empty;
- ``adverse_events``: each side effect, attributed to its session (else the last recorded session before its
  onset; none before the first session counts, nor one waiting for a booking given and not recorded yet:
  ``injections.selectors.side_effect_booking``, the report's rule), under the label table's code where its kind is
  one row of the label's table, else under a code of its own (``LABEL_EVENTS``, ``LABEL_ROW_KINDS``,
  ``RECORDED_EVENTS``);
  ``led_to_discontinuation`` is false, since the app records no decision to stop treatment for one.

The report is made as of today (``cohort_report_of``'s ``as_of``): a period still running judges nothing, as on
the patient's pages (``treatment_outcomes(..., as_of=today)``). The label's rows the app has no kind for are
reported as not recorded, and the rows one kind stands for together as counted together (``RECORDED_EVENTS``).
"""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import (
    RETREATMENT_INTERVAL_DAYS,
    AcuteClass,
    InjectionPlan,
    prom_visit_answer,
)
from onaboard.clinical.diary import COLUMNS as DIARY_COLUMNS
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_record, audit_records
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import (
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    SideEffect,
    SideEffectKind,
)
from onaboard.web.injections.selectors import SiteEntry, engine_sites
from onaboard.web.outcomes.models import Decision, Instrument, QuestionnaireResponse, TreatmentDecision
from onaboard.web.outcomes.selectors import decisions_by_latest
from onaboard.web.outcomes.services import MIDAS_KEYS
from onaboard.web.patients.access import patients_visible_to
from onaboard.web.patients.models import Patient, PreventiveTrial, StopReason

if TYPE_CHECKING:
    import pyarrow as pa

    from onaboard.cohort.report import CohortReport

__all__ = [
    "ANALYTICS_ROLES",
    "EXPORT_ROLES",
    "FAILED_PREVENTIVE",
    "LABEL_EVENTS",
    "LABEL_ROW_KINDS",
    "NOT_FOR_EXPORT",
    "NOT_FOR_ROLE",
    "OWN_CODES",
    "RECORDED_EVENTS",
    "clinic_cohort_export",
    "clinic_cohort_report",
    "clinic_cohort_tables",
    "may_export_clinic_cohort",
    "may_see_clinic_cohort",
]

ANALYTICS_ROLES = frozenset({Role.CLINICIAN, Role.NURSE})
"""Who sees the clinic's cohort report: its clinicians and nurses, who see clinical records. Not its administrators,
who see demographics and billing only: in a small clinic, or a small cell of a large one (one patient in period 5,
one ptosis of two), the report's figures are named patients' clinical values to someone who knows from the billing
view who was treated when. Billing staff see what a claim needs, not outcomes; patients and trainees see no
cohort."""

NOT_FOR_ROLE = _("The clinic's cohort report is for its clinicians and nurses.")

EXPORT_ROLES = ANALYTICS_ROLES
"""Who may take the clinic's patients out as rows (``clinic_cohort_export``, ``onaboard cohort export``): its
clinicians and nurses, who see clinical records (those who see the report)."""

NOT_FOR_EXPORT = _("Only the clinic's clinicians and nurses may export its patients' records for a registry.")

FAILED_PREVENTIVE = frozenset({StopReason.INEFFECTIVE, StopReason.NOT_TOLERATED})
"""A preventive trial that counts as failed (the registry's ``prior_preventives_failed``)."""

LABEL_EVENTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        SideEffectKind.NECK_PAIN: ("neck_pain",),
        SideEffectKind.NECK_WEAKNESS: ("muscular_weakness", "musculoskeletal_stiffness"),
        SideEffectKind.EYELID_PTOSIS: ("eyelid_ptosis",),
        SideEffectKind.BROW_PTOSIS: ("facial_paresis",),
        SideEffectKind.INJECTION_SITE_PAIN: ("injection_site_pain",),
        SideEffectKind.HEADACHE_FLARE: ("headache", "migraine"),
        SideEffectKind.MYALGIA: ("myalgia",),
        SideEffectKind.MUSCLE_SPASM: ("muscle_spasms",),
    }
)
"""The side effects the app records and the rows of the label's adverse-reaction table (calibration.toml,
clinical-facts.md 2.1) each stands for. Only the kinds of ``LABEL_ROW_KINDS`` are their row and nothing else, and
only their rates are compared with the label's. The others are recorded only, under a code of their own (the
report counts them in their rows and compares none with the label): "neck weakness or stiffness" is the label's
muscular weakness and its musculoskeletal stiffness, "headache or migraine flare" its headache and its migraine
(one kind cannot be split into the two rows, so the report counts it for both); "drooping brow or facial weakness"
holds more than the label's facial paresis (a drooping brow), and "pain or bruising where injected" more than its
injection-site pain (bruising), so a patient with a bruise is counted in that row but the rate is not set beside
the label's figure. The label's musculoskeletal pain, bronchitis and hypertension have no kind here: the report says
they are not recorded instead of showing 0 %. The other kinds (allergic reaction, swallowing, breathing, double
vision, general weakness, voice, speech, bladder control, something else) keep their own code: they are counted in
the table but are not rows of the label's table."""

LABEL_ROW_KINDS = frozenset(
    {SideEffectKind.NECK_PAIN, SideEffectKind.EYELID_PTOSIS, SideEffectKind.MYALGIA, SideEffectKind.MUSCLE_SPASM}
)
"""The kinds that are one row of the label's table and nothing more: written under that row's code, so the report
compares their rates with the label's (``cohort_report_of``'s rule: a row recorded under its own code alone)."""

OWN_CODES: Mapping[str, str] = MappingProxyType(
    {SideEffectKind.INJECTION_SITE_PAIN: f"{SideEffectKind.INJECTION_SITE_PAIN}_or_bruising"}
)
"""A code of its own for a kind whose stored value is a label row's code but which holds more than that row ("pain
or bruising where injected" is stored as ``injection_site_pain``): under the row's code the report would take it
for the row itself and compare it with the label."""


def _event_code(kind: str) -> str:
    """The adverse-events table's code for a kind: its label row's where it is that row (``LABEL_ROW_KINDS``), else
    its own (``OWN_CODES``, else its stored value)."""
    if kind in LABEL_ROW_KINDS:
        (row,) = LABEL_EVENTS[kind]
        return row
    return OWN_CODES.get(kind, str(kind))


RECORDED_EVENTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {_event_code(kind): rows for kind, rows in LABEL_EVENTS.items()}
)
"""The adverse-events table's codes and the label rows each stands for (``cohort_report_of``'s
``recorded_events``)."""

IBIS_DUCKDB_DEPRECATION = r"fetch_arrow_table\(\) is deprecated"
"""What Ibis 12 makes DuckDB 2 say on every schema lookup: the pinned pair works, so the page does not pass it on
(the test suite turns warnings into errors)."""

_MIDAS_COLUMNS = tuple(f"midas_{key}" for key in MIDAS_KEYS)


def may_see_clinic_cohort(user: Any) -> bool:
    """Whether the user may see their clinic's cohort report (``ANALYTICS_ROLES``, attached to a clinic)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.role in ANALYTICS_ROLES
        and user.clinic_id is not None
    )


def may_export_clinic_cohort(user: Any) -> bool:
    """Whether the user may export their clinic's patients as the registry's tables (``EXPORT_ROLES``, attached to
    a clinic); ``clinic_cohort_export`` enforces it."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.role in EXPORT_ROLES
        and user.clinic_id is not None
    )


def _require(user: Any) -> None:
    if not may_see_clinic_cohort(user):
        audit_record(user=user, action=Action.DENIED, object_type="clinic_cohort", detail="cohort report")
        raise PermissionDenied(NOT_FOR_ROLE)


def _visits(day0: dt.date, responses: list[tuple[dt.date, Any]], last_visit: int) -> dict[int, tuple[dt.date, Any]]:
    """Visit k -> the (date, answers) that stands for day 0 + 12 weeks x (k - 1): the engine's rule
    (``onaboard.clinical.prom_visit_answer``, the latest answered in the 28 days up to it), so visit 1 is the
    baseline the patient's pages and letters compare with (``onaboard.clinical.prom_baseline``)."""
    on_day = dict(responses)  # one answer per instrument and day (the model's one_questionnaire_per_day)
    chosen: dict[int, tuple[dt.date, Any]] = {}
    for visit in range(1, last_visit + 1):
        visit_day = day0 + dt.timedelta(days=RETREATMENT_INTERVAL_DAYS * (visit - 1))
        found = prom_visit_answer(on_day, visit_day)
        if found is not None:
            chosen[visit] = (found, on_day[found])
    return chosen


def _prom_rows(keys: Mapping[int, str], first_session: Mapping[int, dt.date], today: dt.date) -> dict[str, list[Any]]:
    from onaboard.cohort.tables import HIT6_ITEM_COLUMNS

    answered: dict[tuple[int, str], list[tuple[dt.date, Any]]] = defaultdict(list)
    responses = QuestionnaireResponse.objects.filter(patient_id__in=first_session).order_by("date")
    for patient_pk, instrument, day, answers in responses.values_list("patient_id", "instrument", "date", "answers"):
        answered[patient_pk, instrument].append((day, answers))
    columns: dict[str, list[Any]] = {
        name: [] for name in ("patient_id", "visit", "assessed_on", *HIT6_ITEM_COLUMNS, *_MIDAS_COLUMNS)
    }
    for patient_pk, day0 in first_session.items():
        last_visit = 1 + max(0, (today - day0).days) // RETREATMENT_INTERVAL_DAYS
        hit6 = _visits(day0, answered[patient_pk, Instrument.HIT6], last_visit)
        midas = _visits(day0, answered[patient_pk, Instrument.MIDAS], last_visit)
        for visit in sorted(hit6.keys() | midas.keys()):
            dates = [found[0] for found in (hit6.get(visit), midas.get(visit)) if found is not None]
            columns["patient_id"].append(keys[patient_pk])
            columns["visit"].append(visit)
            columns["assessed_on"].append(max(dates))
            items = hit6[visit][1] if visit in hit6 else [None] * len(HIT6_ITEM_COLUMNS)
            for column, answer in zip(HIT6_ITEM_COLUMNS, items, strict=True):
                columns[column].append(answer)
            scores = midas[visit][1] if visit in midas else {}
            for column, key in zip(_MIDAS_COLUMNS, MIDAS_KEYS, strict=True):
                columns[column].append(scores.get(key))
    return columns


Columns = dict[str, list[Any]]
"""A table being built: column name -> values."""


def _people(chosen: QuerySet[Patient], today: dt.date) -> tuple[dict[int, str], Columns, dict[int, dt.date]]:
    """Public ids by key, the patients' columns (``observed_from`` still missing) and each record's creation day."""
    patients = chosen.annotate(
        failed=Count("preventive_trials", filter=Q(preventive_trials__stop_reason__in=FAILED_PREVENTIVE))
    )
    keys: dict[int, str] = {}
    created_on: dict[int, dt.date] = {}
    people: Columns = defaultdict(list)
    rows = patients.order_by("pk").values_list("pk", "external_id", "sex", "birth_date", "created", "failed")
    for pk, external_id, sex, birth_date, created, failed in rows:
        keys[pk] = str(external_id)
        created_on[pk] = timezone.localtime(created).date()  # the clinic's day (ONABOARD_TIME_ZONE)
        people["patient_id"].append(keys[pk])
        people["sex"].append(sex)
        people["birth_date"].append(birth_date)
        people["observed_until"].append(today)
        people["prior_preventives_failed"].append(failed)
    classes: dict[int, set[str]] = defaultdict(set)
    trials = PreventiveTrial.objects.filter(patient_id__in=keys, stop_reason__in=FAILED_PREVENTIVE)
    for patient_pk, drug_class in trials.values_list("patient_id", "drug_class"):
        classes[patient_pk].add(drug_class)
    people["prior_preventive_classes"] = [";".join(sorted(classes[pk])) for pk in keys]
    return keys, people, created_on


_DIARY_FIELDS = tuple(column for column in DIARY_COLUMNS if column != "notes")
"""The diary contract's columns (the model's fields carry the same names), free-text notes left out."""


def _diary(keys: Mapping[int, str]) -> tuple[Columns, dict[int, dt.date]]:
    """The diary table's columns and each patient's first diary day.

    Column by column from the rows' tuples: a clinic's diaries are hundreds of thousands of rows, and a dictionary
    and a loop over the acute classes per row took most of the page's time (8 of 12 s for 2,000 patients with a
    year each). Each distinct ``acute_medication`` text is split into its class columns once."""
    from onaboard.cohort.tables import ACUTE_COLUMNS

    entries = DiaryEntry.objects.filter(patient_id__in=keys).order_by("patient_id", "date")
    rows = list(entries.values_list(*_DIARY_FIELDS))
    position = {name: index for index, name in enumerate(_DIARY_FIELDS)}
    patients, days = position["patient_id"], position["date"]
    converted = {
        "patient_id": lambda value: keys[value],
        "headache_hours": float,
        "intensity": lambda value: value or None,
    }
    diary: Columns = {}
    for name, index in position.items():  # the contract's order, as the rows were appended before
        if name == "acute_medication":
            continue
        convert = converted.get(name)
        diary[name] = [row[index] for row in rows] if convert is None else [convert(row[index]) for row in rows]
    split: dict[str, tuple[bool, ...]] = {}
    classes = tuple(AcuteClass)
    flags = []
    for row in rows:
        text = row[position["acute_medication"]]
        if text not in split:
            taken = set(text.split(";"))
            split[text] = tuple(cls.value in taken for cls in classes)
        flags.append(split[text])
    for place, cls in enumerate(classes):
        diary[ACUTE_COLUMNS[cls]] = [flag[place] for flag in flags]
    first_diary: dict[int, dt.date] = {}
    for row in rows:
        first_diary.setdefault(row[patients], row[days])
    return diary, first_diary


def _plans(keys: Mapping[int, str], vial_units: Mapping[int, int]) -> dict[int, InjectionPlan]:
    """The engine's plan of the sites of each recorded session of these patients (``vial_units`` by session), as
    ``injections.selectors.session_plan`` makes it (the sites through ``engine_sites``, the session's vial), for the
    sessions with sites (one recorded since ``vial_units`` was read is left out). The rows are read as tuples, not
    model instances: a clinic's sessions hold hundreds of thousands of sites."""
    entries: dict[int, list[SiteEntry]] = defaultdict(list)
    rows = (
        InjectionSiteRecord.objects.filter(session__patient_id__in=keys, session__status=SessionStatus.RECORDED)
        .order_by("session_id", "id")
        .values_list("session_id", "muscle", "side", "units", "follow_the_pain")
    )
    for session_pk, muscle, side, units, follow_the_pain in rows:
        entries[session_pk].append(SiteEntry(muscle, side, units, follow_the_pain))
    return {pk: InjectionPlan(engine_sites(sites), vial_units[pk]) for pk, sites in entries.items() if pk in vial_units}


def _sessions(keys: Mapping[int, str]) -> tuple[Columns, dict[int, int], dict[int, list[tuple[dt.date, int]]]]:
    """The sessions table's columns, each recorded session's number, and each patient's (date, number) in order.

    The sites and follow-the-pain sites are the engine's count of the recorded sites (``_plans``): a session that
    left fixed sites out and added follow-the-pain ones may have 31 sites, so the count alone cannot tell. A session
    recorded without its sites has 0 sites and its follow-the-pain sites unknown (null)."""
    sessions: Columns = defaultdict(list)
    session_number: dict[int, int] = {}
    session_dates: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    recorded = list(
        InjectionSession.objects.filter(patient_id__in=keys, status=SessionStatus.RECORDED)
        .order_by("patient_id", "date")
        .values_list("pk", "patient_id", "date", "total_units", "vial_units")
    )
    plans = _plans(keys, {row[0]: row[4] for row in recorded})
    for pk, patient_pk, day, units, _vial in recorded:
        plan = plans.get(pk)
        number = len(session_dates[patient_pk]) + 1
        session_number[pk] = number
        session_dates[patient_pk].append((day, number))
        sessions["patient_id"].append(keys[patient_pk])
        sessions["session_number"].append(number)
        sessions["session_date"].append(day)
        sessions["dose_units"].append(units or 0)
        sessions["sites"].append(plan.site_count if plan else 0)
        sessions["follow_the_pain_sites"].append(plan.follow_the_pain_count if plan else None)
    return sessions, session_number, session_dates


def _events(
    keys: Mapping[int, str],
    session_number: Mapping[int, int],
    session_dates: Mapping[int, list[tuple[dt.date, int]]],
) -> Columns:
    """The adverse-events table's columns: each side effect under its label code, on its session (module docstring).

    A side effect linked to no session is filed under the last recorded session on or before its onset, unless it
    waits for the patient's open booking dated on or before its onset and after that session (given, not recorded
    yet: ``injections.selectors.side_effect_booking``): that session is not in the sessions table yet, and the one
    before it is not the one it follows (a report after an early third session would count in the label's two
    cycles). It counts once the session is recorded and the report linked to it."""
    events: Columns = defaultdict(list)
    booked = dict(
        InjectionSession.objects.filter(patient_id__in=keys, status=SessionStatus.BOOKED).values_list(
            "patient_id", "date"
        )
    )  # one open booking a patient (``one_open_booking_per_patient``)
    reported = SideEffect.objects.filter(patient_id__in=keys).order_by("patient_id", "onset", "pk")
    for patient_pk, session_pk, kind, onset in reported.values_list("patient_id", "session_id", "kind", "onset"):
        number = session_number.get(session_pk)
        if number is None:
            before = session_dates.get(patient_pk, [])
            at = bisect_right([day for day, _number in before], onset)
            booking = booked.get(patient_pk)
            waiting = booking is not None and booking <= onset and (not at or booking > before[at - 1][0])
            number = before[at - 1][1] if at and not waiting else None
        if number is None:
            continue
        events["patient_id"].append(keys[patient_pk])
        events["session_number"].append(number)
        events["onset_date"].append(onset)
        events["event"].append(_event_code(kind))
        events["led_to_discontinuation"].append(False)
    return events


def _arrow(name: str, columns: Mapping[str, list[Any]]) -> pa.Table:
    import pyarrow as pa

    from onaboard.cohort.tables import DIARY_WRITTEN_SCHEMA, SCHEMAS, with_answers

    fields = DIARY_WRITTEN_SCHEMA if name == "diary" else SCHEMAS[name]
    schema = pa.schema([field.with_nullable(True) for field in fields])
    table = pa.table({field.name: pa.array(columns.get(field.name, []), field.type) for field in schema})
    return with_answers(table) if name == "diary" else table


def clinic_cohort_tables(*, user: Any, today: dt.date) -> dict[str, pa.Table]:
    """The caller's clinic as the registry's five tables (module docstring), as Arrow tables with their schemas'
    columns. PermissionDenied for anyone outside ``ANALYTICS_ROLES``. The caller audits the read."""
    _require(user)
    return _cohort_tables(patients_visible_to(user), today)


def _cohort_tables(chosen: QuerySet[Patient], today: dt.date) -> dict[str, pa.Table]:
    """These patients as the registry's five tables (``clinic_cohort_tables``), their public ids as ``patient_id``."""
    keys, people, created_on = _people(chosen, today)
    diary, first_diary = _diary(keys)
    sessions, session_number, session_dates = _sessions(keys)
    first_session = {pk: dates[0][0] for pk, dates in session_dates.items()}
    for pk in keys:
        seen = [day for day in (first_diary.get(pk), first_session.get(pk)) if day is not None]
        people["observed_from"].append(min(seen) if seen else created_on[pk])
    tables = {
        "patients": _arrow("patients", people),
        "diary": _arrow("diary", diary),
        "sessions": _arrow("sessions", sessions),
        "prom": _arrow("prom", _prom_rows(keys, first_session, today)),
        "adverse_events": _arrow("adverse_events", _events(keys, session_number, session_dates)),
    }
    later = [keys[pk] for pk, start in zip(keys, people["observed_from"], strict=True) if start > today]
    return _without(tables, later) if later else tables


def _without(tables: Mapping[str, pa.Table], patient_ids: list[str]) -> dict[str, pa.Table]:
    """``tables`` without the rows of ``patient_ids``: patients first seen after the day the tables are made for (a
    past day's report or export), who were not in the cohort on it (``report.cohort_on_day`` leaves them out too)
    and whose observation would otherwise end before it began, which the cohort's checks refuse."""
    import pyarrow as pa
    import pyarrow.compute as pc

    leaving = pa.array(patient_ids, pa.string())
    return {
        name: table.filter(pc.invert(pc.is_in(table["patient_id"], value_set=leaving)))
        for name, table in tables.items()
    }


def _on_day(tables: Mapping[str, pa.Table], as_of: dt.date) -> dict[str, pa.Table]:
    """The tables as they stood at the end of ``as_of``: ``report.cohort_on_day``'s cut (rows dated after it left out,
    observation ending on it), run in an in-memory DuckDB so the rule is written once, back as Arrow in the schemas'
    columns."""
    import pyarrow as pa

    from onaboard.cohort.backends import Engine, arrow_cohort, check_arrow_cohort, connect
    from onaboard.cohort.report import cohort_on_day

    connection = connect(Engine.DUCKDB)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=IBIS_DUCKDB_DEPRECATION, category=DeprecationWarning)
            # the values are judged as cut: before it, a session after ``as_of`` lay after observation's end
            cut = cohort_on_day(arrow_cohort(connection, tables, checked=False), as_of)
            result = {}
            for name, expr in cut.items():
                table = expr.to_pyarrow()
                schema = tables[name].schema
                result[name] = pa.table({field.name: table[field.name].cast(field.type) for field in schema}, schema)
    finally:
        connection.disconnect()
    check_arrow_cohort(result)
    return result


def clinic_cohort_export(*, user: Any, patients: QuerySet[Patient], today: dt.date, how: str) -> dict[str, pa.Table]:
    """These patients (one clinic's) as the registry's five tables to hand to a registry (``onaboard cohort
    export``): the page's tables (``clinic_cohort_tables``) as they stood at the end of ``today`` (``_on_day``),
    every public id replaced by a registry id (``onaboard.cohort.export.pseudonymised``). Each exported patient's
    export is audited, one EXPORT event each naming their registry id, so the clinic can find the record behind a
    registry's question and the patient's trail shows where their data went (``how``). The caller audits and
    writes in one transaction (a failed write records no export).

    Who may export is decided here, for every path: ``user`` must be one of the clinic's clinicians or nurses
    (``may_export_clinic_cohort``) and ``patients`` of their clinic, else PermissionDenied (``NOT_FOR_EXPORT``),
    audited as a denied export. ``user`` None is the operator at the server's command line (``onaboard cohort
    export`` without ``--user``), who answers for the installation; the events then name no user."""
    from onaboard.cohort.export import pseudonymised, registry_ids

    if user is not None and (not may_export_clinic_cohort(user) or patients.exclude(clinic_id=user.clinic_id).exists()):
        audit_record(user=user, action=Action.DENIED, object_type="cohort_export", detail=how)
        raise PermissionDenied(NOT_FOR_EXPORT)
    tables = _on_day(_cohort_tables(patients, today), today)
    public = tables["patients"]["patient_id"].to_pylist()
    ids = registry_ids(public)
    audit_records(
        user=user,
        entries=(
            AuditEntry(
                action=Action.EXPORT,
                object_type="cohort_export",
                object_id=key,
                patient_id=uuid.UUID(key),
                detail=f"{how}: registry id {ids[key]}, as of {today.isoformat()}",
            )
            for key in public
        ),
    )
    return pseudonymised(tables, ids)


@dataclass(frozen=True, slots=True)
class ClinicDecisions:
    """The clinicians' latest treatment decisions over the clinic's patients on a day. The cohort report's figures
    do not read them (its tables are the registry's, which have no column for a clinician's decision, and its
    stopping reasons are the engine's): the clinic's page shows them beside its stopping table."""

    stopped: int
    """Patients whose latest decision is to stop (the pathway's "treatment stopped")."""
    continued_against_rule: int
    """Patients whose latest decision is to continue, made when NICE TA260's stopping rule held (``saw_stop``)."""


def clinic_decisions(*, user: Any, today: dt.date) -> ClinicDecisions:
    """How many of the caller's clinic's patients (``patients_visible_to``) a clinician's latest decision on or
    before ``today`` stopped, and how many it continued against NICE TA260's stop (``LatestDecision.saw_stop``'s
    rule). One query. PermissionDenied outside ``ANALYTICS_ROLES``; the cohort page's read audits it."""
    _require(user)
    latest = decisions_by_latest(today, patient=OuterRef("pk"))
    rows = (
        patients_visible_to(user)
        .annotate(
            decision=Subquery(latest.values("decision")[:1]),
            verdict=Subquery(latest.values("nice_verdict")[:1]),
            reverted=Subquery(latest.values("nice_reverted_to_episodic")[:1]),
        )
        .filter(decision__isnull=False)
        .values_list("decision", "verdict", "reverted")
    )
    counted = Counter(
        "stopped"
        if decision == Decision.STOP
        else "against"
        if TreatmentDecision.stop_was_suggested(verdict, reverted)
        else "continued"
        for decision, verdict, reverted in rows
    )
    return ClinicDecisions(counted["stopped"], counted["against"])


def clinic_cohort_report(*, user: Any, today: dt.date) -> CohortReport:
    """The cohort report (``onaboard.cohort.report``) over the caller's clinic, its rows read as the registry's
    tables and computed by the same rules in an in-memory DuckDB, as of ``today`` (the period still running judges
    nothing, as on the patient's pages) and with the label's rows the app records (``RECORDED_EVENTS``); the read is
    audited (aggregate: no patient id)."""
    from onaboard.cohort.backends import Engine, arrow_cohort, connect
    from onaboard.cohort.report import cohort_report_of

    # cut at the end of ``today`` and checked as cut (``_on_day``): a past day's report holds rows dated after it
    # until then, which lie after its observation's end
    tables = _on_day(clinic_cohort_tables(user=user, today=today), today)
    connection = connect(Engine.DUCKDB)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=IBIS_DUCKDB_DEPRECATION, category=DeprecationWarning)
            cohort = arrow_cohort(connection, tables, checked=False)
            report = cohort_report_of(
                cohort,
                source=user.clinic.name,
                engine=Engine.DUCKDB,
                as_of=today,
                recorded_events=RECORDED_EVENTS,
                discontinuation_recorded=False,
            )
    finally:
        connection.disconnect()
    audit_record(
        user=user,
        action=Action.READ,
        object_type="clinic_cohort",
        object_id=user.clinic.external_id,
        detail=f"cohort report on {today.isoformat()}: {report.patients} patients, {report.treated} treated",
    )
    return report
