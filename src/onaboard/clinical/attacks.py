"""One headache attack's features -> its ICHD-3 diagnosis, saying which criteria could not be decided.

Source: Headache Classification Committee of the International Headache Society, The International
Classification of Headache Disorders, 3rd edition (ICHD-3), Cephalalgia 2018;38(1):1-211, final 2018
version (1.2 C is "at least three of six characteristics"; the 2013 beta's "two of four" is not used).

Scope: 1.1, 1.2 with its subtypes 1.2.1.1, 1.2.1.2, 1.2.2, 1.2.3.1, 1.2.3.2 and 1.2.4, 1.5.1, 1.5.2 and
2.1-2.3. Secondary headaches, 1.3 chronic migraine (a diary-level diagnosis), 2.4 probable tension-type
headache and the "not better accounted for" criteria (1.1 E, 1.2 D, 2.x E) are outside it: the caller
owns the clinical work-up those need.

How unknowns are handled. Every feature may be ``None`` (not asked, not recorded). Each criterion is then
met, not met or unknown (three-valued logic), and nothing unknown is assumed. The classifier works out
every diagnosis the unknown features leave possible, walking the ICHD-3 hierarchy (aura subtypes, then
1.1, then 2.x, then 1.5, because "definite diagnoses always trump probable diagnoses", ICHD-3 2.2
comment) and returns the deepest ICHD-3 code those diagnoses share: "1.2.1" when only the headache's
timing after a typical aura is missing, "1" (migraine) when only the attack count separates 1.1 from
1.5.1, "unclassifiable" when the possibilities span groups. ``provisional`` then says that more
information could change the code, ``possible_codes`` lists what is still open and ``unknown`` lists the
criteria that kept it open.

Exact where it matters: the few features that decide between sibling codes (attack count, headache days a
month, months at that frequency, headache, aura, headache within 60 min of aura, family history of
hemiplegic migraine) are tried at each of their decisive values rather than treated as independent
unknowns. Other unknowns are treated as independent, so ``possible_codes`` can list a code that a
combination of answers would rule out; the returned code is then less specific, never wrong.

Pure: frozen dataclasses and StrEnums in, a frozen dataclass out; no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from onaboard.clinical.diary import Intensity

__all__ = [
    "AURA_MIN_CHARACTERISTICS",
    "AURA_MIN_SYMPTOM_TYPES",
    "BRAINSTEM_AURA_MIN_SYMPTOMS",
    "DIAGNOSIS_NAMES",
    "ICHD_ADULT_AGE_YEARS",
    "MIGRAINE_MAX_HOURS",
    "MIGRAINE_MIN_HOURS",
    "MIGRAINE_MIN_HOURS_UNDER_18",
    "MIGRAINE_MIN_PAIN_CHARACTERISTICS",
    "MIGRAINE_WITHOUT_AURA_MIN_ATTACKS",
    "MIGRAINE_WITH_AURA_MIN_ATTACKS",
    "PROBABLE_MIGRAINE_WITHOUT_AURA_MIN_MET",
    "PROBABLE_MIGRAINE_WITH_AURA_MIN_MET",
    "RETINAL_MIN_CHARACTERISTICS",
    "TTH_CHRONIC_MIN_DAYS_PER_MONTH",
    "TTH_CHRONIC_MIN_HOURS",
    "TTH_EPISODIC_MAX_HOURS",
    "TTH_EPISODIC_MIN_HOURS",
    "TTH_INFREQUENT_MAX_DAYS_PER_MONTH",
    "TTH_MIN_EPISODES",
    "TTH_MIN_MONTHS_EXCLUSIVE",
    "TTH_MIN_PAIN_CHARACTERISTICS",
    "AttackDiagnosis",
    "AttackFeatures",
    "Criterion",
    "CriterionStatus",
    "DiagnosisCode",
    "classify_attack",
]

# --- Thresholds (ICHD-3, Cephalalgia 2018;38(1):1-211) -------------------------------------------------

MIGRAINE_WITHOUT_AURA_MIN_ATTACKS = 5
"""1.1 A: at least five attacks fulfilling B-D."""
MIGRAINE_MIN_HOURS = 4.0
"""1.1 B: attacks last 4-72 h (untreated or unsuccessfully treated)."""
MIGRAINE_MIN_HOURS_UNDER_18 = 2.0
"""1.1 B, note 2: in children and adolescents (under 18) attacks may last 2-72 h."""
MIGRAINE_MAX_HOURS = 72.0
"""1.1 B: upper bound of an attack."""
ICHD_ADULT_AGE_YEARS = 18
"""1.1 B, note 2: the 2 h lower bound applies below this age."""
MIGRAINE_MIN_PAIN_CHARACTERISTICS = 2
"""1.1 C: at least two of unilateral, pulsating, moderate or severe, aggravated by routine activity."""
MIGRAINE_WITH_AURA_MIN_ATTACKS = 2
"""1.2 A: at least two attacks fulfilling B and C."""
AURA_MIN_SYMPTOM_TYPES = 1
"""1.2 B: one or more fully reversible aura symptoms."""
AURA_MIN_CHARACTERISTICS = 3
"""1.2 C (final 2018): at least three of the six aura characteristics."""
BRAINSTEM_AURA_MIN_SYMPTOMS = 2
"""1.2.2 B1: at least two fully reversible brainstem symptoms."""
RETINAL_MIN_CHARACTERISTICS = 2
"""1.2.4 B2: at least two of gradual spread, 5-60 min, headache within 60 min."""
PROBABLE_MIGRAINE_WITHOUT_AURA_MIN_MET = 3
"""1.5.1 A: all but one of 1.1 A-D."""
PROBABLE_MIGRAINE_WITH_AURA_MIN_MET = 2
"""1.5.2 A: all but one of 1.2 A-C."""
TTH_MIN_EPISODES = 10
"""2.1 A, 2.2 A: at least ten episodes."""
TTH_INFREQUENT_MAX_DAYS_PER_MONTH = 1.0
"""2.1 A: on fewer than 1 day a month on average (< 12 days a year); 2.2 A starts here."""
TTH_CHRONIC_MIN_DAYS_PER_MONTH = 15.0
"""2.3 A: on 15 or more days a month on average; 2.2 A ends below it (1-14 days)."""
TTH_MIN_MONTHS_EXCLUSIVE = 3
"""2.2 A, 2.3 A: for more than 3 months."""
TTH_EPISODIC_MIN_HOURS = 0.5
"""2.1 B, 2.2 B: lasting from 30 min ..."""
TTH_EPISODIC_MAX_HOURS = 7 * 24.0
"""2.1 B, 2.2 B: ... to 7 days."""
TTH_CHRONIC_MIN_HOURS = 1.0
"""2.3 B says "lasting hours to days, or unremitting" without a number; read here as at least 1 h."""
TTH_MIN_PAIN_CHARACTERISTICS = 2
"""2.x C: at least two of bilateral, pressing or tightening, mild or moderate, not aggravated."""
TTH_EPISODIC_MAX_PHOTO_PHONO = 1
"""2.1 D2, 2.2 D2: no more than one of photophobia or phonophobia."""
TTH_CHRONIC_MAX_MILD_SYMPTOMS = 1
"""2.3 D1: no more than one of photophobia, phonophobia or mild nausea."""
MAX_DAYS_PER_MONTH = 31.0
"""Upper bound of a monthly average of headache days, for input checking."""

# --- Texts ----------------------------------------------------------------------------------------------

NOT_RECORDED = "not recorded"
NONE_LISTED = "none"
YES = "yes"
NO = "no"

COUNT_REASON = "ICHD-3 {ref}: {met} of {total} {label} ({names}) (>= {minimum})"
AT_MOST_REASON = "ICHD-3 {ref}: {met} of {label} ({names}) (<= {maximum})"
NOT_RECORDED_SUFFIX = "; not recorded: {names}"
NO_HEADACHE_REASON = "ICHD-3 {ref}: no headache"
ATTACKS_REASON = "ICHD-3 {ref}: {count} attacks (>= {minimum})"
ATTACKS_UNKNOWN_REASON = "ICHD-3 {ref}: number of attacks not recorded (>= {minimum})"
WITHOUT_AURA_REASON = "ICHD-3 {ref}: attack without aura (aura: {aura})"
MIGRAINE_DURATION_REASON = "ICHD-3 1.1 B: attack {duration} (needs {low:g}-{high:g} h{age_note})"
AGE_NOTE = " at age {age}"
AGE_UNKNOWN_NOTE = ", or {low:g}-{high:g} h under {adult}; age not recorded"
NAUSEA_ROUTE_REASON = (
    "ICHD-3 1.1 D: nausea {nausea}, vomiting {vomiting}, photophobia {photophobia}, phonophobia {phonophobia} "
    "(needs nausea or vomiting, or photophobia and phonophobia)"
)
AURA_PRESENT_TYPES_UNKNOWN_REASON = "ICHD-3 1.2 B: aura present, symptom types not recorded (>= {minimum})"
TYPICAL_AURA_REASON = (
    "ICHD-3 1.2.1 B: visual, sensory or speech/language symptoms {typical}; motor {motor}, "
    "brainstem {brainstem}, retinal {retinal} (needs the first and none of the others)"
)
HEADACHE_AFTER_AURA_REASON = "ICHD-3 1.2.1.1 B: headache accompanies or follows the aura within 60 min: {value}"
NO_HEADACHE_AFTER_AURA_REASON = "ICHD-3 1.2.1.2 B: no headache accompanies or follows the aura within 60 min: {value}"
BRAINSTEM_AURA_REASON = (
    "ICHD-3 1.2.2 B: {met} of 7 brainstem symptoms ({names}) (>= {minimum}); motor {motor}, "
    "retinal {retinal} (needs neither)"
)
HEMIPLEGIC_REASON = (
    "ICHD-3 1.2.3 B: motor weakness {motor}; visual, sensory or speech/language symptoms {typical} (needs both)"
)
FAMILIAL_REASON = "ICHD-3 1.2.3.1 B: first- or second-degree relative with hemiplegic migraine: {value}"
SPORADIC_REASON = "ICHD-3 1.2.3.2 B: no first- or second-degree relative with hemiplegic migraine: {value}"
RETINAL_REASON = (
    "ICHD-3 1.2.4 B: monocular (retinal) visual aura {retinal}; {met} of 3 characteristics ({names}) (>= {minimum})"
)
NO_SUBTYPE_REASON = (
    "ICHD-3 1.2: aura fits no subtype (1.2.1 B {typical}, 1.2.2 B {brainstem}, 1.2.3 B {hemiplegic}, 1.2.4 B {retinal})"
)
TTH_INFREQUENT_REASON = (
    "ICHD-3 2.1 A: episodes {episodes} (>= {min_episodes}), headache days a month {days} (< {max_days:g})"
)
TTH_FREQUENT_REASON = (
    "ICHD-3 2.2 A: episodes {episodes} (>= {min_episodes}), headache days a month {days} "
    "({min_days:g} to < {max_days:g}), months at that frequency {months} (> {min_months})"
)
TTH_CHRONIC_REASON = (
    "ICHD-3 2.3 A: headache days a month {days} (>= {min_days:g}), months at that frequency {months} (> {min_months})"
)
TTH_EPISODIC_DURATION_REASON = "ICHD-3 {ref}: attack {duration} (needs {low:g}-{high:g} h)"
TTH_CHRONIC_DURATION_REASON = "ICHD-3 2.3 B: attack {duration} (needs >= {low:g} h, or unremitting)"
TTH_EPISODIC_NAUSEA_REASON = (
    "ICHD-3 {ref}: nausea {nausea}, vomiting {vomiting}, {photo_phono} of photophobia/phonophobia "
    "(needs no nausea, no vomiting and <= {maximum} of photophobia/phonophobia)"
)
TTH_CHRONIC_NAUSEA_REASON = (
    "ICHD-3 2.3 D: {mild} of photophobia, phonophobia, mild nausea (<= {maximum}); moderate or severe "
    "nausea {severe_nausea}, vomiting {vomiting} (needs neither)"
)

DURATION_EXACT = "lasts {low:g} h"
DURATION_RANGE = "lasts {low:g}-{high:g} h"
DURATION_AT_LEAST = "lasts >= {low:g} h"
DURATION_AT_MOST = "lasts <= {high:g} h"
DURATION_UNKNOWN = "duration not recorded"

DEFINITE_SUMMARY = "ICHD-3 {code} {name}: criteria met"
PROVISIONAL_SUMMARY = "ICHD-3 {code} {name}, provisional: {codes} remain possible until the missing criteria are known"
UNDECIDED_SUMMARY = "Undecided: {codes} remain possible until the missing criteria are known"
UNCLASSIFIABLE_SUMMARY = "Unclassifiable: no ICHD-3 diagnosis in scope (1.1, 1.2 and its subtypes, 1.5, 2.1-2.3) is met"
RULED_OUT_REASON = "Not {codes}: {reason}"
MISSING_REASON = "Missing: {reason}"

NEGATIVE_VALUE_ERROR = "{field} must not be negative, got {value}"
ATTACK_COUNT_ERROR = "attack_count counts this attack too, so it must be at least 1, got {value}"
DAYS_PER_MONTH_ERROR = "headache_days_per_month must be at most {maximum:g}, got {value}"
DURATION_ORDER_ERROR = "duration_hours_min ({low}) is greater than duration_hours_max ({high})"
NO_HEADACHE_CONTRADICTION_ERROR = "headache is False but {field} describes a headache"
NO_AURA_CONTRADICTION_ERROR = "aura is False but {field} is True"
EMPTY_AURA_ERROR = "aura is True but every aura symptom is False"
NAUSEA_CONTRADICTION_ERROR = "nausea is False but nausea_moderate_or_severe is True"


# --- Values ---------------------------------------------------------------------------------------------


class CriterionStatus(StrEnum):
    """Whether one ICHD-3 criterion holds for the attack, given what is known."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class DiagnosisCode(StrEnum):
    """ICHD-3 codes the classifier can return, including the parent codes shared by undecided siblings."""

    MIGRAINE = "1"
    MIGRAINE_WITHOUT_AURA = "1.1"
    MIGRAINE_WITH_AURA = "1.2"
    MIGRAINE_WITH_TYPICAL_AURA = "1.2.1"
    TYPICAL_AURA_WITH_HEADACHE = "1.2.1.1"
    TYPICAL_AURA_WITHOUT_HEADACHE = "1.2.1.2"
    MIGRAINE_WITH_BRAINSTEM_AURA = "1.2.2"
    HEMIPLEGIC_MIGRAINE = "1.2.3"
    FAMILIAL_HEMIPLEGIC_MIGRAINE = "1.2.3.1"
    SPORADIC_HEMIPLEGIC_MIGRAINE = "1.2.3.2"
    RETINAL_MIGRAINE = "1.2.4"
    PROBABLE_MIGRAINE = "1.5"
    PROBABLE_MIGRAINE_WITHOUT_AURA = "1.5.1"
    PROBABLE_MIGRAINE_WITH_AURA = "1.5.2"
    TENSION_TYPE_HEADACHE = "2"
    INFREQUENT_EPISODIC_TTH = "2.1"
    FREQUENT_EPISODIC_TTH = "2.2"
    CHRONIC_TTH = "2.3"
    UNCLASSIFIABLE = "unclassifiable"


