"""Coverage policies as data, and their evaluation against what onaboard holds for a patient.

A coverage policy (a payer's medical policy, a national guideline, the BOTOX label alone) is a TOML file whose every
threshold lives in the file, never in this code: ``load_policy`` validates the text against the schema written here
(docs/policies.md describes each field) and refuses a bad file naming each field path and why. ``evaluate_coverage``
then judges one patient at one stage (initial or continuation) and returns, per criterion, ``met``, ``not_met`` or
``missing_information`` with the evidence it saw, the policy's rule and its source, and an overall status. It is
decision support: the evaluation says what the data show against the policy's text, and the clinician and the payer
decide. ``stage_due`` says which stage a request is at: continuation once the policy's ``after_cycles`` sessions are
given, initial before.

The engine's own rules are not repeated here: the ICHD-3 1.3 and label verdicts, the medication-overuse verdict and
the 28-day period counts come from ``Assessment`` (``assess``), the change against baseline from ``Outcomes``
(``treatment_outcomes``), percentages and exact-integer responder tests from ``percent_change`` and
``reduction_at_least``, completed years from ``age_in_years``. A policy's "month" is read as the engine's 28-day
period (PREEMPT's month; docs/glossary.md), and one treatment cycle as three periods (84 days, the label's 12 weeks).
"""

from __future__ import annotations

import enum
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from onaboard.clinical.assessment import Assessment
from onaboard.clinical.cycles import RETREATMENT_INTERVAL_DAYS
from onaboard.clinical.errors import RefusedError
from onaboard.clinical.outcomes import Outcomes, PeriodChange, percent_change, reduction_at_least
from onaboard.clinical.periods import MIN_RECORDED_DAYS, PERIOD_DAYS, PeriodSummary
from onaboard.clinical.safety import age_in_years
from onaboard.clinical.verdicts import ChronicMigraine, LabelCriteria, MedicationOveruse, Verdict, period_overuse

__all__ = [
    "CYCLE_PERIODS",
    "ICD10_INTRACTABLE",
    "AgeRule",
    "CgrpMabRule",
    "ContinuationCriteria",
    "CoverageEvaluation",
    "CoverageEvidence",
    "CoveragePolicy",
    "CoverageStatus",
    "CriterionOutcome",
    "CriterionResult",
    "Diagnosis",
    "DiagnosisRule",
    "EvidenceError",
    "FrequencyRule",
    "InitialCriteria",
    "OveruseRule",
    "PolicyError",
    "PolicyKind",
    "PreventiveClass",
    "PreventiveRule",
    "PreventiveTrial",
    "PriorAuthorisationRule",
    "ResponseRule",
    "SessionRule",
    "SiteOfService",
    "Source",
    "SourceStatus",
    "Stage",
    "StopReason",
    "StoppingRule",
    "approval_length",
    "evaluate_coverage",
    "load_policy",
    "medicine_key",
    "stage_due",
]

CYCLE_PERIODS = RETREATMENT_INTERVAL_DAYS // PERIOD_DAYS
"""Periods in one treatment cycle: 84 days (BOTOX label, every 12 weeks) / 28 days = 3; after two cycles the
response is judged on period 6, the engine's week 24."""


# --- Vocabulary -------------------------------------------------------------------------------------------------


class Stage(enum.StrEnum):
    """Which request is judged: the first approval, or a continuation after treatment has started."""

    INITIAL = "initial"
    CONTINUATION = "continuation"