DIAGNOSIS_NAMES: Mapping[DiagnosisCode, str] = MappingProxyType(
    {
        DiagnosisCode.MIGRAINE: "Migraine",
        DiagnosisCode.MIGRAINE_WITHOUT_AURA: "Migraine without aura",
        DiagnosisCode.MIGRAINE_WITH_AURA: "Migraine with aura",
        DiagnosisCode.MIGRAINE_WITH_TYPICAL_AURA: "Migraine with typical aura",
        DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE: "Typical aura with headache",
        DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE: "Typical aura without headache",
        DiagnosisCode.MIGRAINE_WITH_BRAINSTEM_AURA: "Migraine with brainstem aura",
        DiagnosisCode.HEMIPLEGIC_MIGRAINE: "Hemiplegic migraine",
        DiagnosisCode.FAMILIAL_HEMIPLEGIC_MIGRAINE: "Familial hemiplegic migraine",
        DiagnosisCode.SPORADIC_HEMIPLEGIC_MIGRAINE: "Sporadic hemiplegic migraine",
        DiagnosisCode.RETINAL_MIGRAINE: "Retinal migraine",
        DiagnosisCode.PROBABLE_MIGRAINE: "Probable migraine",
        DiagnosisCode.PROBABLE_MIGRAINE_WITHOUT_AURA: "Probable migraine without aura",
        DiagnosisCode.PROBABLE_MIGRAINE_WITH_AURA: "Probable migraine with aura",
        DiagnosisCode.TENSION_TYPE_HEADACHE: "Tension-type headache",
        DiagnosisCode.INFREQUENT_EPISODIC_TTH: "Infrequent episodic tension-type headache",
        DiagnosisCode.FREQUENT_EPISODIC_TTH: "Frequent episodic tension-type headache",
        DiagnosisCode.CHRONIC_TTH: "Chronic tension-type headache",
        DiagnosisCode.UNCLASSIFIABLE: "Not classifiable from the known features",
    }
)
"""The ICHD-3 name of each code."""


@dataclass(frozen=True, slots=True)
class AttackFeatures:
    """What is known about one attack (and the similar attacks it stands for); ``None`` means not known.

    The duration is a range because patients give one: ``duration_hours_min`` / ``duration_hours_max``
    bound the untreated (or unsuccessfully treated) attack; give both the same value for an exact one, or
    leave ``duration_hours_max`` ``None`` for "unremitting". ``aura=False`` says the attack had no aura
    symptom of any kind (every aura field then counts as ``False``); ``aura=True`` with no symptom field
    set says there was aura of unrecorded type. A pain characteristic or an intensity implies a headache.
    """

    # History
    attack_count: int | None = None
    """Number of similar attacks, this one included (1.1 A, 1.2 A, 2.1 A, 2.2 A)."""
    age_years: int | None = None
    """Age at the attacks, for the under-18 2-72 h duration of 1.1 B."""
    headache_days_per_month: float | None = None
    """Average headache days a month, for the 2.1 / 2.2 / 2.3 frequency bands."""
    months_at_frequency: int | None = None
    """How many months the headaches have kept that frequency (2.2 A, 2.3 A need more than 3)."""
    family_history_hemiplegic: bool | None = None
    """A first- or second-degree relative has hemiplegic migraine (1.2.3.1 vs 1.2.3.2)."""

    # Headache
    headache: bool | None = None
    """The attack has headache (during or after any aura)."""
    duration_hours_min: float | None = None
    duration_hours_max: float | None = None
    unilateral: bool | None = None
    """Unilateral location (1.1 C1); ``False`` means bilateral (2.x C1)."""
    pulsating: bool | None = None
    """Pulsating quality (1.1 C2)."""
    pressing: bool | None = None
    """Pressing or tightening quality (2.x C2, which also needs non-pulsating)."""
    intensity: Intensity | None = None
    """Pain intensity (1.1 C3 moderate or severe; 2.x C3 mild or moderate)."""
    worse_with_activity: bool | None = None
    """Aggravated by, or causing avoidance of, routine physical activity (1.1 C4; 2.x C4 its negation)."""
    nausea: bool | None = None
    nausea_moderate_or_severe: bool | None = None
    """Nausea, if any, is moderate or severe (2.3 D allows only mild nausea)."""
    vomiting: bool | None = None
    photophobia: bool | None = None
    phonophobia: bool | None = None

    # Aura symptoms (1.2 B), each fully reversible
    aura: bool | None = None
    visual_aura: bool | None = None
    sensory_aura: bool | None = None
    speech_aura: bool | None = None
    """Speech and/or language (dysphasia, aphasia)."""
    motor_aura: bool | None = None
    """Motor weakness (1.2.3)."""
    retinal_aura: bool | None = None
    """Monocular visual phenomena confirmed by field examination or the patient's drawing (1.2.4 B1)."""
    dysarthria: bool | None = None
    vertigo: bool | None = None
    tinnitus: bool | None = None
    hypacusis: bool | None = None
    diplopia: bool | None = None
    ataxia: bool | None = None
    """Ataxia not attributable to sensory deficit."""
    decreased_consciousness: bool | None = None
    """Decreased level of consciousness (GCS <= 13)."""

    # Aura characteristics (1.2 C)
    aura_spreads_gradually: bool | None = None
    """C1: at least one aura symptom spreads gradually over >= 5 min."""
    aura_symptoms_in_succession: bool | None = None
    """C2: two or more aura symptoms occur in succession."""
    aura_symptoms_last_5_to_60_min: bool | None = None
    """C3: each individual aura symptom lasts 5-60 min."""
    aura_unilateral: bool | None = None
    """C4: at least one aura symptom is unilateral."""
    aura_positive: bool | None = None
    """C5: at least one aura symptom is positive (scintillations, pins and needles)."""
    aura_headache_within_60_min: bool | None = None
    """C6: the aura is accompanied, or followed within 60 min, by headache (also 1.2.1.1 vs 1.2.1.2)."""

    def __post_init__(self) -> None:
        for name in ("age_years", "months_at_frequency", "headache_days_per_month", *_DURATION_FIELDS):
            _refuse_negative(name, getattr(self, name))
        if self.attack_count is not None and self.attack_count < 1:
            raise ValueError(ATTACK_COUNT_ERROR.format(value=self.attack_count))
        if self.headache_days_per_month is not None and self.headache_days_per_month > MAX_DAYS_PER_MONTH:
            raise ValueError(
                DAYS_PER_MONTH_ERROR.format(maximum=MAX_DAYS_PER_MONTH, value=self.headache_days_per_month)
            )
        low, high = self.duration_hours_min, self.duration_hours_max
        if low is not None and high is not None and low > high:
            raise ValueError(DURATION_ORDER_ERROR.format(low=low, high=high))
        if self.headache is False:
            for name in (*_PAIN_FIELDS, "aura_headache_within_60_min"):
                if getattr(self, name) is True:
                    raise ValueError(NO_HEADACHE_CONTRADICTION_ERROR.format(field=name))
            if self.intensity is not None:
                raise ValueError(NO_HEADACHE_CONTRADICTION_ERROR.format(field="intensity"))
        if self.aura is False:
            for name in (*_AURA_SYMPTOM_FIELDS, *_AURA_CHARACTERISTIC_FIELDS):
                if getattr(self, name) is True:
                    raise ValueError(NO_AURA_CONTRADICTION_ERROR.format(field=name))
        if self.aura is True and all(getattr(self, name) is False for name in _AURA_SYMPTOM_FIELDS):
            raise ValueError(EMPTY_AURA_ERROR)
        if self.nausea is False and self.nausea_moderate_or_severe is True:
            raise ValueError(NAUSEA_CONTRADICTION_ERROR)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One ICHD-3 criterion applied to the attack: ``ref`` like "1.1 C", its status, and why."""

    ref: str
    status: CriterionStatus
    reason: str


@dataclass(frozen=True, slots=True)
class AttackDiagnosis:
    """The attack's ICHD-3 diagnosis and the criteria behind it.

    ``code`` is the deepest ICHD-3 code every still-possible diagnosis shares; ``provisional`` is true when
    unknown criteria leave more than one diagnosis in ``possible_codes``; ``unknown`` are those criteria;
    ``criteria`` are all the criteria applied (each once, by ``ref``); ``reasons`` explain the result in
    order: a summary, the criteria that decided it, what was ruled out above it, and what is missing.
    """

    code: DiagnosisCode
    name: str
    provisional: bool
    possible_codes: tuple[DiagnosisCode, ...]
    criteria: tuple[Criterion, ...]
    unknown: tuple[Criterion, ...]
    reasons: tuple[str, ...]


# --- Field groups ---------------------------------------------------------------------------------------

_DURATION_FIELDS = ("duration_hours_min", "duration_hours_max")
_PAIN_FIELDS = ("unilateral", "pulsating", "pressing", "worse_with_activity")
_BRAINSTEM_FIELDS = (
    "dysarthria",
    "vertigo",
    "tinnitus",
    "hypacusis",
    "diplopia",
    "ataxia",
    "decreased_consciousness",
)
_AURA_SYMPTOM_FIELDS = (
    "visual_aura",
    "sensory_aura",
    "speech_aura",
    "motor_aura",
    "retinal_aura",
    *_BRAINSTEM_FIELDS,
)
_AURA_CHARACTERISTIC_FIELDS = (
    "aura_spreads_gradually",
    "aura_symptoms_in_succession",
    "aura_symptoms_last_5_to_60_min",
    "aura_unilateral",
    "aura_positive",
    "aura_headache_within_60_min",
)
_BRAINSTEM_LABELS = ("dysarthria", "vertigo", "tinnitus", "hypacusis", "diplopia", "ataxia", "decreased consciousness")
_MODERATE_OR_SEVERE = frozenset({Intensity.MODERATE, Intensity.SEVERE})
_MILD_OR_MODERATE = frozenset({Intensity.MILD, Intensity.MODERATE})

_Tri = bool | None
"""Three-valued truth: True, False, or None for unknown."""

_STATUS: Mapping[_Tri, CriterionStatus] = MappingProxyType(
    {True: CriterionStatus.MET, False: CriterionStatus.NOT_MET, None: CriterionStatus.UNKNOWN}
)
_STATUS_WORDS: Mapping[CriterionStatus, str] = MappingProxyType(
    {CriterionStatus.MET: "met", CriterionStatus.NOT_MET: "not met", CriterionStatus.UNKNOWN: "unknown"}
)
_TRUTH: Mapping[CriterionStatus, _Tri] = MappingProxyType({status: value for value, status in _STATUS.items()})


def _refuse_negative(name: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise ValueError(NEGATIVE_VALUE_ERROR.format(field=name, value=value))


# --- Three-valued logic ---------------------------------------------------------------------------------


def _all(*values: _Tri) -> _Tri:
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else None


def _any(*values: _Tri) -> _Tri:
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else None


def _not(value: _Tri) -> _Tri:
    return None if value is None else not value


def _at_least(values: Iterable[_Tri], minimum: int) -> _Tri:
    values = tuple(values)
    met = sum(value is True for value in values)
    unknown = sum(value is None for value in values)
    if met >= minimum:
        return True
    return False if met + unknown < minimum else None


def _at_most(values: Iterable[_Tri], maximum: int) -> _Tri:
    values = tuple(values)
    met = sum(value is True for value in values)
    unknown = sum(value is None for value in values)
    if met > maximum:
        return False
    return True if met + unknown <= maximum else None


def _within(low: float | None, high: float | None, allowed_low: float, allowed_high: float) -> _Tri:
    """Whether a duration known to lie in [low, high] (None: unbounded) lies in [allowed_low, allowed_high]."""
    low_bound = 0.0 if low is None else low
    high_bound = math.inf if high is None else high
    if low_bound >= allowed_low and high_bound <= allowed_high:
        return True
    if high_bound < allowed_low or low_bound > allowed_high:
        return False
    return None


def _yes_no(value: _Tri) -> str:
    if value is None:
        return NOT_RECORDED
    return YES if value else NO


def _number(value: float | None) -> str:
    return NOT_RECORDED if value is None else f"{value:g}"


def _criterion(ref: str, value: _Tri, reason: str) -> Criterion:
    return Criterion(ref=ref, status=_STATUS[value], reason=reason)


def _count_criterion(ref: str, label: str, items: Sequence[tuple[str, _Tri]], minimum: int) -> Criterion:
    """An "at least ``minimum`` of these" criterion, naming the ones met and the ones not recorded."""
    met = [name for name, value in items if value is True]
    unknown = [name for name, value in items if value is None]
    reason = COUNT_REASON.format(
        ref=ref, met=len(met), total=len(items), label=label, names=", ".join(met) or NONE_LISTED, minimum=minimum
    )
    if unknown:
        reason += NOT_RECORDED_SUFFIX.format(names=", ".join(unknown))
    return _criterion(ref, _at_least((value for _, value in items), minimum), reason)


def _duration_text(features: AttackFeatures) -> str:
    low, high = features.duration_hours_min, features.duration_hours_max
    if low is None and high is None:
        return DURATION_UNKNOWN
    if low is None:
        return DURATION_AT_MOST.format(high=high)
    if high is None:
        return DURATION_AT_LEAST.format(low=low)
    if low == high:
        return DURATION_EXACT.format(low=low)
    return DURATION_RANGE.format(low=low, high=high)


# --- Derived facts --------------------------------------------------------------------------------------


def _brainstem(features: AttackFeatures) -> tuple[tuple[str, _Tri], ...]:
    return tuple(
        (label, getattr(features, name)) for label, name in zip(_BRAINSTEM_LABELS, _BRAINSTEM_FIELDS, strict=True)
    )


def _any_brainstem(features: AttackFeatures) -> _Tri:
    return _any(*(value for _, value in _brainstem(features)))


def _typical_symptoms(features: AttackFeatures) -> _Tri:
    """Visual, sensory and/or speech/language aura symptoms (1.2.1 B1, 1.2.3 B2)."""
    return _any(features.visual_aura, features.sensory_aura, features.speech_aura)


def _normalise(features: AttackFeatures) -> AttackFeatures:
    """Fill in what the other features imply: a described pain is a headache; no aura means no aura symptom."""
    changes: dict[str, bool] = {}
    describes_headache = (
        features.intensity is not None
        or features.aura_headache_within_60_min is True
        or any(getattr(features, name) is True for name in _PAIN_FIELDS)
    )
    headache = True if features.headache is None and describes_headache else features.headache
    symptoms = tuple(getattr(features, name) for name in _AURA_SYMPTOM_FIELDS)
    characteristics = tuple(getattr(features, name) for name in _AURA_CHARACTERISTIC_FIELDS)
    aura = features.aura
    if aura is None and any(value is True for value in (*symptoms, *characteristics)):
        aura = True
    elif aura is None and all(value is False for value in symptoms):
        aura = False
    if aura is False:
        changes.update(
            {
                name: False
                for name in (*_AURA_SYMPTOM_FIELDS, *_AURA_CHARACTERISTIC_FIELDS)
                if getattr(features, name) is None
            }
        )
    if headache is False and features.aura_headache_within_60_min is None:
        changes["aura_headache_within_60_min"] = False
    if headache is not features.headache and headache is not None:
        changes["headache"] = headache
    if aura is not features.aura and aura is not None:
        changes["aura"] = aura
    return replace(features, **changes) if changes else features


# --- 1.1 Migraine without aura -------------------------------------------------------------------------


def _without_aura_criterion(features: AttackFeatures, ref: str) -> Criterion:
    """ICHD-3 1.1 (title) and 1.5.1: the attack has no aura."""
    reason = WITHOUT_AURA_REASON.format(ref=ref, aura=_yes_no(features.aura))
    return _criterion(ref, _not(features.aura), reason)


def _attack_count_criterion(features: AttackFeatures, ref: str, minimum: int) -> Criterion:
    """ICHD-3 1.1 A / 1.2 A: enough similar attacks."""
    count = features.attack_count
    if count is None:
        return _criterion(ref, None, ATTACKS_UNKNOWN_REASON.format(ref=ref, minimum=minimum))
    return _criterion(ref, count >= minimum, ATTACKS_REASON.format(ref=ref, count=count, minimum=minimum))


def _migraine_duration_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.1 B: attacks last 4-72 h untreated; 2-72 h under 18 (1.1 note 2)."""
    ref = "1.1 B"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    low, high = features.duration_hours_min, features.duration_hours_max
    adult = _within(low, high, MIGRAINE_MIN_HOURS, MIGRAINE_MAX_HOURS)
    young = _within(low, high, MIGRAINE_MIN_HOURS_UNDER_18, MIGRAINE_MAX_HOURS)
    age = features.age_years
    if age is None:
        value: _Tri = True if adult else (False if young is False else None)
        age_note = (
            AGE_UNKNOWN_NOTE.format(
                low=MIGRAINE_MIN_HOURS_UNDER_18, high=MIGRAINE_MAX_HOURS, adult=ICHD_ADULT_AGE_YEARS
            )
            if adult is not young
            else ""
        )
        minimum = MIGRAINE_MIN_HOURS
    else:
        under_18 = age < ICHD_ADULT_AGE_YEARS
        value = young if under_18 else adult
        age_note = AGE_NOTE.format(age=age)
        minimum = MIGRAINE_MIN_HOURS_UNDER_18 if under_18 else MIGRAINE_MIN_HOURS
    reason = MIGRAINE_DURATION_REASON.format(
        duration=_duration_text(features), low=minimum, high=MIGRAINE_MAX_HOURS, age_note=age_note
    )
    return _criterion(ref, value, reason)