class CriterionOutcome(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING_INFORMATION = "missing_information"


class CoverageStatus(enum.StrEnum):
    """The overall reading: any criterion not met makes it ``not_approvable``; otherwise any criterion lacking
    information makes it ``information_missing``; otherwise ``approvable``."""

    APPROVABLE = "approvable"
    NOT_APPROVABLE = "not_approvable"
    INFORMATION_MISSING = "information_missing"

    @property
    def label(self) -> str:
        """The status as people read it: ``not approvable``."""
        return self.value.replace("_", " ")


class PolicyKind(enum.StrEnum):
    LABEL = "label"
    GUIDELINE = "guideline"
    CONSENSUS = "consensus"
    MEDICARE = "medicare"
    COMMERCIAL = "commercial"


class JudgedOn(enum.StrEnum):
    """Which period a continuation's response is judged on: the latest complete one from the end of
    ``after_cycles`` cycles on, or the period at that end itself (NICE TA260's "after 2 treatment cycles")."""

    LATEST = "latest"
    AFTER_CYCLES = "after_cycles"


class SourceStatus(enum.StrEnum):
    """How the policy file's author read a source: in the issuer's own text, in a third party's copy or summary,
    or not at all (cited so a reader can find it)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    NOT_RETRIEVED = "not_retrieved"


class Diagnosis(enum.StrEnum):
    """The diagnoses a policy may require: the engine's verdicts ICHD-3 1.3 chronic migraine and the BOTOX label's
    indication (adult chronic migraine with >= 15 days a month of headache lasting 4 hours or more), and
    intractable migraine, read from the ICD-10-CM code on the request (``ICD10_INTRACTABLE``)."""

    CHRONIC_MIGRAINE = "chronic_migraine"
    LABEL_INDICATION = "label_indication"
    INTRACTABLE = "intractable"


ICD10_INTRACTABLE: Mapping[str, bool] = MappingProxyType(
    {
        "G43.701": False,
        "G43.709": False,
        "G43.711": True,
        "G43.719": True,
        "G43.E01": False,
        "G43.E09": False,
        "G43.E11": True,
        "G43.E19": True,
    }
)
"""The billable ICD-10-CM chronic-migraine codes (clinical-facts 7.2) and whether each says intractable: G43.71x and
G43.E1x do (intractable = pharmacoresistant, treatment-resistant, refractory, poorly controlled), G43.70x and G43.E0x
do not. Which applies is the clinician's coding decision, made on the prior-authorisation request."""


class PreventiveClass(enum.StrEnum):
    """Classes of migraine preventive a clinic records for a prior trial; a policy groups them as it counts them."""

    BETA_BLOCKER = "beta_blocker"
    ANTICONVULSANT = "anticonvulsant"
    TRICYCLIC_ANTIDEPRESSANT = "tricyclic_antidepressant"
    SNRI = "snri"
    CALCIUM_CHANNEL_BLOCKER = "calcium_channel_blocker"
    ACE_INHIBITOR_OR_ARB = "ace_inhibitor_or_arb"
    CGRP_MAB = "cgrp_mab"
    GEPANT = "gepant"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The class as people read it: ``beta blocker``, ``ACE inhibitor or ARB``."""
        return _PREVENTIVE_CLASS_LABELS.get(self, self.value.replace("_", " "))


_PREVENTIVE_CLASS_LABELS = {
    PreventiveClass.SNRI: "SNRI",
    PreventiveClass.ACE_INHIBITOR_OR_ARB: "ACE inhibitor or ARB",
    PreventiveClass.CGRP_MAB: "CGRP monoclonal antibody",
}


def _group_label(name: str) -> str:
    """A policy's preventive group as people read it: a class's own words (``beta_blocker``: ``beta blocker``), else
    the group name with spaces for underscores (``cgrp_targeting``: ``cgrp targeting``)."""
    if name in PreventiveClass._value2member_map_:
        return PreventiveClass(name).label
    return name.replace("_", " ")


class SiteOfService(enum.StrEnum):
    """Where a clinic gives the injections, as a payer's prior-authorisation rule tells settings apart: a physician's
    office (Medicare Part B bills it with no prior-authorisation program) or a hospital outpatient department
    (Medicare asks for prior authorisation there when J0585-J0588 is billed with 64612 or 64615: Noridian JE's
    pre-claim review, clinical-facts 6)."""

    OFFICE = "office"
    HOSPITAL_OUTPATIENT = "hospital_outpatient"


class StopReason(enum.StrEnum):
    INEFFECTIVE = "ineffective"
    NOT_TOLERATED = "not_tolerated"
    CONTRAINDICATED = "contraindicated"
    ONGOING = "ongoing"
    OTHER = "other"


# --- The policy -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One citation: its id inside the file, the citation text, its URL, how it was read, and a note."""

    id: str
    citation: str
    url: str
    status: SourceStatus
    note: str = ""


@dataclass(frozen=True, slots=True)
class AgeRule:
    min_years: int
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class DiagnosisRule:
    requires: tuple[Diagnosis, ...]
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class FrequencyRule:
    """Thresholds per 28-day period, each to be met in each of the last ``periods`` periods; None = not required."""

    periods: int
    min_headache_days: int | None
    min_migraine_days: int | None
    min_headache_days_4h: int | None
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class PreventiveRule:
    """Prior preventives that must have failed. ``classes`` maps each group the policy counts to the classes in it
    (None: every class counts, each on its own); ``min_trial_days`` None: no minimum length stated."""

    min_classes: int
    min_medicines: int
    classes: Mapping[str, tuple[PreventiveClass, ...]] | None
    min_trial_days: int | None
    intolerance_counts: bool
    contraindication_counts: bool
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class OveruseRule:
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class CgrpMabRule:
    combination_allowed: bool
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class InitialCriteria:
    age: AgeRule
    diagnosis: DiagnosisRule
    frequency: FrequencyRule | None
    prior_preventives: PreventiveRule | None
    medication_overuse: OveruseRule | None
    cgrp_mab: CgrpMabRule | None
    approval_months: int | None


@dataclass(frozen=True, slots=True)
class SessionRule:
    """Per-session limits, judged at both stages."""

    max_units: int | None
    min_interval_days: int | None
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class ResponseRule:
    """Any-of alternatives against the baseline; None (or False) = not an alternative under this policy."""

    min_headache_day_reduction_percent: int | None
    min_migraine_day_reduction_percent: int | None
    min_fewer_headache_days: int | None
    min_fewer_headache_hours: int | None
    prescriber_attests_benefit: bool
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class ContinuationCriteria:
    after_cycles: int
    response: ResponseRule
    approval_months: int | None
    source: Source
    text: str = ""
    judged_on: JudgedOn = JudgedOn.LATEST


@dataclass(frozen=True, slots=True)
class StoppingRule:
    """Stop when each of ``episodic_periods`` consecutive complete periods has fewer than
    ``episodic_below_headache_days`` headache days (reverted to episodic migraine)."""

    episodic_below_headache_days: int
    episodic_periods: int
    source: Source
    text: str = ""


@dataclass(frozen=True, slots=True)
class PriorAuthorisationRule:
    """The sites of service where the payer asks for approval before treatment (prior authorisation)."""

    sites: tuple[SiteOfService, ...]
    source: Source
    text: str = ""

    def asks_at(self, site: SiteOfService | str) -> bool:
        """Whether the payer asks for approval before a session given at ``site`` (a ``SiteOfService`` or its text
        value; ValueError for a text that names none)."""
        return SiteOfService(site) in self.sites


@dataclass(frozen=True, slots=True)
class CoveragePolicy:
    """A coverage policy as loaded from its file; ``unconfirmed`` lists the field paths whose values were not read
    in any source, and ``loaded_from`` names the text it came from. ``prior_authorisation`` is None when the file
    has no ``[prior_authorisation]`` table: the policy asks for approval nowhere."""

    id: str
    title: str
    jurisdiction: str
    kind: PolicyKind
    modelled_on: str
    reviewed: date
    notes: str
    sources: tuple[Source, ...]
    initial: InitialCriteria
    session: SessionRule | None
    continuation: ContinuationCriteria | None
    stopping: StoppingRule | None
    unconfirmed: tuple[str, ...]
    loaded_from: str
    prior_authorisation: PriorAuthorisationRule | None = None

    def asks_prior_authorisation_at(self, site: SiteOfService | str) -> bool:
        """Whether this policy asks for approval before a session given at ``site``: the one rule the session
        screen, the cost's warning and the worklist read. A policy without ``[prior_authorisation]`` (the label,
        NICE TA260, the AHS consensus) asks at no site. ValueError for a text that names no site."""
        site = SiteOfService(site)
        return self.prior_authorisation is not None and self.prior_authorisation.asks_at(site)


# --- Loading: messages (format strings; tests assert them exactly) ------------------------------------------------

TOML_SYNTAX = "not valid TOML: {error}"
MISSING = "required field is missing"
UNKNOWN_KEY = "unknown key (allowed here: {allowed})"
NOT_WHOLE = "must be a whole number >= {minimum} (got {got})"
NOT_WHOLE_RANGE = "must be a whole number from {minimum} to {maximum} (got {got})"
NOT_TEXT = "must be non-empty text (got {got})"
NOT_BOOL = "must be true or false (got {got})"
NOT_TABLE = "must be a table (got {got})"
NOT_TABLES = "must be an array of tables, [[{key}]] (got {got})"
NOT_LIST = "must be a list (got {got})"
EMPTY_LIST = "must list at least one value"
NOT_ONE_OF = "must be one of {choices} (got {got})"
DUPLICATE = "is listed twice (got {got})"
NOT_DATE = "must be a date such as 2026-01-31 (got {got})"
NOT_URL = "must be an http:// or https:// address (got {got})"
NOT_ID = "must be lower-case letters, digits and hyphens (got {got})"
NOT_GROUP_NAME = "group names must be lower-case letters, digits and underscores (got {got})"
UNKNOWN_SOURCE = "names no source in [[sources]] (got {got}; sources: {ids})"
DUPLICATE_SOURCE = "source id {got} is used twice"
NEEDS_ONE_OF = "needs at least one of {keys}"
MODELLED_ON_REQUIRED = "required when kind is {kind}"
UNKNOWN_PATH = "names no field present in this policy (got {got})"

E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_GROUP = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_ABSENT: Any = object()


class PolicyError(RefusedError):
    """A policy file refused; ``problems`` lists every reason as ``<source>: <field path>: <why>``."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(*(f"{source}: {problem}" for problem in problems))
        self.source = source


def _show(value: object) -> str:
    """A value as the file spells it: text in double quotes, true/false, numbers and dates as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Reader:
    """Reads one TOML table: each read records the key as allowed, each problem as ``path: why``."""

    def __init__(self, data: Mapping[str, Any], path: str, problems: list[str], present: set[str]) -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.present = present
        self.allowed: list[str] = []
        if path:
            present.add(path)

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where(key)}: {message}")

    def raw(self, key: str, *, required: bool) -> Any:
        self.allowed.append(key)
        if key not in self.data:
            if required:
                self.fail(key, MISSING)
            return _ABSENT
        self.present.add(self.where(key))
        return self.data[key]

    def whole(self, key: str, *, minimum: int = 0, maximum: int | None = None, required: bool = True) -> int | None:
        value = self.raw(key, required=required)
        if value is _ABSENT:
            return None
        in_range = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        if in_range and (maximum is None or value <= maximum):
            return int(value)
        if maximum is None:
            self.fail(key, NOT_WHOLE.format(minimum=minimum, got=_show(value)))
        else:
            self.fail(key, NOT_WHOLE_RANGE.format(minimum=minimum, maximum=maximum, got=_show(value)))
        return None

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw(key, required=required)
        if value is _ABSENT:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.fail(key, NOT_TEXT.format(got=_show(value)))
        return None

    def url(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not value.startswith(("https://", "http://")):
            self.fail(key, NOT_URL.format(got=_show(value)))
            return None
        return value

    def identifier(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not _ID.fullmatch(value):
            self.fail(key, NOT_ID.format(got=_show(value)))
            return None
        return value

    def flag(self, key: str, *, required: bool = True) -> bool | None:
        value = self.raw(key, required=required)
        if value is _ABSENT:
            return None
        if isinstance(value, bool):
            return value
        self.fail(key, NOT_BOOL.format(got=_show(value)))
        return None

    def choice(self, key: str, kind: type[E], *, required: bool = True) -> E | None:
        value = self.raw(key, required=required)
        if value is _ABSENT:
            return None
        return self._member(key, value, kind)

    def _member(self, where: str, value: object, kind: type[E]) -> E | None:
        if isinstance(value, str) and value in kind._value2member_map_:
            return kind(value)
        self.fail(where, NOT_ONE_OF.format(choices=", ".join(kind), got=_show(value)))
        return None

    def choices(self, key: str, kind: type[E]) -> tuple[E, ...] | None:
        value = self.raw(key, required=True)
        if value is _ABSENT:
            return None
        if not isinstance(value, list):
            self.fail(key, NOT_LIST.format(got=_show(value)))
            return None
        if not value:
            self.fail(key, EMPTY_LIST)
            return None
        members: list[E] = []
        ok = True
        for index, item in enumerate(value):
            member = self._member(f"{key}[{index}]", item, kind)
            if member is None:
                ok = False
            elif member in members:
                self.fail(f"{key}[{index}]", DUPLICATE.format(got=_show(item)))
                ok = False
            else:
                members.append(member)
        return tuple(members) if ok else None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.raw(key, required=False)
        if value is _ABSENT:
            return ()
        if not isinstance(value, list):
            self.fail(key, NOT_LIST.format(got=_show(value)))
            return ()
        items = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item.strip())
            else:
                self.fail(f"{key}[{index}]", NOT_TEXT.format(got=_show(item)))
        return tuple(items)

    def day(self, key: str) -> date | None:
        value = self.raw(key, required=True)
        if value is _ABSENT:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.fail(key, NOT_DATE.format(got=_show(value)))
        return None

    def table(self, key: str, *, required: bool) -> _Reader | None:
        value = self.raw(key, required=required)
        if value is _ABSENT:
            return None
        if isinstance(value, dict):
            return _Reader(value, self.where(key), self.problems, self.present)
        self.fail(key, NOT_TABLE.format(got=_show(value)))
        return None

    def tables(self, key: str) -> list[_Reader]:
        value = self.raw(key, required=True)
        if value is _ABSENT:
            return []
        if not isinstance(value, list) or not value or not all(isinstance(item, dict) for item in value):
            self.fail(key, NOT_TABLES.format(key=key, got=_show(value)))
            return []
        return [
            _Reader(item, f"{self.where(key)}[{index}]", self.problems, self.present)
            for index, item in enumerate(value)
        ]

    def finish(self) -> None:
        """Refuse every key no read asked for."""
        allowed = ", ".join(sorted(self.allowed))
        for key in self.data:
            if key not in self.allowed:
                self.fail(key, UNKNOWN_KEY.format(allowed=allowed))


@dataclass
class _Loader:
    """Reads a whole policy; sources come first so that every criterion's ``source`` can be resolved."""

    problems: list[str] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    sources: dict[str, Source] = field(default_factory=dict)

    def source_of(self, reader: _Reader) -> Source:
        """The table's ``source`` (a source id), or the policy's first source."""
        given = reader.text("source", required=False)
        if given is None:
            return next(iter(self.sources.values()), _NO_SOURCE)
        if given not in self.sources:
            reader.fail("source", UNKNOWN_SOURCE.format(got=_show(given), ids=", ".join(self.sources) or "none"))
            return _NO_SOURCE
        return self.sources[given]

    def read_sources(self, top: _Reader) -> None:
        for reader in top.tables("sources"):
            source_id = reader.identifier("id")
            citation = reader.text("citation")
            url = reader.url("url")
            status = reader.choice("status", SourceStatus)
            note = reader.text("note", required=False) or ""
            reader.finish()
            if source_id is None:
                continue
            if source_id in self.sources:
                reader.fail("id", DUPLICATE_SOURCE.format(got=_show(source_id)))
                continue
            self.sources[source_id] = Source(source_id, citation or "", url or "", status or _NOT_RETRIEVED, note)

    def criterion(
        self, parent: _Reader, key: str, build: Callable[[_Reader, Source, str], T | None], *, required: bool = False
    ) -> T | None:
        """Read an optional (or required) criterion table with its ``source`` and ``text``; None when absent."""
        reader = parent.table(key, required=required)
        if reader is None:
            return None
        source = self.source_of(reader)
        text = reader.text("text", required=False) or ""
        built = build(reader, source, text)
        reader.finish()
        return built

    def read_initial(self, top: _Reader) -> InitialCriteria | None:
        reader = top.table("initial", required=True)
        if reader is None:
            return None
        approval_months = reader.whole("approval_months", minimum=1, required=False)
        age = self.criterion(reader, "age", lambda r, s, t: AgeRule(_int(r.whole("min_years")), s, t), required=True)
        diagnosis = self.criterion(
            reader,
            "diagnosis",
            lambda r, s, t: DiagnosisRule(r.choices("requires", Diagnosis) or (), s, t),
            required=True,
        )
        frequency = self.criterion(reader, "frequency", _frequency)
        preventives = self.criterion(reader, "prior_preventives", _preventives)
        overuse = self.criterion(reader, "medication_overuse", _overuse)
        cgrp = self.criterion(
            reader, "cgrp_mab", lambda r, s, t: CgrpMabRule(bool(r.flag("combination_allowed")), s, t)
        )
        reader.finish()
        # A missing age or diagnosis table was reported above, and the policy is then refused.
        return InitialCriteria(age, diagnosis, frequency, preventives, overuse, cgrp, approval_months)  # type: ignore[arg-type]

    def read_continuation(self, top: _Reader) -> ContinuationCriteria | None:
        reader = top.table("continuation", required=False)
        if reader is None:
            return None
        after_cycles = reader.whole("after_cycles", minimum=1)
        judged_on = reader.choice("judged_on", JudgedOn, required=False) or JudgedOn.LATEST
        approval_months = reader.whole("approval_months", minimum=1, required=False)
        source = self.source_of(reader)
        text = reader.text("text", required=False) or ""
        response = self.criterion(reader, "response", _response, required=True)
        reader.finish()
        return ContinuationCriteria(_int(after_cycles), response, approval_months, source, text, judged_on)  # type: ignore[arg-type]


def _int(value: int | None) -> int:
    """A whole number that was checked; 0 stands in for one that was refused (the policy is then refused)."""
    return 0 if value is None else value


_NOT_RETRIEVED = SourceStatus.NOT_RETRIEVED
_NO_SOURCE = Source("none", "", "", SourceStatus.NOT_RETRIEVED)


def _frequency(reader: _Reader, source: Source, text: str) -> FrequencyRule:
    periods = reader.whole("periods", minimum=1)
    headache = reader.whole("min_headache_days", minimum=1, maximum=PERIOD_DAYS, required=False)
    migraine = reader.whole("min_migraine_days", minimum=1, maximum=PERIOD_DAYS, required=False)
    headache_4h = reader.whole("min_headache_days_4h", minimum=1, maximum=PERIOD_DAYS, required=False)
    keys = ("min_headache_days", "min_migraine_days", "min_headache_days_4h")
    if not any(key in reader.data for key in keys):
        reader.problems.append(f"{reader.path}: {NEEDS_ONE_OF.format(keys=', '.join(keys))}")
    return FrequencyRule(_int(periods), headache, migraine, headache_4h, source, text)


def _preventives(reader: _Reader, source: Source, text: str) -> PreventiveRule:
    min_classes = reader.whole("min_classes", required=False)
    min_medicines = reader.whole("min_medicines", required=False)
    counts = {"min_classes": min_classes, "min_medicines": min_medicines}
    refused = any(key in reader.data and value is None for key, value in counts.items())
    if not refused and not (min_classes or min_medicines):
        reader.problems.append(f"{reader.path}: {NEEDS_ONE_OF.format(keys='min_classes >= 1, min_medicines >= 1')}")
    groups = reader.table("classes", required=False)
    classes: dict[str, tuple[PreventiveClass, ...]] | None = None
    if groups is not None:
        classes = {}
        for name in list(groups.data):
            if not _GROUP.fullmatch(name):
                groups.allowed.append(name)
                groups.fail(name, NOT_GROUP_NAME.format(got=_show(name)))
                continue
            members = groups.choices(name, PreventiveClass)
            if members is not None:
                classes[name] = members
        if not groups.data:
            reader.fail("classes", EMPTY_LIST)
    min_trial_days = reader.whole("min_trial_days", minimum=1, required=False)
    intolerance = reader.flag("intolerance_counts")
    contraindication = reader.flag("contraindication_counts")
    return PreventiveRule(
        min_classes or 0,
        min_medicines or 0,
        MappingProxyType(classes) if classes is not None else None,
        min_trial_days,
        bool(intolerance),
        bool(contraindication),
        source,
        text,
    )


def _overuse(reader: _Reader, source: Source, text: str) -> OveruseRule | None:
    """``must_be_managed = false`` states that the policy does not ask for it: no criterion."""
    required = reader.flag("must_be_managed")
    return OveruseRule(source, text) if required else None


def _response(reader: _Reader, source: Source, text: str) -> ResponseRule:
    headache_percent = reader.whole("min_headache_day_reduction_percent", minimum=1, maximum=100, required=False)
    migraine_percent = reader.whole("min_migraine_day_reduction_percent", minimum=1, maximum=100, required=False)
    fewer_days = reader.whole("min_fewer_headache_days", minimum=1, maximum=PERIOD_DAYS, required=False)
    fewer_hours = reader.whole("min_fewer_headache_hours", minimum=1, required=False)
    attests = reader.flag("prescriber_attests_benefit", required=False)
    if not any((headache_percent, migraine_percent, fewer_days, fewer_hours, attests)):
        keys = (
            "min_headache_day_reduction_percent, min_migraine_day_reduction_percent, min_fewer_headache_days, "
            "min_fewer_headache_hours, prescriber_attests_benefit = true"
        )
        reader.problems.append(f"{reader.path}: {NEEDS_ONE_OF.format(keys=keys)}")
    return ResponseRule(headache_percent, migraine_percent, fewer_days, fewer_hours, bool(attests), source, text)


def _session(reader: _Reader, source: Source, text: str) -> SessionRule:
    max_units = reader.whole("max_units", minimum=1, required=False)
    min_interval = reader.whole("min_interval_days", minimum=1, required=False)
    if "max_units" not in reader.data and "min_interval_days" not in reader.data:
        reader.problems.append(f"{reader.path}: {NEEDS_ONE_OF.format(keys='max_units, min_interval_days')}")
    return SessionRule(max_units, min_interval, source, text)


def _prior_authorisation(reader: _Reader, source: Source, text: str) -> PriorAuthorisationRule:
    return PriorAuthorisationRule(reader.choices("sites", SiteOfService) or (), source, text)


def _stopping(reader: _Reader, source: Source, text: str) -> StoppingRule:
    below = reader.whole("episodic_below_headache_days", minimum=1, maximum=PERIOD_DAYS)
    periods = reader.whole("episodic_periods", minimum=1)
    return StoppingRule(_int(below), _int(periods), source, text)


def load_policy(text: str, *, source: str) -> CoveragePolicy:
    """Read and validate one coverage policy from TOML text; ``source`` names the text in messages (a file name).

    Raises ``PolicyError`` listing every problem as ``<source>: <field path>: <why>``: TOML syntax, unknown keys,
    missing required fields, wrong types, thresholds out of range, a ``source`` naming no listed source, and an
    ``unconfirmed`` entry naming no field present in the file. The schema is described field by field in
    docs/policies.md.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(source, [TOML_SYNTAX.format(error=error)]) from None
    loader = _Loader()
    top = _Reader(data, "", loader.problems, loader.present)
    policy_id = top.identifier("id")
    title = top.text("title")
    jurisdiction = top.text("jurisdiction")
    kind = top.choice("kind", PolicyKind)
    modelled_on = top.text("modelled_on", required=False)
    if kind in (PolicyKind.COMMERCIAL, PolicyKind.MEDICARE) and modelled_on is None and "modelled_on" not in data:
        top.fail("modelled_on", MODELLED_ON_REQUIRED.format(kind=kind))
    reviewed = top.day("reviewed")
    notes = top.text("notes", required=False) or ""
    unconfirmed = top.texts("unconfirmed")
    loader.read_sources(top)
    initial = loader.read_initial(top)
    session = loader.criterion(top, "session", _session)
    continuation = loader.read_continuation(top)
    stopping = loader.criterion(top, "stopping", _stopping)
    prior_authorisation = loader.criterion(top, "prior_authorisation", _prior_authorisation)
    top.finish()
    for index, path in enumerate(unconfirmed):
        if path not in loader.present:
            top.fail(f"unconfirmed[{index}]", UNKNOWN_PATH.format(got=_show(path)))
    if loader.problems:
        raise PolicyError(source, loader.problems)
    return CoveragePolicy(
        id=policy_id or "",
        title=title or "",
        jurisdiction=jurisdiction or "",
        kind=kind or PolicyKind.LABEL,
        modelled_on=modelled_on or "",
        reviewed=reviewed or date.min,
        notes=notes,
        sources=tuple(loader.sources.values()),
        initial=initial,  # type: ignore[arg-type]  # present: a missing [initial] was refused above
        session=session,
        continuation=continuation,
        stopping=stopping,
        unconfirmed=unconfirmed,
        loaded_from=source,
        prior_authorisation=prior_authorisation,
    )


# --- Evidence ---------------------------------------------------------------------------------------------------

TRIAL_STOP_BEFORE_START = "preventive trial {drug}: stop date {stop} is before its start date {start}"


class EvidenceError(RefusedError):
    """Evidence that cannot be right, such as a trial that stops before it starts."""


@dataclass(frozen=True, slots=True)
class PreventiveTrial:
    """One prior preventive: drug, class, dose as written (``100 mg``), dates and why it stopped.

    ``start`` may be None only for a drug never started because it is contraindicated; ``stop`` is None while the
    trial is ongoing. ``start`` is the first day the medicine was taken and ``stop`` the last (both counted: a
    medicine stopped on the day it was started was taken for 1 day), as the preventive form asks for them and as a
    FHIR ``effectivePeriod`` (whose end is inclusive) gives them; a current CGRP antibody is one whose stop is not
    before today. Class and reason may be given as their text values. Raises ``EvidenceError`` for a stop date
    before the start date.

    A trial marked stopped (ineffective, not tolerated, other) with no stop date contradicts itself: a record stored
    before the clinic's form asked for the stop date, or an import that left it out. It is kept, described as having
    no stop date (``stop_missing``), and never counted as failed (``_trial_counts``).
    """

    drug: str
    drug_class: PreventiveClass
    dose: str
    start: date | None
    stop: date | None
    stop_reason: StopReason

    def __post_init__(self) -> None:
        object.__setattr__(self, "drug_class", PreventiveClass(self.drug_class))
        object.__setattr__(self, "stop_reason", StopReason(self.stop_reason))
        if self.start is not None and self.stop is not None and self.stop < self.start:
            raise EvidenceError(TRIAL_STOP_BEFORE_START.format(drug=self.drug, stop=self.stop, start=self.start))

    def days(self, today: date) -> int | None:
        """Days taken, the start and the stop date both counted (to ``today``, counted, while ongoing): 1 January
        to 1 March 2025 is 60 days (59 + 1), so a policy's minimum trial of 60 days is met by a medicine taken on
        each of 60 days. None without a start date."""
        if self.start is None:
            return None
        return ((self.stop or today) - self.start).days + 1

    @property
    def stop_missing(self) -> bool:
        """Marked as stopped (ineffective, not tolerated, other) with no stop date: an empty stop date means still
        taken, so the record cannot tell a failed trial from a medicine the patient takes now. A contraindicated drug
        was not taken, so it has nothing to stop."""
        return self.stop is None and self.stop_reason not in {StopReason.ONGOING, StopReason.CONTRAINDICATED}

    def describe(self, today: date) -> str:
        """``topiramate 100 mg 2025-03-01..2025-06-02 (93 days), stopped: ineffective``; one marked stopped without
        a stop date reads ``topiramate 100 mg from 2025-03-01 (no stop date), stopped: ineffective``."""
        name = f"{self.drug} {self.dose}".strip()
        reason = self.stop_reason.value.replace("_", " ")
        if self.start is None or self.stop_reason is StopReason.CONTRAINDICATED:  # a contraindicated drug was not taken
            return f"{name}, {reason}"
        if self.stop_missing:
            return f"{name} from {self.start.isoformat()} (no stop date), stopped: {reason}"
        if self.stop is None:
            return f"{name} {self.start.isoformat()}..ongoing ({self.days(today)} days so far)"
        return f"{name} {self.start.isoformat()}..{self.stop.isoformat()} ({self.days(today)} days), stopped: {reason}"


def medicine_key(drug: str) -> str:
    """A medicine's name as the payers' criteria tell medicines apart: by name, letter case aside, so "Propranolol"
    and "propranolol" are one medicine failed (``_preventive_judgement`` counts them once, as a policy's
    ``min_medicines`` means distinct medicines), and the imports match them as one trial."""
    return drug.casefold()


@dataclass(frozen=True, slots=True)
class CoverageEvidence:
    """What the caller knows about one patient, filled from its data; None means "not recorded".

    ``assessment`` is the engine's baseline eligibility (``assess``), ``outcomes`` its course after the first
    injection (``treatment_outcomes``). ``preventive_trials`` () means none tried; ``current_cgrp_mab`` () means
    none taken now. ``last_session`` None with no ``outcomes`` means no previous session. ``headache_hours`` maps a
    period index (0 = the baseline, k = period k after the first injection) to the hours of headache recorded in it.
    ``diagnosis_code`` is the ICD-10-CM code the clinician chose on the request (``ICD10_INTRACTABLE``).

    ``benefit_attested_on`` is the day of the request carrying ``prescriber_attests_benefit`` (shown beside it);
    ``benefit_needed_after`` the first day of the approval a continuation would renew. An attestation made on or
    before that day was made for that approval (its own request, or the one before), not for its renewal: it is not
    read, so last year's judgement of benefit cannot carry this year's continuation (``_benefit_judgement``).
    """

    birth_date: date | None = None
    assessment: Assessment | None = None
    outcomes: Outcomes | None = None
    preventive_trials: tuple[PreventiveTrial, ...] | None = None
    current_cgrp_mab: tuple[str, ...] | None = None
    medication_overuse_managed: bool | None = None
    planned_units: int | None = None
    planned_date: date | None = None
    last_session: date | None = None
    headache_hours: Mapping[int, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    prescriber_attests_benefit: bool | None = None
    diagnosis_code: str | None = None
    benefit_attested_on: date | None = None
    benefit_needed_after: date | None = None


# --- Results ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion: its key (``initial.age``), name, outcome, the evidence seen, the rule as the policy file sets
    it, the policy's own wording (if the file gives it), the source, and the unconfirmed fields it rests on.

    ``rule`` ends with ``(UNCONFIRMED: <field paths>)`` when it rests on unconfirmed fields; ``plain_rule`` is the
    rule without that mark, for a page that names the unconfirmed fields in its own words."""

    key: str
    name: str
    outcome: CriterionOutcome
    evidence: tuple[str, ...]
    rule: str
    policy_text: str
    source: Source
    unconfirmed: tuple[str, ...]
    plain_rule: str = ""


@dataclass(frozen=True, slots=True)
class CoverageEvaluation:
    """A policy applied to one patient at one stage on ``today``."""

    policy_id: str
    policy_title: str
    stage: Stage
    today: date
    status: CoverageStatus
    criteria: tuple[CriterionResult, ...]
    approval_months: int | None
    notes: tuple[str, ...]
    approval_unconfirmed: tuple[str, ...] = ()
    """The policy's unconfirmed entries behind ``approval_months``: a length no source confirmed."""

    @property
    def approval_note(self) -> str:
        """The note on the approval length (``notes`` holds it), marked UNCONFIRMED as a criterion's rule is; ""
        when the policy sets no length for the stage."""
        if self.approval_months is None:
            return ""
        if self.approval_unconfirmed:
            return NOTE_APPROVAL_UNCONFIRMED.format(
                months=self.approval_months, fields=", ".join(self.approval_unconfirmed)
            )
        return NOTE_APPROVAL.format(months=self.approval_months)

    @property
    def summary(self) -> str:
        """``not approvable under <title> (initial): not met: initial.age`` and the like."""
        head = f"{self.status.label} under {self.policy_title} ({self.stage.value})"
        not_met = [c.key for c in self.criteria if c.outcome is CriterionOutcome.NOT_MET]
        missing = [c.key for c in self.criteria if c.outcome is CriterionOutcome.MISSING_INFORMATION]
        parts = []
        if not_met:
            parts.append("not met: " + ", ".join(not_met))
        if missing:
            parts.append("missing information: " + ", ".join(missing))
        return f"{head}: {'; '.join(parts)}" if parts else f"{head}: every criterion met"

    def criterion(self, key: str) -> CriterionResult:
        """The result for one criterion key; KeyError naming the keys present when absent."""
        for result in self.criteria:
            if result.key == key:
                return result
        raise KeyError(f"{key} (criteria: {', '.join(c.key for c in self.criteria)})")


# --- Evaluation: evidence texts (format strings; tests assert them exactly) ----------------------------------------

NO_BIRTH_DATE = "no birth date recorded"
AGE = "age {age} on {today} ({cmp} {minimum})"
NO_ASSESSMENT = "no eligibility assessment (assess the baseline diary)"
TOO_FEW_PERIODS = "the assessment covers {have} periods; the policy asks for {need} (assess with periods={need})"
PERIOD_MISSING = "{label}: ends before the first diary row: missing"
PERIOD_INCOMPLETE = "{label}: {recorded} of {days} days recorded (< {minimum}): incomplete"
PERIOD_COUNT = "{label}: {count} {what} ({cmp} {threshold})"
NO_TRIALS = "no preventive history recorded"
TRIAL_COUNTS = "{trial}; counts ({group})"
TRIAL_DOES_NOT_COUNT = "{trial}; does not count ({why})"
TRIAL_UNDETERMINED = "{trial}; cannot be judged ({why})"
WHY_ONGOING = "ongoing, not a failed trial"
WHY_OTHER = "stopped for another reason"
WHY_SHORT = "{days} days < the {minimum}-day minimum trial"
WHY_INTOLERANCE = "intolerance does not count under this policy"
WHY_CONTRAINDICATION = "contraindication does not count under this policy"
WHY_CLASS = "class {drug_class} is not one this policy counts"
WHY_NO_START = "start date not recorded"
WHY_NO_STOP = (
    "no stop date recorded: only a medicine that stopped can count as failed, so record the day it stopped or mark "
    "it still taken"
)
FAILED_CLASSES = "failed classes: {count} ({names}) of {minimum} required"
FAILED_MEDICINES = "failed medicines: {count} ({names}) of {minimum} required"
OVERUSE_MANAGED = "medication overuse managed (clinician's record)"
OVERUSE_NOT_MANAGED = "medication overuse not yet managed (clinician's record)"
OVERUSE_UNKNOWN = "whether medication overuse has been managed is not recorded"
CGRP_UNKNOWN = "current CGRP monoclonal antibody use not recorded"
CGRP_NONE = "no current CGRP monoclonal antibody"
CGRP_CURRENT = "current CGRP monoclonal antibody: {names}"
CGRP_ALLOWED = "current CGRP monoclonal antibody: {names} (combination allowed)"
NO_PLANNED_UNITS = "no planned dose recorded"
PLANNED_UNITS = "planned dose {units} U ({cmp} {maximum} U)"
NO_PLANNED_DATE = "no planned session date recorded"
NO_PREVIOUS_SESSION = "no previous session: {planned} starts treatment"
NO_PREVIOUS_SESSION_CONTINUATION = "no previous session is recorded for a continuation request"
INTERVAL = "planned {planned} is {days} days after the previous session of {previous} ({cmp} {minimum})"
BEFORE_PREVIOUS = "planned {planned} is before the previous session of {previous}"
NO_OUTCOMES = "no treatment outcomes recorded (no injection dates and diary after them)"
CYCLES = "sessions given: {count} ({dates}) ({cmp} {minimum})"
CYCLES_NOT_DUE = (
    "sessions given: {count} ({dates}) (< {minimum}): continuation is not due yet; it is judged after {minimum} "
    "cycles, and until then a request is at the initial stage"
)
NO_DIAGNOSIS_CODE = (
    "no diagnosis code recorded on the request: if the migraine is intractable, choose the intractable code "
    "({codes}) on the request"
)
CODE_INTRACTABLE = "diagnosis code on the request: {code} (intractable)"
CODE_NOT_INTRACTABLE = (
    "diagnosis code on the request: {code} (not intractable); if the migraine is intractable, choose the intractable "
    "code on the request"
)
CODE_UNKNOWN = (
    "diagnosis code on the request: {code}, not a billable ICD-10-CM chronic-migraine code ({codes}): "
    "intractability cannot be read from it"
)
NEGATIVE_SESSIONS = "sessions given: must be 0 or more (got {got})"
BASELINE_INCOMPLETE = "baseline ({span}) has {recorded} of {days} days recorded (< {minimum}): incomplete"
NO_RESPONSE_PERIOD = "no complete period from period {index} (week {week}) on yet"
RESPONSE_PERIOD_INCOMPLETE = "period {index} (week {week}), the one the response is judged on, is not complete"
JUDGED_ON = "judged on period {index} ({span}) against the baseline ({baseline})"
DAYS_PERCENT = "{what} days {before} -> {after}: {change} ({cmp} {minimum} %)"
NO_PERCENT = "{what} days {before} -> {after}: no percentage against a baseline of 0 (< {minimum} %)"
FEWER_DAYS = "headache days {before} -> {after}: {change} ({cmp} {minimum})"
HOURS = "headache hours {before} -> {after}: {change} ({cmp} {minimum})"
NO_HOURS = "headache hours for the baseline and period {index} not both recorded"
BENEFIT_YES = "prescriber reports clinical benefit"
BENEFIT_NO = "prescriber reports no clinical benefit"
BENEFIT_UNKNOWN = "prescriber's judgement of benefit not recorded"
BENEFIT_ON = "{judgement} (attested on the request of {day})"
BENEFIT_OUTDATED = (
    "prescriber's judgement of benefit not recorded since the approval from {start} began: the attestation on the "
    "request of {day} was made for that approval, not for its renewal"
)
STOP_TOO_FEW = "{count} after the first injection (< {need}): the stopping rule cannot apply yet"
STOP_NOT_CONSECUTIVE = "the last {need} complete periods ({indexes}) are not consecutive"
STOP_NOT_ALL_BELOW = "the last {need} complete periods ({indexes}) have {counts} headache days: not each < {below}"
STOP_REVERTED = (
    "periods {indexes} ({start}..{end}) each have < {below} headache days ({counts}): "
    "reverted to episodic migraine for {need} consecutive periods"
)
STOP_EARLIER_RUN = (
    "periods {indexes} ({start}..{end}) each had < {below} headache days ({counts}): whether the condition has "
    "changed to episodic migraine is the clinician's to judge"
)
STOP_GAP = "period {index} has {recorded} of {days} days recorded (< {minimum})"
STOP_CANNOT_RULE_OUT = (
    "the last {count} periods are each incomplete or below {below} headache days: a return to episodic migraine "
    "for {need} consecutive periods cannot be ruled out"
)
NOTE_NO_CONTINUATION = (
    "this policy states no continuation criteria (what the payer asks to continue treatment is not known); only its "
    "session limits are judged"
)
NOTE_APPROVAL = "approval length if approved: {months} months"
NOTE_APPROVAL_UNCONFIRMED = "approval length if approved: {months} months (UNCONFIRMED: {fields})"


def _cmp(ok: bool, *, at_most: bool = False) -> str:
    if at_most:
        return "<=" if ok else ">"
    return ">=" if ok else "<"


@dataclass(frozen=True, slots=True)
class _Judgement:
    outcome: CriterionOutcome
    evidence: tuple[str, ...]


def _met(ok: bool, *evidence: str) -> _Judgement:
    return _Judgement(CriterionOutcome.MET if ok else CriterionOutcome.NOT_MET, evidence)


def _missing(*evidence: str) -> _Judgement:
    return _Judgement(CriterionOutcome.MISSING_INFORMATION, evidence)


def _combine(*judgements: _Judgement) -> CriterionOutcome:
    """All-of: not met beats missing, missing beats met."""
    outcomes = {judgement.outcome for judgement in judgements}
    for outcome in (CriterionOutcome.NOT_MET, CriterionOutcome.MISSING_INFORMATION):
        if outcome in outcomes:
            return outcome
    return CriterionOutcome.MET


# --- Evaluation: initial criteria -------------------------------------------------------------------------------


def _age(rule: AgeRule, evidence: CoverageEvidence, today: date) -> _Judgement:
    if evidence.birth_date is None:
        return _missing(NO_BIRTH_DATE)
    age = age_in_years(evidence.birth_date, today)
    ok = age >= rule.min_years
    return _met(ok, AGE.format(age=age, today=today.isoformat(), cmp=_cmp(ok), minimum=rule.min_years))


def _verdict(verdict: Verdict[Any], met: enum.Enum, not_met: enum.Enum) -> _Judgement:
    """An engine verdict as a criterion: its reasons are the evidence."""
    if verdict.verdict is met:
        return _Judgement(CriterionOutcome.MET, verdict.reasons)
    if verdict.verdict is not_met:
        return _Judgement(CriterionOutcome.NOT_MET, verdict.reasons)
    return _Judgement(CriterionOutcome.MISSING_INFORMATION, verdict.reasons)


def _codes(*, intractable: bool | None = None) -> str:
    """The chronic-migraine codes (the intractable ones only, with ``intractable``), in code order: ``G43.711,
    G43.719, G43.E11 or G43.E19`` (the last joined by ``or``), or all of them comma-separated."""
    codes = sorted(code for code, flag in ICD10_INTRACTABLE.items() if intractable is None or flag is intractable)
    if intractable is None:
        return ", ".join(codes)
    return f"{', '.join(codes[:-1])} or {codes[-1]}"


def _intractable(evidence: CoverageEvidence) -> _Judgement:
    """Intractable migraine as the clinician coded it on the request: met for an intractable code, not met for a
    not-intractable one, missing without a code or with one that says nothing of intractability."""
    code = evidence.diagnosis_code
    if code is None or not code.strip():
        return _missing(NO_DIAGNOSIS_CODE.format(codes=_codes(intractable=True)))
    code = code.strip().upper()
    if code not in ICD10_INTRACTABLE:
        return _missing(CODE_UNKNOWN.format(code=code, codes=_codes()))
    if ICD10_INTRACTABLE[code]:
        return _met(True, CODE_INTRACTABLE.format(code=code))
    return _met(False, CODE_NOT_INTRACTABLE.format(code=code))


def _diagnosis(diagnosis: Diagnosis, evidence: CoverageEvidence) -> _Judgement:
    if diagnosis is Diagnosis.INTRACTABLE:
        return _intractable(evidence)
    assessment = evidence.assessment
    if assessment is None:
        return _missing(NO_ASSESSMENT)
    if diagnosis is Diagnosis.CHRONIC_MIGRAINE:
        return _verdict(assessment.chronic_migraine, ChronicMigraine.YES, ChronicMigraine.NO)
    return _verdict(assessment.label_criteria, LabelCriteria.MET, LabelCriteria.NOT_MET)


_FREQUENCY_MEASURES: dict[str, tuple[str, str]] = {
    "min_headache_days": ("headache_days", "headache days"),
    "min_migraine_days": ("migraine_days", "migraine days"),
    "min_headache_days_4h": ("headache_days_4h", "days with headache lasting >= 4 hours"),
}


def _period_threshold(periods: Sequence[PeriodSummary], attribute: str, what: str, threshold: int) -> _Judgement:
    """Each period at or above ``threshold``: not met if a complete period falls short, missing if any period is
    incomplete or missing (the engine's verdict order), otherwise met."""
    lines = []
    short = unusable = False
    for period in periods:
        if period.missing:
            lines.append(PERIOD_MISSING.format(label=period.label))
            unusable = True
        elif not period.complete:
            lines.append(
                PERIOD_INCOMPLETE.format(
                    label=period.label, recorded=period.days_recorded, days=PERIOD_DAYS, minimum=MIN_RECORDED_DAYS
                )
            )
            unusable = True
        else:
            count = getattr(period, attribute)
            ok = count >= threshold
            short = short or not ok
            lines.append(
                PERIOD_COUNT.format(label=period.label, count=count, what=what, cmp=_cmp(ok), threshold=threshold)
            )
    if short:
        return _Judgement(CriterionOutcome.NOT_MET, tuple(lines))
    if unusable:
        return _Judgement(CriterionOutcome.MISSING_INFORMATION, tuple(lines))
    return _Judgement(CriterionOutcome.MET, tuple(lines))


def _frequency_judgement(rule: FrequencyRule, key: str, threshold: int, evidence: CoverageEvidence) -> _Judgement:
    assessment = evidence.assessment
    if assessment is None:
        return _missing(NO_ASSESSMENT)
    if len(assessment.periods) < rule.periods:
        return _missing(TOO_FEW_PERIODS.format(have=len(assessment.periods), need=rule.periods))
    attribute, what = _FREQUENCY_MEASURES[key]
    return _period_threshold(assessment.periods[: rule.periods], attribute, what, threshold)


def _group_of(rule: PreventiveRule, trial: PreventiveTrial) -> str | None:
    if rule.classes is None:
        return trial.drug_class.value
    return next((name for name, members in rule.classes.items() if trial.drug_class in members), None)


def _trial_counts(rule: PreventiveRule, trial: PreventiveTrial, today: date) -> tuple[bool | None, str]:
    """Whether one trial is a failure this policy counts: (True, group), (False, why) or (None, why) when the
    record cannot tell. Intolerance and contraindication count without a minimum length when the policy says so.

    A trial marked ineffective or not tolerated with no stop date (``PreventiveTrial.stop_missing``) never counts,
    under any policy: an empty stop date means still taken, and a medicine still taken has not failed. It cannot be
    judged (the stop date may just not have been written down), so a count it could complete is missing
    information rather than not met."""
    group = _group_of(rule, trial)
    if group is None:
        return False, WHY_CLASS.format(drug_class=trial.drug_class.label)
    reason = trial.stop_reason
    if reason is StopReason.ONGOING:
        return False, WHY_ONGOING
    if reason is StopReason.OTHER:
        return False, WHY_OTHER
    if reason is StopReason.NOT_TOLERATED and not rule.intolerance_counts:
        return False, WHY_INTOLERANCE
    if reason is StopReason.CONTRAINDICATED:
        return (True, group) if rule.contraindication_counts else (False, WHY_CONTRAINDICATION)
    if trial.stop_missing:
        return None, WHY_NO_STOP
    if reason is StopReason.NOT_TOLERATED or rule.min_trial_days is None:  # no length asked: counts without dates
        return True, group
    days = trial.days(today)
    if days is None:
        return None, WHY_NO_START
    if days < rule.min_trial_days:
        return False, WHY_SHORT.format(days=days, minimum=rule.min_trial_days)
    return True, group


def _preventive_judgement(rule: PreventiveRule, evidence: CoverageEvidence, today: date) -> _Judgement:
    if evidence.preventive_trials is None:
        return _missing(NO_TRIALS)
    lines = []
    groups: list[str] = []
    medicines: list[str] = []
    undetermined_groups: set[str] = set()
    undetermined_medicines: set[str] = set()
    for trial in evidence.preventive_trials:
        counts, detail = _trial_counts(rule, trial, today)
        described = trial.describe(today)
        if counts is None:
            # what the trial would add if the record showed it counts (a trial of no group never gets here)
            if (group := _group_of(rule, trial)) is not None:
                undetermined_groups.add(group)
            undetermined_medicines.add(medicine_key(trial.drug))
            lines.append(TRIAL_UNDETERMINED.format(trial=described, why=detail))
        elif counts:
            lines.append(TRIAL_COUNTS.format(trial=described, group=_group_label(detail)))
            if detail not in groups:
                groups.append(detail)
            if medicine_key(trial.drug) not in {medicine_key(name) for name in medicines}:
                medicines.append(trial.drug)
        else:
            lines.append(TRIAL_DOES_NOT_COUNT.format(trial=described, why=detail))
    if rule.min_classes:
        names = ", ".join(_group_label(group) for group in groups) or "none"
        lines.append(FAILED_CLASSES.format(count=len(groups), names=names, minimum=rule.min_classes))
    if rule.min_medicines:
        names = ", ".join(medicines) or "none"
        lines.append(FAILED_MEDICINES.format(count=len(medicines), names=names, minimum=rule.min_medicines))
    short_classes = max(rule.min_classes - len(groups), 0)
    short_medicines = max(rule.min_medicines - len(medicines), 0)
    if not short_classes and not short_medicines:
        return _Judgement(CriterionOutcome.MET, tuple(lines))
    # Information is missing only when the undetermined trials could make up the shortfall: a trial of a class (or
    # a medicine) already counted adds none, so two anticonvulsants, one failed and one undetermined, stay short of
    # two classes whatever the record would say.
    could_classes = len(set(groups) | undetermined_groups)
    could_medicines = len({medicine_key(name) for name in medicines} | undetermined_medicines)
    if could_classes >= rule.min_classes and could_medicines >= rule.min_medicines:
        return _Judgement(CriterionOutcome.MISSING_INFORMATION, tuple(lines))
    return _Judgement(CriterionOutcome.NOT_MET, tuple(lines))


def _overuse_judgement(evidence: CoverageEvidence) -> _Judgement:
    """The engine's ICHD-3 8.2 verdict on the baseline periods, and the clinician's record that overuse is managed."""
    if evidence.assessment is None:
        return _missing(NO_ASSESSMENT)
    verdict = evidence.assessment.medication_overuse
    managed = evidence.medication_overuse_managed
    if verdict.verdict is MedicationOveruse.NOT_SUSPECTED and managed is not False:
        # Criterion B (regular overuse for > 3 months) fails, but a period that meets a threshold is overuse the
        # policy still asks about (NICE TA260 section 1: overuse "appropriately managed"): the clinician's record
        # decides.
        if managed is None and any(period_overuse(period)[0] for period in evidence.assessment.periods):
            return _missing(*verdict.reasons, OVERUSE_UNKNOWN)
        return _Judgement(CriterionOutcome.MET, (*verdict.reasons, *((OVERUSE_MANAGED,) if managed else ())))
    if managed is False:
        # the clinician's record of overuse not yet managed stands, whatever the diary's 28-day periods show
        return _Judgement(CriterionOutcome.NOT_MET, (*verdict.reasons, OVERUSE_NOT_MANAGED))
    if managed is True:
        return _Judgement(CriterionOutcome.MET, (*verdict.reasons, OVERUSE_MANAGED))
    return _missing(*verdict.reasons, OVERUSE_UNKNOWN)


def _cgrp_judgement(rule: CgrpMabRule, evidence: CoverageEvidence) -> _Judgement:
    current = evidence.current_cgrp_mab
    if current is None:
        return _missing(CGRP_UNKNOWN)
    if not current:
        return _met(True, CGRP_NONE)
    names = ", ".join(current)
    if rule.combination_allowed:
        return _met(True, CGRP_ALLOWED.format(names=names))
    return _met(False, CGRP_CURRENT.format(names=names))


# --- Evaluation: session, continuation, stopping ----------------------------------------------------------------


def _dose_judgement(maximum: int, evidence: CoverageEvidence) -> _Judgement:
    if evidence.planned_units is None:
        return _missing(NO_PLANNED_UNITS)
    ok = evidence.planned_units <= maximum
    return _met(ok, PLANNED_UNITS.format(units=evidence.planned_units, cmp=_cmp(ok, at_most=True), maximum=maximum))


def _previous_session(evidence: CoverageEvidence) -> date | None:
    """The previous session's date: the recorded one, else the last injection in the outcomes, else None, no
    previous session (``CoverageEvidence``), at either stage (``_interval_judgement`` then says what that means at
    each)."""
    if evidence.last_session is not None:
        return evidence.last_session
    if evidence.outcomes is not None:
        return evidence.outcomes.injections[-1]
    return None


def _interval_judgement(minimum: int, evidence: CoverageEvidence, stage: Stage) -> _Judgement:
    """The planned session against the previous one. With no previous session the interval cannot be too short for
    an initial request (the planned session starts treatment); a continuation request with none recorded is missing
    information: it continues a treatment the record does not show, and a policy without continuation criteria has
    no response criterion to fail it."""
    planned = evidence.planned_date
    if planned is None:
        return _missing(NO_PLANNED_DATE)
    previous = _previous_session(evidence)
    if previous is None:
        if stage is Stage.CONTINUATION:
            return _missing(NO_PREVIOUS_SESSION_CONTINUATION)
        return _met(True, NO_PREVIOUS_SESSION.format(planned=planned.isoformat()))
    if planned < previous:
        return _met(False, BEFORE_PREVIOUS.format(planned=planned.isoformat(), previous=previous.isoformat()))
    days = (planned - previous).days
    ok = days >= minimum
    return _met(
        ok,
        INTERVAL.format(
            planned=planned.isoformat(), days=days, previous=previous.isoformat(), cmp=_cmp(ok), minimum=minimum
        ),
    )


def _cycles_judgement(rule: ContinuationCriteria, evidence: CoverageEvidence) -> _Judgement:
    """Not met while fewer than ``after_cycles`` sessions are given: a continuation is judged only after them, so
    the evidence says the continuation is not due yet (``stage_due``: the request is then initial), not that it is
    refused."""
    if evidence.outcomes is None:
        return _missing(NO_OUTCOMES)
    injections = evidence.outcomes.injections
    ok = len(injections) >= rule.after_cycles
    dates = ", ".join(day.isoformat() for day in injections)
    if not ok:
        return _met(False, CYCLES_NOT_DUE.format(count=len(injections), dates=dates, minimum=rule.after_cycles))
    return _met(ok, CYCLES.format(count=len(injections), dates=dates, cmp=_cmp(ok), minimum=rule.after_cycles))


def _response_period(rule: ContinuationCriteria, outcomes: Outcomes) -> PeriodChange | None:
    """The period the response is judged on: the latest complete period from period ``CYCLE_PERIODS *
    after_cycles`` on (period 6, week 24, after two cycles), or with ``judged_on = "after_cycles"`` that period
    itself (NICE TA260 1.2: "after 2 treatment cycles", the engine's week-24 verdict), when complete."""
    first = CYCLE_PERIODS * rule.after_cycles
    usable = [change for change in outcomes.periods if change.period.index >= first and change.period.complete]
    if rule.judged_on is JudgedOn.AFTER_CYCLES:
        usable = [change for change in usable if change.period.index == first]
    return usable[-1] if usable else None


def _number(value: int | Decimal) -> str:
    """A count or an amount of hours as the diary writes it: ``281``, ``281.5`` (never ``281.00``)."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def _change(before: int | Decimal, after: int | Decimal, unit: str = "fewer") -> str:
    difference = before - after
    return f"{_number(difference)} {unit}" if difference >= 0 else f"{_number(-difference)} more"


def _percent_alternative(what: str, before: int, after: int, minimum: int) -> _Judgement:
    change = percent_change(before, after)
    if change is None:
        return _met(False, NO_PERCENT.format(what=what, before=before, after=after, minimum=minimum))
    ok = reduction_at_least(before, after, minimum)
    shown = f"{-change} % fewer" if change <= 0 else f"{change} % more"
    return _met(
        ok, DAYS_PERCENT.format(what=what, before=before, after=after, change=shown, cmp=_cmp(ok), minimum=minimum)
    )


def _response_judgement(rule: ContinuationCriteria, evidence: CoverageEvidence) -> _Judgement:
    """Any-of: met when one alternative is met; not met when every alternative could be judged and none is met;
    otherwise missing information."""
    outcomes = evidence.outcomes
    if outcomes is None:
        return _missing(NO_OUTCOMES)
    baseline = outcomes.baseline
    if not baseline.complete:
        return _missing(
            BASELINE_INCOMPLETE.format(
                span=baseline.span, recorded=baseline.days_recorded, days=PERIOD_DAYS, minimum=MIN_RECORDED_DAYS
            )
        )
    change = _response_period(rule, outcomes)
    first = CYCLE_PERIODS * rule.after_cycles
    if change is None:
        why = RESPONSE_PERIOD_INCOMPLETE if rule.judged_on is JudgedOn.AFTER_CYCLES else NO_RESPONSE_PERIOD
        return _missing(why.format(index=first, week=first * PERIOD_DAYS // 7))
    period = change.period
    response = rule.response
    alternatives: list[_Judgement] = []
    if response.min_headache_day_reduction_percent is not None:
        alternatives.append(
            _percent_alternative(
                "headache", baseline.headache_days, period.headache_days, response.min_headache_day_reduction_percent
            )
        )
    if response.min_migraine_day_reduction_percent is not None:
        alternatives.append(
            _percent_alternative(
                "migraine", baseline.migraine_days, period.migraine_days, response.min_migraine_day_reduction_percent
            )
        )
    if response.min_fewer_headache_days is not None:
        fewer = baseline.headache_days - period.headache_days
        ok = fewer >= response.min_fewer_headache_days
        alternatives.append(
            _met(
                ok,
                FEWER_DAYS.format(
                    before=baseline.headache_days,
                    after=period.headache_days,
                    change=_change(baseline.headache_days, period.headache_days),
                    cmp=_cmp(ok),
                    minimum=response.min_fewer_headache_days,
                ),
            )
        )
    if response.min_fewer_headache_hours is not None:
        before_hours = evidence.headache_hours.get(0)
        after_hours = evidence.headache_hours.get(period.index)
        if before_hours is None or after_hours is None:
            alternatives.append(_missing(NO_HOURS.format(index=period.index)))
        else:
            ok = before_hours - after_hours >= response.min_fewer_headache_hours
            alternatives.append(
                _met(
                    ok,
                    HOURS.format(
                        before=_number(before_hours),
                        after=_number(after_hours),
                        change=_change(before_hours, after_hours),
                        cmp=_cmp(ok),
                        minimum=response.min_fewer_headache_hours,
                    ),
                )
            )
    if response.prescriber_attests_benefit:
        alternatives.append(_benefit_judgement(evidence))
    head = JUDGED_ON.format(index=period.index, span=period.span, baseline=baseline.span)
    lines = (head, *(line for judgement in alternatives for line in judgement.evidence))
    outcomes_seen = {judgement.outcome for judgement in alternatives}
    if CriterionOutcome.MET in outcomes_seen:
        return _Judgement(CriterionOutcome.MET, lines)
    if CriterionOutcome.MISSING_INFORMATION in outcomes_seen:
        return _Judgement(CriterionOutcome.MISSING_INFORMATION, lines)
    return _Judgement(CriterionOutcome.NOT_MET, lines)


def _benefit_judgement(evidence: CoverageEvidence) -> _Judgement:
    """The prescriber's attested judgement of benefit, with the day it was attested when known; one attested on or
    before the first day of the approval the continuation renews (``benefit_needed_after``) was made for that
    approval, so it is missing information now, naming both days."""
    attests, on, after = (
        evidence.prescriber_attests_benefit,
        evidence.benefit_attested_on,
        evidence.benefit_needed_after,
    )
    if attests is None:
        return _missing(BENEFIT_UNKNOWN)
    if on is not None and after is not None and on <= after:
        return _missing(BENEFIT_OUTDATED.format(start=after.isoformat(), day=on.isoformat()))
    judgement = BENEFIT_YES if attests else BENEFIT_NO
    return _met(attests, judgement if on is None else BENEFIT_ON.format(judgement=judgement, day=on.isoformat()))


def _stopping_judgement(rule: StoppingRule, evidence: CoverageEvidence) -> _Judgement:
    """The policy's episodic-reversion rule on the engine's period counts: met (the rule does not stop treatment)
    unless the last ``episodic_periods`` complete periods are consecutive and each below the threshold. With the
    NICE TA260 values (15, 3) this is the engine's ``reverted_to_episodic``."""
    if evidence.outcomes is None:
        return _missing(NO_OUTCOMES)
    need = rule.episodic_periods
    below = rule.episodic_below_headache_days
    ended = [change.period for change in evidence.outcomes.periods]
    recent = [period for period in ended if period.complete][-need:]
    indexes = ", ".join(str(period.index) for period in recent)
    if len(recent) < need:
        count = f"{len(recent)} complete period{'' if len(recent) == 1 else 's'}"
        return _unread_reversion(ended, need, below, STOP_TOO_FEW.format(count=count, need=need))
    if any(later.index != earlier.index + 1 for earlier, later in itertools.pairwise(recent)):
        return _unread_reversion(ended, need, below, STOP_NOT_CONSECUTIVE.format(need=need, indexes=indexes))
    counts = ", ".join(str(period.headache_days) for period in recent)
    if all(period.headache_days < below for period in recent):
        return _met(
            False,
            STOP_REVERTED.format(
                indexes=indexes,
                start=recent[0].start.isoformat(),
                end=recent[-1].end.isoformat(),
                below=below,
                counts=counts,
                need=need,
            ),
        )
    return _met(True, STOP_NOT_ALL_BELOW.format(need=need, indexes=indexes, counts=counts, below=below))


def _unread_reversion(ended: Sequence[PeriodSummary], need: int, below: int, why: str) -> _Judgement:
    """The rule cannot be read on the last ``need`` complete periods (too few, or a period between them incomplete):
    met when the ended periods rule out a return to episodic migraine, else missing information naming what does not.
    An earlier run of ``need`` consecutive complete periods each below ``below`` headache days is named (the engine's
    NICE verdict sets it aside for the same reason, and says so); otherwise the periods since the last one at or
    above ``below`` are each below it or incomplete, and at least ``need`` of them could have been such a run."""
    run: list[PeriodSummary] = []
    latest_run: list[PeriodSummary] = []
    for period in ended:
        run = [*run, period] if period.complete and period.headache_days < below else []
        if len(run) >= need:
            latest_run = run[-need:]
    if latest_run:
        return _missing(
            why,
            STOP_EARLIER_RUN.format(
                indexes=", ".join(str(period.index) for period in latest_run),
                start=latest_run[0].start.isoformat(),
                end=latest_run[-1].end.isoformat(),
                below=below,
                counts=", ".join(str(period.headache_days) for period in latest_run),
            ),
        )
    since = list(itertools.takewhile(lambda p: not (p.complete and p.headache_days >= below), reversed(ended)))
    gaps = [period for period in reversed(since) if not period.complete]
    if len(since) >= need and gaps:
        return _missing(
            why,
            *(
                STOP_GAP.format(index=p.index, recorded=p.days_recorded, days=PERIOD_DAYS, minimum=MIN_RECORDED_DAYS)
                for p in gaps
            ),
            STOP_CANNOT_RULE_OUT.format(count=len(since), below=below, need=need),
        )
    return _met(True, why)


# --- Evaluation: rule texts and assembly ------------------------------------------------------------------------

_DIAGNOSIS_NAMES = {
    Diagnosis.CHRONIC_MIGRAINE: "Diagnosis: chronic migraine (ICHD-3 1.3)",
    Diagnosis.LABEL_INDICATION: "Diagnosis: BOTOX label indication",
    Diagnosis.INTRACTABLE: "Diagnosis: intractable migraine",
}
_DIAGNOSIS_RULES = {
    Diagnosis.CHRONIC_MIGRAINE: "chronic migraine by ICHD-3 1.3 (the engine's verdict on the baseline diary)",
    Diagnosis.LABEL_INDICATION: (
        "the BOTOX label's indication: an adult with chronic migraine, >= 15 days a month with headache lasting "
        ">= 4 hours (the engine's verdict on the baseline diary)"
    ),
    Diagnosis.INTRACTABLE: f"intractable chronic migraine, coded on the request: {_codes(intractable=True)}",
}
_FREQUENCY_NAMES = {
    "min_headache_days": "Headache days",
    "min_migraine_days": "Migraine days",
    "min_headache_days_4h": "Days with headache lasting 4 hours or more",
}


def _preventive_rule_text(rule: PreventiveRule) -> str:
    needs = []
    if rule.min_classes:
        counted = (
            "any class"
            if rule.classes is None
            else "; ".join(
                f"{_group_label(name)} ({', '.join(member.label for member in members)})"
                for name, members in rule.classes.items()
            )
        )
        needs.append(f">= {rule.min_classes} classes failed, counting {counted}")
    if rule.min_medicines:
        needs.append(f">= {rule.min_medicines} preventive medicines failed")
    trial = (
        f"each ineffective trial >= {rule.min_trial_days} days"
        if rule.min_trial_days is not None
        else "no minimum trial length stated"
    )
    intolerance = "intolerance counts" if rule.intolerance_counts else "intolerance does not count"
    contraindication = "contraindication counts" if rule.contraindication_counts else "contraindication does not count"
    return f"{'; '.join(needs)}; {trial}; {intolerance}; {contraindication}"


def _response_rule_text(rule: ContinuationCriteria) -> str:
    response = rule.response
    alternatives = []
    if response.min_headache_day_reduction_percent is not None:
        alternatives.append(f">= {response.min_headache_day_reduction_percent} % fewer headache days than the baseline")
    if response.min_migraine_day_reduction_percent is not None:
        alternatives.append(f">= {response.min_migraine_day_reduction_percent} % fewer migraine days than the baseline")
    if response.min_fewer_headache_days is not None:
        alternatives.append(f">= {response.min_fewer_headache_days} fewer headache days than the baseline")
    if response.min_fewer_headache_hours is not None:
        alternatives.append(f">= {response.min_fewer_headache_hours} fewer headache hours than the baseline")
    if response.prescriber_attests_benefit:
        alternatives.append("clinical benefit as judged by the prescriber")
    first = CYCLE_PERIODS * rule.after_cycles
    week = first * PERIOD_DAYS // 7
    where = (
        f"in period {first} (week {week})"
        if rule.judged_on is JudgedOn.AFTER_CYCLES
        else f"in the latest complete period from period {first} (week {week}) on"
    )
    needed = alternatives[0] if len(alternatives) == 1 else f"any of: {'; '.join(alternatives)}"
    return f"{where}, {needed}"


def _unconfirmed(policy: CoveragePolicy, fields: Sequence[str]) -> tuple[str, ...]:
    """The policy's unconfirmed entries touching these fields (a field, or a table holding it, or inside it)."""
    return tuple(
        entry
        for entry in policy.unconfirmed
        if any(entry == f or f.startswith(entry + ".") or entry.startswith(f + ".") for f in fields)
    )


def approval_length(policy: CoveragePolicy, stage: Stage | str) -> tuple[int | None, tuple[str, ...]]:
    """How long an approval at ``stage`` lasts under ``policy``, in months (None when the policy sets none), and the
    policy's unconfirmed entries behind that length (the field itself, or a table holding it): a length no source
    gave must not be presented as the payer's answer."""
    stage = Stage(stage)
    if stage is Stage.INITIAL:
        months = policy.initial.approval_months
    else:
        months = policy.continuation.approval_months if policy.continuation is not None else None
    if months is None:
        return None, ()
    return months, _unconfirmed(policy, (f"{stage.value}.approval_months",))


@dataclass
class _Collector:
    policy: CoveragePolicy
    results: list[CriterionResult] = field(default_factory=list)

    def add(
        self,
        key: str,
        name: str,
        judgement: _Judgement,
        rule: str,
        *,
        source: Source,
        text: str,
        fields: Sequence[str],
    ) -> None:
        unconfirmed = _unconfirmed(self.policy, fields)
        shown = f"{rule} (UNCONFIRMED: {', '.join(unconfirmed)})" if unconfirmed else rule
        self.results.append(
            CriterionResult(
                key, name, judgement.outcome, judgement.evidence, shown, text, source, unconfirmed, plain_rule=rule
            )
        )


def _initial_criteria(collect: _Collector, evidence: CoverageEvidence, today: date) -> None:
    initial = collect.policy.initial
    age = initial.age
    collect.add(
        "initial.age",
        "Minimum age",
        _age(age, evidence, today),
        f"age >= {age.min_years} years on the request date",
        source=age.source,
        text=age.text,
        fields=("initial.age.min_years",),
    )
    for diagnosis in initial.diagnosis.requires:
        collect.add(
            f"initial.diagnosis.{diagnosis.value}",
            _DIAGNOSIS_NAMES[diagnosis],
            _diagnosis(diagnosis, evidence),
            _DIAGNOSIS_RULES[diagnosis],
            source=initial.diagnosis.source,
            text=initial.diagnosis.text,
            fields=("initial.diagnosis.requires",),
        )
    frequency = initial.frequency
    if frequency is not None:
        for key, (_, what) in _FREQUENCY_MEASURES.items():
            threshold = getattr(frequency, key)
            if threshold is None:
                continue
            collect.add(
                f"initial.frequency.{key}",
                _FREQUENCY_NAMES[key],
                _frequency_judgement(frequency, key, threshold, evidence),
                f"each of the last {frequency.periods} periods of {PERIOD_DAYS} days has >= {threshold} {what}",
                source=frequency.source,
                text=frequency.text,
                fields=(f"initial.frequency.{key}", "initial.frequency.periods"),
            )
    preventives = initial.prior_preventives
    if preventives is not None:
        collect.add(
            "initial.prior_preventives",
            "Failed preventive treatments",
            _preventive_judgement(preventives, evidence, today),
            _preventive_rule_text(preventives),
            source=preventives.source,
            text=preventives.text,
            fields=("initial.prior_preventives",),
        )
    if initial.medication_overuse is not None:
        collect.add(
            "initial.medication_overuse",
            "Medication overuse managed",
            _overuse_judgement(evidence),
            "medication overuse (ICHD-3 8.2) managed before treatment",
            source=initial.medication_overuse.source,
            text=initial.medication_overuse.text,
            fields=("initial.medication_overuse.must_be_managed",),
        )
    cgrp = initial.cgrp_mab
    if cgrp is not None:
        collect.add(
            "initial.cgrp_mab",
            "Combination with a CGRP monoclonal antibody",
            _cgrp_judgement(cgrp, evidence),
            (
                "combination with a CGRP monoclonal antibody allowed"
                if cgrp.combination_allowed
                else "not used together with a CGRP monoclonal antibody"
            ),
            source=cgrp.source,
            text=cgrp.text,
            fields=("initial.cgrp_mab.combination_allowed",),
        )


def _session_criteria(collect: _Collector, evidence: CoverageEvidence, stage: Stage) -> None:
    session = collect.policy.session
    if session is None:
        return
    if session.max_units is not None:
        collect.add(
            "session.max_units",
            "Dose cap",
            _dose_judgement(session.max_units, evidence),
            f"at most {session.max_units} U per session",
            source=session.source,
            text=session.text,
            fields=("session.max_units",),
        )
    if session.min_interval_days is not None:
        collect.add(
            "session.min_interval_days",
            "Minimum interval",
            _interval_judgement(session.min_interval_days, evidence, stage),
            f"at least {session.min_interval_days} days after the previous session",
            source=session.source,
            text=session.text,
            fields=("session.min_interval_days",),
        )


def _continuation_criteria(collect: _Collector, evidence: CoverageEvidence) -> None:
    continuation = collect.policy.continuation
    if continuation is not None:
        collect.add(
            "continuation.after_cycles",
            "Treatment cycles given",
            _cycles_judgement(continuation, evidence),
            f"at least {continuation.after_cycles} treatment cycles given",
            source=continuation.source,
            text=continuation.text,
            fields=("continuation.after_cycles",),
        )
        collect.add(
            "continuation.response",
            "Response",
            _response_judgement(continuation, evidence),
            _response_rule_text(continuation),
            source=continuation.response.source,
            text=continuation.response.text,
            fields=("continuation.response", "continuation.after_cycles"),
        )
    stopping = collect.policy.stopping
    if stopping is not None:
        collect.add(
            "stopping.episodic",
            "Not reverted to episodic migraine",
            _stopping_judgement(stopping, evidence),
            (
                f"stop when each of {stopping.episodic_periods} consecutive periods has < "
                f"{stopping.episodic_below_headache_days} headache days"
            ),
            source=stopping.source,
            text=stopping.text,
            fields=("stopping",),
        )


def stage_due(policy: CoveragePolicy | None, sessions_given: int) -> Stage:
    """The stage a request under ``policy`` is at with ``sessions_given`` sessions given: continuation once they reach
    the policy's ``continuation.after_cycles`` (a continuation is judged after that many cycles: NICE TA260 and
    Medicare L34635 stop after 2 cycles without response), initial before. A policy without continuation criteria
    (and no policy at all) states only initial criteria, so every request is initial. ``evaluate_coverage`` still
    judges a continuation asked for earlier, its cycles criterion then saying the continuation is not due yet.
    Raises ``EvidenceError`` for a count below 0."""
    if sessions_given < 0:
        raise EvidenceError(NEGATIVE_SESSIONS.format(got=sessions_given))
    if policy is None or policy.continuation is None or sessions_given < policy.continuation.after_cycles:
        return Stage.INITIAL
    return Stage.CONTINUATION


def evaluate_coverage(
    policy: CoveragePolicy, evidence: CoverageEvidence, *, stage: Stage | str, today: date
) -> CoverageEvaluation:
    """Judge one patient against one policy at one stage on ``today``: every criterion with its evidence, rule and
    source, and the overall status (any not met: not approvable; else any missing: information missing; else
    approvable). Never a bare yes or no: read the criteria.

    Initial: minimum age, required diagnoses, headache/migraine/4-hour day thresholds per period, failed prior
    preventives, medication overuse managed, CGRP monoclonal antibody combination, then the session limits.
    Continuation: the session limits, cycles given, the any-of response against the baseline, the stopping rule.
    """
    stage = Stage(stage)
    collect = _Collector(policy)
    notes = []
    if stage is Stage.INITIAL:
        _initial_criteria(collect, evidence, today)
        _session_criteria(collect, evidence, stage)
    else:
        _session_criteria(collect, evidence, stage)
        _continuation_criteria(collect, evidence)
        if policy.continuation is None:
            notes.append(NOTE_NO_CONTINUATION)
    approval, approval_unconfirmed = approval_length(policy, stage)
    outcome = _combine(*(_Judgement(result.outcome, ()) for result in collect.results))
    status = {
        CriterionOutcome.MET: CoverageStatus.APPROVABLE,
        CriterionOutcome.NOT_MET: CoverageStatus.NOT_APPROVABLE,
        CriterionOutcome.MISSING_INFORMATION: CoverageStatus.INFORMATION_MISSING,
    }[outcome]
    evaluation = CoverageEvaluation(
        policy_id=policy.id,
        policy_title=policy.title,
        stage=stage,
        today=today,
        status=status,
        criteria=tuple(collect.results),
        approval_months=approval,
        notes=(),
        approval_unconfirmed=approval_unconfirmed,
    )
    if evaluation.approval_note:
        notes.append(evaluation.approval_note)
    return replace(evaluation, notes=tuple(notes))