def _migraine_pain_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.1 C: at least two of unilateral, pulsating, moderate or severe, aggravated by activity."""
    ref = "1.1 C"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    intensity = None if features.intensity is None else features.intensity in _MODERATE_OR_SEVERE
    items = (
        ("unilateral", features.unilateral),
        ("pulsating", features.pulsating),
        ("moderate or severe", intensity),
        ("aggravated by routine activity", features.worse_with_activity),
    )
    return _count_criterion(ref, "pain characteristics", items, MIGRAINE_MIN_PAIN_CHARACTERISTICS)


def _migraine_symptoms_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.1 D: nausea and/or vomiting, or photophobia and phonophobia."""
    ref = "1.1 D"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    value = _any(features.nausea, features.vomiting, _all(features.photophobia, features.phonophobia))
    reason = NAUSEA_ROUTE_REASON.format(
        nausea=_yes_no(features.nausea),
        vomiting=_yes_no(features.vomiting),
        photophobia=_yes_no(features.photophobia),
        phonophobia=_yes_no(features.phonophobia),
    )
    return _criterion(ref, value, reason)


def _migraine_without_aura_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.1 Migraine without aura: no aura, and criteria A-D (E is the caller's work-up)."""
    return (
        _without_aura_criterion(features, "1.1 (without aura)"),
        _attack_count_criterion(features, "1.1 A", MIGRAINE_WITHOUT_AURA_MIN_ATTACKS),
        _migraine_duration_criterion(features),
        _migraine_pain_criterion(features),
        _migraine_symptoms_criterion(features),
    )


# --- 1.2 Migraine with aura and its subtypes -----------------------------------------------------------


def _aura_symptoms_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2 B: one or more fully reversible visual, sensory, speech, motor, brainstem, retinal symptoms."""
    ref = "1.2 B"
    items = (
        ("visual", features.visual_aura),
        ("sensory", features.sensory_aura),
        ("speech/language", features.speech_aura),
        ("motor", features.motor_aura),
        ("brainstem", _any_brainstem(features)),
        ("retinal", features.retinal_aura),
    )
    if features.aura is True and not any(value is True for _, value in items):
        return _criterion(ref, True, AURA_PRESENT_TYPES_UNKNOWN_REASON.format(minimum=AURA_MIN_SYMPTOM_TYPES))
    return _count_criterion(ref, "aura symptom types", items, AURA_MIN_SYMPTOM_TYPES)


def _aura_characteristics_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2 C (final 2018): at least three of the six aura characteristics."""
    items = (
        ("spreads gradually over >= 5 min", features.aura_spreads_gradually),
        ("symptoms in succession", features.aura_symptoms_in_succession),
        ("each symptom 5-60 min", features.aura_symptoms_last_5_to_60_min),
        ("unilateral", features.aura_unilateral),
        ("positive", features.aura_positive),
        ("headache within 60 min", features.aura_headache_within_60_min),
    )
    return _count_criterion("1.2 C", "aura characteristics", items, AURA_MIN_CHARACTERISTICS)


def _migraine_with_aura_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.2 Migraine with aura, criteria A-C (D is the caller's work-up)."""
    return (
        _attack_count_criterion(features, "1.2 A", MIGRAINE_WITH_AURA_MIN_ATTACKS),
        _aura_symptoms_criterion(features),
        _aura_characteristics_criterion(features),
    )


def _typical_aura_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2.1 B: visual, sensory and/or speech/language aura, and no motor, brainstem or retinal aura."""
    typical = _typical_symptoms(features)
    brainstem = _any_brainstem(features)
    value = _all(typical, _not(features.motor_aura), _not(brainstem), _not(features.retinal_aura))
    reason = TYPICAL_AURA_REASON.format(
        typical=_yes_no(typical),
        motor=_yes_no(features.motor_aura),
        brainstem=_yes_no(brainstem),
        retinal=_yes_no(features.retinal_aura),
    )
    return _criterion("1.2.1 B", value, reason)


def _typical_aura_with_headache_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.2.1.1 Typical aura with headache: 1.2.1, and headache within 60 min of the aura (B)."""
    value = features.aura_headache_within_60_min
    return (_criterion("1.2.1.1 B", value, HEADACHE_AFTER_AURA_REASON.format(value=_yes_no(value))),)


def _typical_aura_without_headache_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.2.1.2 Typical aura without headache: 1.2.1, and no headache within 60 min of the aura (B)."""
    value = _not(features.aura_headache_within_60_min)
    return (_criterion("1.2.1.2 B", value, NO_HEADACHE_AFTER_AURA_REASON.format(value=_yes_no(value))),)


def _brainstem_aura_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2.2 B: at least two brainstem symptoms, and no motor or retinal symptoms."""
    items = _brainstem(features)
    enough = _at_least((value for _, value in items), BRAINSTEM_AURA_MIN_SYMPTOMS)
    value = _all(enough, _not(features.motor_aura), _not(features.retinal_aura))
    met = [name for name, symptom in items if symptom is True]
    unknown = [name for name, symptom in items if symptom is None]
    reason = BRAINSTEM_AURA_REASON.format(
        met=len(met),
        names=", ".join(met) or NONE_LISTED,
        minimum=BRAINSTEM_AURA_MIN_SYMPTOMS,
        motor=_yes_no(features.motor_aura),
        retinal=_yes_no(features.retinal_aura),
    )
    if unknown:
        reason += NOT_RECORDED_SUFFIX.format(names=", ".join(unknown))
    return _criterion("1.2.2 B", value, reason)


def _hemiplegic_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2.3 B: fully reversible motor weakness and visual, sensory and/or speech/language symptoms."""
    typical = _typical_symptoms(features)
    value = _all(features.motor_aura, typical)
    reason = HEMIPLEGIC_REASON.format(motor=_yes_no(features.motor_aura), typical=_yes_no(typical))
    return _criterion("1.2.3 B", value, reason)


def _familial_hemiplegic_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.2.3.1 Familial hemiplegic migraine: 1.2.3, and a first- or second-degree relative has it (B)."""
    value = features.family_history_hemiplegic
    return (_criterion("1.2.3.1 B", value, FAMILIAL_REASON.format(value=_yes_no(value))),)


def _sporadic_hemiplegic_criteria(features: AttackFeatures) -> tuple[Criterion, ...]:
    """ICHD-3 1.2.3.2 Sporadic hemiplegic migraine: 1.2.3, and no first- or second-degree relative has it (B)."""
    value = _not(features.family_history_hemiplegic)
    return (_criterion("1.2.3.2 B", value, SPORADIC_REASON.format(value=_yes_no(value))),)


def _retinal_criterion(features: AttackFeatures) -> Criterion:
    """ICHD-3 1.2.4 B: monocular visual aura (B1) with at least two of spread, 5-60 min, headache (B2)."""
    items = (
        ("spreads gradually over >= 5 min", features.aura_spreads_gradually),
        ("lasts 5-60 min", features.aura_symptoms_last_5_to_60_min),
        ("headache within 60 min", features.aura_headache_within_60_min),
    )
    enough = _at_least((value for _, value in items), RETINAL_MIN_CHARACTERISTICS)
    met = [name for name, value in items if value is True]
    reason = RETINAL_REASON.format(
        retinal=_yes_no(features.retinal_aura),
        met=len(met),
        names=", ".join(met) or NONE_LISTED,
        minimum=RETINAL_MIN_CHARACTERISTICS,
    )
    return _criterion("1.2.4 B", _all(features.retinal_aura, enough), reason)


def _no_subtype_criterion(
    typical: Criterion, brainstem: Criterion, hemiplegic: Criterion, retinal: Criterion
) -> Criterion:
    """ICHD-3 1.2: the aura meets 1.2 but none of the subtypes' aura criteria (coded 1.2 itself)."""
    subtypes = (typical, brainstem, hemiplegic, retinal)
    value = _all(*(_not(_TRUTH[criterion.status]) for criterion in subtypes))
    reason = NO_SUBTYPE_REASON.format(
        typical=_STATUS_WORDS[typical.status],
        brainstem=_STATUS_WORDS[brainstem.status],
        hemiplegic=_STATUS_WORDS[hemiplegic.status],
        retinal=_STATUS_WORDS[retinal.status],
    )
    return _criterion("1.2 (no subtype)", value, reason)


# --- 2 Tension-type headache ---------------------------------------------------------------------------


def _tth_frequency_criterion(features: AttackFeatures, code: DiagnosisCode) -> Criterion:
    """ICHD-3 2.1 A / 2.2 A / 2.3 A: episode count and headache days a month for each subtype."""
    days, months, episodes = features.headache_days_per_month, features.months_at_frequency, features.attack_count
    enough_episodes = None if episodes is None else episodes >= TTH_MIN_EPISODES
    long_enough = None if months is None else months > TTH_MIN_MONTHS_EXCLUSIVE
    texts = {"episodes": _number(episodes), "days": _number(days), "months": _number(months)}
    if code is DiagnosisCode.INFREQUENT_EPISODIC_TTH:
        in_band = None if days is None else days < TTH_INFREQUENT_MAX_DAYS_PER_MONTH
        value = _all(enough_episodes, in_band)
        reason = TTH_INFREQUENT_REASON.format(
            **texts, min_episodes=TTH_MIN_EPISODES, max_days=TTH_INFREQUENT_MAX_DAYS_PER_MONTH
        )
        return _criterion("2.1 A", value, reason)
    if code is DiagnosisCode.FREQUENT_EPISODIC_TTH:
        in_band = None if days is None else TTH_INFREQUENT_MAX_DAYS_PER_MONTH <= days < TTH_CHRONIC_MIN_DAYS_PER_MONTH
        value = _all(enough_episodes, in_band, long_enough)
        reason = TTH_FREQUENT_REASON.format(
            **texts,
            min_episodes=TTH_MIN_EPISODES,
            min_days=TTH_INFREQUENT_MAX_DAYS_PER_MONTH,
            max_days=TTH_CHRONIC_MIN_DAYS_PER_MONTH,
            min_months=TTH_MIN_MONTHS_EXCLUSIVE,
        )
        return _criterion("2.2 A", value, reason)
    in_band = None if days is None else days >= TTH_CHRONIC_MIN_DAYS_PER_MONTH
    reason = TTH_CHRONIC_REASON.format(
        **texts, min_days=TTH_CHRONIC_MIN_DAYS_PER_MONTH, min_months=TTH_MIN_MONTHS_EXCLUSIVE
    )
    return _criterion("2.3 A", _all(in_band, long_enough), reason)


def _tth_duration_criterion(features: AttackFeatures, code: DiagnosisCode) -> Criterion:
    """ICHD-3 2.1 B / 2.2 B: 30 min to 7 days; 2.3 B: hours to days, or unremitting."""
    ref = f"{code} B"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    low, high = features.duration_hours_min, features.duration_hours_max
    duration = _duration_text(features)
    if code is DiagnosisCode.CHRONIC_TTH:
        value = _within(low, high, TTH_CHRONIC_MIN_HOURS, math.inf)
        return _criterion(ref, value, TTH_CHRONIC_DURATION_REASON.format(duration=duration, low=TTH_CHRONIC_MIN_HOURS))
    value = _within(low, high, TTH_EPISODIC_MIN_HOURS, TTH_EPISODIC_MAX_HOURS)
    reason = TTH_EPISODIC_DURATION_REASON.format(
        ref=ref, duration=duration, low=TTH_EPISODIC_MIN_HOURS, high=TTH_EPISODIC_MAX_HOURS
    )
    return _criterion(ref, value, reason)


def _tth_pain_criterion(features: AttackFeatures, code: DiagnosisCode) -> Criterion:
    """ICHD-3 2.x C: at least two of bilateral, pressing (non-pulsating), mild or moderate, not aggravated."""
    ref = f"{code} C"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    intensity = None if features.intensity is None else features.intensity in _MILD_OR_MODERATE
    items = (
        ("bilateral", _not(features.unilateral)),
        ("pressing or tightening, non-pulsating", _all(features.pressing, _not(features.pulsating))),
        ("mild or moderate", intensity),
        ("not aggravated by routine activity", _not(features.worse_with_activity)),
    )
    return _count_criterion(ref, "pain characteristics", items, TTH_MIN_PAIN_CHARACTERISTICS)


def _tth_symptoms_criterion(features: AttackFeatures, code: DiagnosisCode) -> Criterion:
    """ICHD-3 2.1 D / 2.2 D: no nausea or vomiting, <= 1 of photophobia/phonophobia; 2.3 D allows mild nausea."""
    ref = f"{code} D"
    if features.headache is False:
        return _criterion(ref, False, NO_HEADACHE_REASON.format(ref=ref))
    light_sound = (features.photophobia, features.phonophobia)
    if code is DiagnosisCode.CHRONIC_TTH:
        severe_nausea = _all(features.nausea, features.nausea_moderate_or_severe)
        mild_nausea = _all(features.nausea, _not(features.nausea_moderate_or_severe))
        mild = (*light_sound, mild_nausea)
        value = _all(_at_most(mild, TTH_CHRONIC_MAX_MILD_SYMPTOMS), _not(severe_nausea), _not(features.vomiting))
        reason = TTH_CHRONIC_NAUSEA_REASON.format(
            mild=_tally(mild),
            maximum=TTH_CHRONIC_MAX_MILD_SYMPTOMS,
            severe_nausea=_yes_no(severe_nausea),
            vomiting=_yes_no(features.vomiting),
        )
        return _criterion(ref, value, reason)
    value = _all(_not(features.nausea), _not(features.vomiting), _at_most(light_sound, TTH_EPISODIC_MAX_PHOTO_PHONO))
    reason = TTH_EPISODIC_NAUSEA_REASON.format(
        ref=ref,
        nausea=_yes_no(features.nausea),
        vomiting=_yes_no(features.vomiting),
        photo_phono=_tally(light_sound),
        maximum=TTH_EPISODIC_MAX_PHOTO_PHONO,
    )
    return _criterion(ref, value, reason)


def _tally(values: Sequence[_Tri]) -> str:
    met = sum(value is True for value in values)
    unknown = sum(value is None for value in values)
    return f"{met}" if not unknown else f"{met} (+{unknown} {NOT_RECORDED})"


def _tension_type_criteria(features: AttackFeatures, code: DiagnosisCode) -> tuple[Criterion, ...]:
    """ICHD-3 2.1 / 2.2 / 2.3 tension-type headache, criteria A-D of the subtype ``code`` (E is the caller's)."""
    return (
        _tth_frequency_criterion(features, code),
        _tth_duration_criterion(features, code),
        _tth_pain_criterion(features, code),
        _tth_symptoms_criterion(features, code),
    )


# --- 1.5 Probable migraine -----------------------------------------------------------------------------


def _probable_without_aura_criterion(migraine_without_aura: Sequence[Criterion]) -> Criterion:
    """ICHD-3 1.5.1 A: all but one of 1.1 A-D (1.5 B: no other diagnosis, applied by the hierarchy)."""
    items = tuple((criterion.ref.removeprefix("1.1 "), _TRUTH[criterion.status]) for criterion in migraine_without_aura)
    return _count_criterion("1.5.1 A", "criteria of 1.1 A-D", items, PROBABLE_MIGRAINE_WITHOUT_AURA_MIN_MET)


def _probable_with_aura_criterion(migraine_with_aura: Sequence[Criterion]) -> Criterion:
    """ICHD-3 1.5.2 A: all but one of 1.2 A-C (1.5 B: no other diagnosis, applied by the hierarchy)."""
    items = tuple((criterion.ref.removeprefix("1.2 "), _TRUTH[criterion.status]) for criterion in migraine_with_aura)
    return _count_criterion("1.5.2 A", "criteria of 1.2 A-C", items, PROBABLE_MIGRAINE_WITH_AURA_MIN_MET)


# --- The hierarchy --------------------------------------------------------------------------------------

_Candidates = tuple[tuple[DiagnosisCode, tuple[Criterion, ...]], ...]


def _candidates(features: AttackFeatures) -> _Candidates:
    """Every diagnosis in scope with its criteria, in ICHD-3 precedence order.

    Motor aura codes as 1.2.3 (1.2.2 note 6); brainstem aura needs no motor or retinal symptoms (1.2.2 B2);
    typical aura needs none of the three (1.2.1 B2); an aura that fits no subtype stays 1.2. Definite
    diagnoses come before probable ones, so an attack meeting both 2.x and 1.5 is 2.x (ICHD-3 2.2 comment).
    """
    with_aura = _migraine_with_aura_criteria(features)
    typical = _typical_aura_criterion(features)
    brainstem = _brainstem_aura_criterion(features)
    hemiplegic = _hemiplegic_criterion(features)
    retinal = _retinal_criterion(features)
    without_aura = _migraine_without_aura_criteria(features)
    code = DiagnosisCode
    return (
        (code.FAMILIAL_HEMIPLEGIC_MIGRAINE, (*with_aura, hemiplegic, *_familial_hemiplegic_criteria(features))),
        (code.SPORADIC_HEMIPLEGIC_MIGRAINE, (*with_aura, hemiplegic, *_sporadic_hemiplegic_criteria(features))),
        (code.MIGRAINE_WITH_BRAINSTEM_AURA, (*with_aura, brainstem)),
        (code.RETINAL_MIGRAINE, (*with_aura, retinal)),
        (code.TYPICAL_AURA_WITH_HEADACHE, (*with_aura, typical, *_typical_aura_with_headache_criteria(features))),
        (
            code.TYPICAL_AURA_WITHOUT_HEADACHE,
            (*with_aura, typical, *_typical_aura_without_headache_criteria(features)),
        ),
        (code.MIGRAINE_WITH_AURA, (*with_aura, _no_subtype_criterion(typical, brainstem, hemiplegic, retinal))),
        (code.MIGRAINE_WITHOUT_AURA, without_aura),
        (code.INFREQUENT_EPISODIC_TTH, _tension_type_criteria(features, code.INFREQUENT_EPISODIC_TTH)),
        (code.FREQUENT_EPISODIC_TTH, _tension_type_criteria(features, code.FREQUENT_EPISODIC_TTH)),
        (code.CHRONIC_TTH, _tension_type_criteria(features, code.CHRONIC_TTH)),
        (code.PROBABLE_MIGRAINE_WITH_AURA, (_probable_with_aura_criterion(with_aura),)),
        (
            code.PROBABLE_MIGRAINE_WITHOUT_AURA,
            (without_aura[0], _probable_without_aura_criterion(without_aura[1:])),
        ),
    )


_PRECEDENCE: tuple[DiagnosisCode, ...] = (
    *(code for code, _ in _candidates(AttackFeatures())),
    DiagnosisCode.UNCLASSIFIABLE,
)


def _holds(criteria: Iterable[Criterion]) -> _Tri:
    return _all(*(_TRUTH[criterion.status] for criterion in criteria))


def _open_codes(candidates: _Candidates) -> list[DiagnosisCode]:
    """Walk the hierarchy: every candidate not ruled out, up to and including the first one met."""
    open_codes: list[DiagnosisCode] = []
    for code, criteria in candidates:
        holds = _holds(criteria)
        if holds is not False:
            open_codes.append(code)
        if holds:
            return open_codes
    open_codes.append(DiagnosisCode.UNCLASSIFIABLE)
    return open_codes


# Features that decide between sibling codes, tried at each decisive value when unknown (in this order),
# with when they matter. Probes come from the thresholds above so the two cannot drift apart.
_Split = tuple[str, tuple[object, ...], Callable[[AttackFeatures], bool]]
_SPLITS: tuple[_Split, ...] = (
    ("headache", (True, False), lambda features: True),
    ("aura", (True, False), lambda features: True),
    (
        "attack_count",
        tuple(sorted({1, MIGRAINE_WITH_AURA_MIN_ATTACKS, MIGRAINE_WITHOUT_AURA_MIN_ATTACKS, TTH_MIN_EPISODES})),
        lambda features: True,
    ),
    (
        "headache_days_per_month",
        (
            TTH_INFREQUENT_MAX_DAYS_PER_MONTH / 2,
            TTH_INFREQUENT_MAX_DAYS_PER_MONTH,
            TTH_CHRONIC_MIN_DAYS_PER_MONTH,
        ),
        lambda features: features.headache is not False,
    ),
    (
        "months_at_frequency",
        (TTH_MIN_MONTHS_EXCLUSIVE, TTH_MIN_MONTHS_EXCLUSIVE + 1),
        lambda features: (
            features.headache is not False
            and (
                features.headache_days_per_month is None
                or features.headache_days_per_month >= TTH_INFREQUENT_MAX_DAYS_PER_MONTH
            )
        ),
    ),
    ("aura_headache_within_60_min", (True, False), lambda features: True),
    ("family_history_hemiplegic", (True, False), lambda features: features.motor_aura is not False),
)


def _completions(features: AttackFeatures, start: int = 0) -> Iterator[AttackFeatures]:
    """The attack with each deciding unknown (``_SPLITS``) set to each of its decisive values in turn."""
    for index in range(start, len(_SPLITS)):
        name, probes, matters = _SPLITS[index]
        if getattr(features, name) is None and matters(features):
            for probe in probes:
                yield from _completions(_normalise(replace(features, **{name: probe})), index + 1)
            return
    yield features


def _common_code(codes: Sequence[DiagnosisCode]) -> DiagnosisCode:
    """The deepest ICHD-3 code shared by all ``codes`` (1.1 and 1.5.1 share 1; 2.1 and 1.5.1 share nothing)."""
    if DiagnosisCode.UNCLASSIFIABLE in codes:
        return DiagnosisCode.UNCLASSIFIABLE
    paths = [code.split(".") for code in codes]
    shared: list[str] = []
    for parts in zip(*paths, strict=False):
        if len(set(parts)) != 1:
            break
        shared.append(parts[0])
    return DiagnosisCode(".".join(shared)) if shared else DiagnosisCode.UNCLASSIFIABLE


def _unique(criteria: Iterable[Criterion]) -> tuple[Criterion, ...]:
    seen: dict[str, Criterion] = {}
    for criterion in criteria:
        seen.setdefault(criterion.ref, criterion)
    return tuple(seen.values())


def _reasons(
    code: DiagnosisCode,
    possible: Sequence[DiagnosisCode],
    candidates: _Candidates,
    unknown: Sequence[Criterion],
) -> tuple[str, ...]:
    """Summary; the criteria of a settled diagnosis; what was ruled out above it; what is missing."""
    name = DIAGNOSIS_NAMES[code]
    listed = ", ".join(possible)
    if len(possible) > 1:
        summary = (
            UNDECIDED_SUMMARY.format(codes=listed)
            if code is DiagnosisCode.UNCLASSIFIABLE
            else PROVISIONAL_SUMMARY.format(code=code, name=name, codes=listed)
        )
    elif code is DiagnosisCode.UNCLASSIFIABLE:
        summary = UNCLASSIFIABLE_SUMMARY
    else:
        summary = DEFINITE_SUMMARY.format(code=code, name=name)
    lines = [summary]
    decided = dict(candidates).get(code, ()) if len(possible) == 1 else ()
    lines.extend(criterion.reason for criterion in decided)
    last = _PRECEDENCE.index(possible[-1])
    ruled_out: dict[str, list[str]] = {}
    for candidate, criteria in candidates:
        if _PRECEDENCE.index(candidate) < last and _holds(criteria) is False:
            first_failure = next(c for c in criteria if c.status is CriterionStatus.NOT_MET)
            ruled_out.setdefault(first_failure.reason, []).append(candidate)
    lines.extend(RULED_OUT_REASON.format(codes=", ".join(codes), reason=reason) for reason, codes in ruled_out.items())
    lines.extend(MISSING_REASON.format(reason=criterion.reason) for criterion in unknown)
    return tuple(lines)


def classify_attack(features: AttackFeatures) -> AttackDiagnosis:
    """Diagnose one attack by ICHD-3 (Cephalalgia 2018;38(1):1-211), reporting unknown criteria.

    Hierarchy: 1.2.3.1, 1.2.3.2, 1.2.2, 1.2.4, 1.2.1.1, 1.2.1.2, 1.2, 1.1, 2.1, 2.2, 2.3, 1.5.2, 1.5.1; the
    first diagnosis met wins, so definite migraine beats probable and 2.x beats 1.5 (ICHD-3 2.2 comment).
    When unknown features leave several diagnoses possible, the code is the deepest one they share and
    ``provisional`` is true; nothing unknown is assumed.
    """
    base = _normalise(features)
    candidates = _candidates(base)
    found: set[DiagnosisCode] = set()
    for completion in _completions(base):
        found.update(_open_codes(_candidates(completion)))
    possible = tuple(code for code in _PRECEDENCE if code in found)
    code = _common_code(possible)
    provisional = len(possible) > 1
    unknown = (
        _unique(
            criterion
            for candidate, criteria in candidates
            if candidate in found
            for criterion in criteria
            if criterion.status is CriterionStatus.UNKNOWN
        )
        if provisional
        else ()
    )
    return AttackDiagnosis(
        code=code,
        name=DIAGNOSIS_NAMES[code],
        provisional=provisional,
        possible_codes=possible,
        criteria=_unique(criterion for _, criteria in candidates for criterion in criteria),
        unknown=unknown,
        reasons=_reasons(code, possible, candidates, unknown),
    )
