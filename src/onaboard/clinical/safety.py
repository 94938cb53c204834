"""Pre-injection safety screen for onabotulinumtoxinA in chronic migraine, and age in completed years.

Sources (BOTOX onabotulinumtoxinA US Prescribing Information; subsections of 5 and 7 are cited by title because
their numbers move between label revisions and the current full text could not be retrieved to check them):
- Boxed warning, "Distant Spread of Toxin Effect" (openFDA label record for onabotulinumtoxinA).
- 4 Contraindications: known hypersensitivity to any botulinum toxin product or formulation component; infection
  at the proposed injection site(s).
- Warnings and Precautions: "Increased Risk of Clinically Significant Effects with Pre-Existing Neuromuscular
  Disorders" (peripheral motor neuropathic diseases, ALS, neuromuscular junction disorders such as myasthenia gravis
  or Lambert-Eaton syndrome); "Dysphagia and Breathing Difficulties".
- 7 Drug Interactions: aminoglycosides and other agents interfering with neuromuscular transmission (e.g.
  curare-like compounds); anticholinergic drugs; other botulinum neurotoxin products ("the effect of administering
  different botulinum neurotoxin products at the same time or within several months of each other is unknown");
  muscle relaxants. Wording confirmed from a reproduction of the label text.
- 8.1 Pregnancy (no adequate human data; developmental toxicity in animals at higher doses); 8.2 Lactation (no data
  on presence in human milk; label wording not retrieved, LactMed: "no data exist"); 8.4 Pediatric Use (FDA
  Pediatric Labeling database, 2018-09-12: safety and effectiveness below 18 years not established for chronic
  migraine; an adolescent trial of 123 patients did not establish efficacy).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass

from onaboard.clinical.cycles import ToxinDose, cumulative_window
from onaboard.clinical.errors import RefusedError

__all__ = [
    "ADULT_AGE_YEARS",
    "CONTRAINDICATION_ITEMS",
    "PER_VISIT_ITEMS",
    "FindingCode",
    "FindingKind",
    "SafetyError",
    "SafetyFinding",
    "SafetyInput",
    "SafetyScreen",
    "SafetyVerdict",
    "age_in_years",
    "safety_screen",
]

ADULT_AGE_YEARS = 18
"""BOTOX PI 1 Indications (adult patients) and 8.4 Pediatric Use: not established below 18 years in chronic migraine."""

# --- Sources ----------------------------------------------------------------------------------------------------

SOURCE_CONTRAINDICATIONS = "BOTOX US PI 4 Contraindications"
SOURCE_NEUROMUSCULAR = (
    "BOTOX US PI Warnings and Precautions: Increased Risk of Clinically Significant Effects with Pre-Existing "
    "Neuromuscular Disorders"
)
SOURCE_DYSPHAGIA = "BOTOX US PI boxed warning and Warnings and Precautions: Dysphagia and Breathing Difficulties"
SOURCE_CARDIOVASCULAR = "BOTOX Cosmetic US PI Warnings and Precautions: Cardiovascular System"
# clinical-facts.md 2 (Dysphagia / breathing) flags pre-existing cardiovascular disease from the Cosmetic label's
# summary; the chronic-migraine PI's own wording was not retrieved, so the source names the label it was read in.
SOURCE_AMINOGLYCOSIDES = (
    "BOTOX US PI 7 Drug Interactions: Aminoglycosides and Other Agents Interfering with Neuromuscular Transmission"
)
SOURCE_ANTICHOLINERGICS = "BOTOX US PI 7 Drug Interactions: Anticholinergic Drugs"
SOURCE_MUSCLE_RELAXANTS = "BOTOX US PI 7 Drug Interactions: Muscle Relaxants"
SOURCE_OTHER_TOXINS = "BOTOX US PI 7 Drug Interactions: Other Botulinum Neurotoxin Products"
SOURCE_PREGNANCY = "BOTOX US PI 8.1 Pregnancy"
SOURCE_LACTATION = "BOTOX US PI 8.2 Lactation"
SOURCE_PEDIATRIC = "BOTOX US PI 8.4 Pediatric Use"

# --- Messages (format strings; tests assert them exactly) -------------------------------------------------------

BIRTH_AFTER_DATE = "birth date {birth} is after {on}"
TREATMENT_AFTER_SCREEN = "other_toxin_treatments: {product} on {date} is after the screening date {on}"

MESSAGE_INFECTION = "contraindication: infection at the proposed injection site(s)"
MESSAGE_HYPERSENSITIVITY = "contraindication: known hypersensitivity to a botulinum toxin product or its components"
MESSAGE_NMJ = (
    "warning: neuromuscular junction disorder (e.g. myasthenia gravis, Lambert-Eaton): risk of generalized "
    "weakness, ptosis, diplopia, severe dysphagia and respiratory compromise; monitor"
)
MESSAGE_NEUROPATHY = (
    "warning: peripheral motor neuropathy or ALS: risk of clinically significant effects at therapeutic doses; monitor"
)
MESSAGE_DYSPHAGIA = "warning: pre-existing swallowing difficulty; dysphagia after injection can be life threatening"
MESSAGE_BREATHING = "warning: pre-existing breathing problems; breathing difficulty after injection can be fatal"
MESSAGE_CARDIOVASCULAR = (
    "warning: pre-existing cardiovascular disease: arrhythmia and myocardial infarction, some fatal, have been "
    "reported after botulinum toxin, some in patients with cardiovascular risk factors; use caution"
)
MESSAGE_AMINOGLYCOSIDE = (
    "warning: aminoglycoside or other agent interfering with neuromuscular transmission (e.g. curare-like): "
    "the toxin effect may be potentiated"
)
MESSAGE_ANTICHOLINERGIC = "warning: anticholinergic drug: systemic anticholinergic effects may be potentiated"
MESSAGE_MUSCLE_RELAXANT = "warning: muscle relaxant: excessive weakness may be exaggerated"
MESSAGE_PREGNANT = "warning: pregnant: no adequate human data; weigh benefit against potential fetal risk"
MESSAGE_BREASTFEEDING = "warning: breastfeeding: no data on presence in human milk or effects on the breastfed infant"
MESSAGE_OTHER_TOXIN = (
    "warning: other botulinum toxin: {product} {units} U on {date}{indication} is within 3 months "
    "({start}..{end}); weakness may be exaggerated before earlier effects resolve"
)
MESSAGE_UNDER_18 = (
    "age: {age} years (< 18): safety and effectiveness in chronic migraine are not established below 18 years"
)
MESSAGE_UNANSWERED = "unknown: not asked or unanswered: {question}"
MESSAGE_ASK_ON_THE_DAY = "unknown: ask again on the day: {question}: answered no on {answered}, not on {on}"
MESSAGE_YES_OF_ANOTHER_DAY = "{message} (answered yes on {answered}, not on {on}: ask again on the day)"
REASON_ANSWERED_ON = (
    "checklist answered on {answered}, not on {on}: the history items count, the day-of-injection items are asked "
    "again on the day"
)
ANSWERED_DAY_NOT_RECORDED = "a day not recorded"
"""What ``MESSAGE_ASK_ON_THE_DAY`` and ``REASON_ANSWERED_ON`` say for ``answered`` when the day is not known."""
REASON_CLEAR = "clear: every checklist item answered; no contraindication, warning or age finding"


class SafetyError(RefusedError):
    """Screening input that cannot be right: a birth date or treatment date after the screening date."""


class FindingKind(enum.StrEnum):
    """How a finding weighs on the verdict, most serious first."""

    CONTRAINDICATION = "contraindication"
    WARNING = "warning"
    AGE = "age"
    UNKNOWN = "unknown"


class FindingCode(enum.StrEnum):
    """The checklist item a finding is about (the same code whether positive or unanswered)."""

    INJECTION_SITE_INFECTION = "injection_site_infection"
    HYPERSENSITIVITY = "hypersensitivity_to_botulinum_toxin"
    NEUROMUSCULAR_JUNCTION_DISORDER = "neuromuscular_junction_disorder"
    MOTOR_NEUROPATHY_OR_ALS = "motor_neuropathy_or_als"
    DYSPHAGIA = "dysphagia"
    BREATHING_PROBLEMS = "breathing_problems"
    CARDIOVASCULAR_DISEASE = "cardiovascular_disease"
    AMINOGLYCOSIDE_OR_NMJ_DRUG = "aminoglycoside_or_nmj_drug"
    ANTICHOLINERGIC_DRUG = "anticholinergic_drug"
    MUSCLE_RELAXANT = "muscle_relaxant"
    PREGNANT = "pregnant"
    BREASTFEEDING = "breastfeeding"
    OTHER_TOXIN_WITHIN_3_MONTHS = "other_toxin_within_3_months"
    UNDER_18 = "under_18"


class SafetyVerdict(enum.StrEnum):
    """Overall result: contraindicated > caution > unknown > clear."""

    CONTRAINDICATED = "contraindicated"
    CAUTION = "caution"
    UNKNOWN = "unknown"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class SafetyFinding:
    """One thing the clinician must see: its kind, checklist code, message and the label section behind it."""

    kind: FindingKind
    code: FindingCode
    message: str
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyInput:
    """Answers to the pre-injection checklist. ``None`` means not asked or unknown; ``False`` means asked, absent.

    ``other_toxin_treatments`` lists botulinum toxin treatments other than the chronic-migraine cycles (any
    product, BOTOX for another indication included); ``None`` means not asked, ``()`` asked and none.

    ``answered_on`` is the day the checklist was last answered (``None``: not known). A "no" to one of the
    ``PER_VISIT_ITEMS`` counts only on that day; the history items count whatever the day.
    """

    answered_on: dt.date | None = None

    birth_date: dt.date | None = None
    injection_site_infection: bool | None = None
    hypersensitivity_to_botulinum_toxin: bool | None = None
    neuromuscular_junction_disorder: bool | None = None
    motor_neuropathy_or_als: bool | None = None
    dysphagia: bool | None = None
    breathing_problems: bool | None = None
    cardiovascular_disease: bool | None = None
    aminoglycoside_or_nmj_drug: bool | None = None
    anticholinergic_drug: bool | None = None
    muscle_relaxant: bool | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    other_toxin_treatments: tuple[ToxinDose, ...] | None = None


@dataclass(frozen=True, slots=True)
class SafetyScreen:
    """The screen's verdict, the patient's age on the day, every finding (most serious first) and the reasons."""

    verdict: SafetyVerdict
    age_years: int | None
    findings: tuple[SafetyFinding, ...]
    reasons: tuple[str, ...]


def age_in_years(birth: dt.date, on: dt.date) -> int:
    """Completed years on ``on``: the birthday itself counts, and a 29 February birthday is reached on 1 March in
    common years. Raises ``SafetyError`` when ``birth`` is after ``on``."""
    if birth > on:
        raise SafetyError(BIRTH_AFTER_DATE.format(birth=birth, on=on))
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class _Item:
    """One yes/no checklist item: the field it reads and what a "yes" means."""

    field: str
    code: FindingCode
    kind: FindingKind
    message: str
    source: str
    question: str


_CHECKLIST: tuple[_Item, ...] = (
    _Item(
        "injection_site_infection",
        FindingCode.INJECTION_SITE_INFECTION,
        FindingKind.CONTRAINDICATION,
        MESSAGE_INFECTION,
        SOURCE_CONTRAINDICATIONS,
        "infection at the proposed injection sites",
    ),
    _Item(
        "hypersensitivity_to_botulinum_toxin",
        FindingCode.HYPERSENSITIVITY,
        FindingKind.CONTRAINDICATION,
        MESSAGE_HYPERSENSITIVITY,
        SOURCE_CONTRAINDICATIONS,
        "hypersensitivity to any botulinum toxin product or any component of the formulation",
    ),
    _Item(
        "neuromuscular_junction_disorder",
        FindingCode.NEUROMUSCULAR_JUNCTION_DISORDER,
        FindingKind.WARNING,
        MESSAGE_NMJ,
        SOURCE_NEUROMUSCULAR,
        "neuromuscular junction disorder (myasthenia gravis, Lambert-Eaton)",
    ),
    _Item(
        "motor_neuropathy_or_als",
        FindingCode.MOTOR_NEUROPATHY_OR_ALS,
        FindingKind.WARNING,
        MESSAGE_NEUROPATHY,
        SOURCE_NEUROMUSCULAR,
        "peripheral motor neuropathy or ALS",
    ),
    _Item(
        "dysphagia",
        FindingCode.DYSPHAGIA,
        FindingKind.WARNING,
        MESSAGE_DYSPHAGIA,
        SOURCE_DYSPHAGIA,
        "swallowing difficulty",
    ),
    _Item(
        "breathing_problems",
        FindingCode.BREATHING_PROBLEMS,
        FindingKind.WARNING,
        MESSAGE_BREATHING,
        SOURCE_DYSPHAGIA,
        "breathing problems",
    ),
    _Item(
        "cardiovascular_disease",
        FindingCode.CARDIOVASCULAR_DISEASE,
        FindingKind.WARNING,
        MESSAGE_CARDIOVASCULAR,
        SOURCE_CARDIOVASCULAR,
        "cardiovascular disease",
    ),
    _Item(
        "aminoglycoside_or_nmj_drug",
        FindingCode.AMINOGLYCOSIDE_OR_NMJ_DRUG,
        FindingKind.WARNING,
        MESSAGE_AMINOGLYCOSIDE,
        SOURCE_AMINOGLYCOSIDES,
        "aminoglycoside or other neuromuscular-blocking drug",
    ),
    _Item(
        "anticholinergic_drug",
        FindingCode.ANTICHOLINERGIC_DRUG,
        FindingKind.WARNING,
        MESSAGE_ANTICHOLINERGIC,
        SOURCE_ANTICHOLINERGICS,
        "anticholinergic drug",
    ),
    _Item(
        "muscle_relaxant",
        FindingCode.MUSCLE_RELAXANT,
        FindingKind.WARNING,
        MESSAGE_MUSCLE_RELAXANT,
        SOURCE_MUSCLE_RELAXANTS,
        "muscle relaxant",
    ),
    _Item("pregnant", FindingCode.PREGNANT, FindingKind.WARNING, MESSAGE_PREGNANT, SOURCE_PREGNANCY, "pregnancy"),
    _Item(
        "breastfeeding",
        FindingCode.BREASTFEEDING,
        FindingKind.WARNING,
        MESSAGE_BREASTFEEDING,
        SOURCE_LACTATION,
        "breastfeeding",
    ),
)

CONTRAINDICATION_ITEMS: tuple[FindingCode, ...] = tuple(
    item.code for item in _CHECKLIST if item.kind is FindingKind.CONTRAINDICATION
)
"""The checklist items a "yes" to which contraindicates the injection (BOTOX US PI 4), in checklist order; the other
items are warnings. Each code is also the name of its ``SafetyInput`` field. Read from the checklist itself, so a
caller that names or asks these items (the recording check, the training quiz) cannot drift from the screen."""

PER_VISIT_ITEMS: tuple[FindingCode, ...] = (
    FindingCode.INJECTION_SITE_INFECTION,
    FindingCode.PREGNANT,
    FindingCode.BREASTFEEDING,
)
"""The checklist items about the day of injection, whose "no" counts only on the day it was given
(``SafetyInput.answered_on`` equal to the screening day): the label's contraindication is "infection at the
proposed injection site(s)" (BOTOX US PI 4) and its pregnancy and lactation sections (8.1, 8.2) are about the patient
as she is when injected (clinical-facts.md section 2), so a "no" given at an earlier visit says nothing of today: the
item is unknown, to be asked again. A "no" given after the screening day does not count for it either (a session
entered late is screened on its own day). A "yes" of another day still counts, its message saying when it was given:
the screen errs towards caution, and a contraindication recorded once is not softened into "not asked" (it is
answered again on the day, or overridden). The other items are history (a neuromuscular disorder, a drug taken, a
known hypersensitivity) and count whatever the day. Each code is also the name of its ``SafetyInput`` field."""

QUESTION_BIRTH_DATE = "birth date (age)"
QUESTION_OTHER_TOXINS = "other botulinum toxin treatments in the last 3 months"

_KIND_RANK = {kind: rank for rank, kind in enumerate(FindingKind)}


def _answered_day(patient: SafetyInput) -> str:
    return ANSWERED_DAY_NOT_RECORDED if patient.answered_on is None else patient.answered_on.isoformat()


def _checklist_findings(patient: SafetyInput, on: dt.date) -> Iterator[SafetyFinding]:
    for item in _CHECKLIST:
        answer = getattr(patient, item.field)
        if answer is None:
            message = MESSAGE_UNANSWERED.format(question=item.question)
            yield SafetyFinding(FindingKind.UNKNOWN, item.code, message, item.source)
        elif item.code in PER_VISIT_ITEMS and patient.answered_on != on:
            answered = _answered_day(patient)
            if answer:
                message = MESSAGE_YES_OF_ANOTHER_DAY.format(message=item.message, answered=answered, on=on)
                yield SafetyFinding(item.kind, item.code, message, item.source)
            else:
                message = MESSAGE_ASK_ON_THE_DAY.format(question=item.question, answered=answered, on=on)
                yield SafetyFinding(FindingKind.UNKNOWN, item.code, message, item.source)
        elif answer:
            yield SafetyFinding(item.kind, item.code, item.message, item.source)


def _age_findings(patient: SafetyInput, on: dt.date) -> Iterator[SafetyFinding]:
    if patient.birth_date is None:
        message = MESSAGE_UNANSWERED.format(question=QUESTION_BIRTH_DATE)
        yield SafetyFinding(FindingKind.UNKNOWN, FindingCode.UNDER_18, message, SOURCE_PEDIATRIC)
        return
    age = age_in_years(patient.birth_date, on)
    if age < ADULT_AGE_YEARS:
        yield SafetyFinding(FindingKind.AGE, FindingCode.UNDER_18, MESSAGE_UNDER_18.format(age=age), SOURCE_PEDIATRIC)


def _other_toxin_findings(patient: SafetyInput, on: dt.date) -> Iterator[SafetyFinding]:
    code = FindingCode.OTHER_TOXIN_WITHIN_3_MONTHS
    if patient.other_toxin_treatments is None:
        message = MESSAGE_UNANSWERED.format(question=QUESTION_OTHER_TOXINS)
        yield SafetyFinding(FindingKind.UNKNOWN, code, message, SOURCE_OTHER_TOXINS)
        return
    start, end = cumulative_window(on)
    for dose in sorted(patient.other_toxin_treatments, key=lambda dose: dose.date):
        if dose.date > on:
            raise SafetyError(TREATMENT_AFTER_SCREEN.format(product=dose.product, date=dose.date, on=on))
        if dose.date >= start:
            message = MESSAGE_OTHER_TOXIN.format(
                product=dose.product,
                units=dose.units,
                date=dose.date,
                indication=f" for {dose.indication}" if dose.indication else "",
                start=start,
                end=end,
            )
            yield SafetyFinding(FindingKind.WARNING, code, message, SOURCE_OTHER_TOXINS)


def safety_screen(patient: SafetyInput, *, on: dt.date) -> SafetyScreen:
    """Screen a patient on the planned injection day ``on``.

    Findings: contraindications (BOTOX PI 4: infection at the injection sites, hypersensitivity to any botulinum
    toxin); warnings (pre-existing neuromuscular disorders, dysphagia, breathing problems, cardiovascular disease,
    drugs interfering with neuromuscular transmission, anticholinergics, muscle relaxants, pregnancy 8.1,
    breastfeeding 8.2, and another botulinum toxin within the 3 months ending on ``on``, the same window as the
    cumulative-dose limit, since the label says only "within several months"); age under 18 (8.4); and unknown for
    every item not answered, and for every ``PER_VISIT_ITEMS`` "no" not given on ``on`` itself (given on another
    day, or on a day not recorded; a "yes" of another day still counts, saying when). When the checklist was not
    answered on ``on``, the last reason says on which day it was.

    Verdict: ``contraindicated`` if any contraindication; else ``caution`` if any warning or age finding; else
    ``unknown`` if any item is unanswered; else ``clear``. Findings come most serious first, in checklist order
    within a kind; the reasons are their messages with sources.
    """
    findings = [
        *_checklist_findings(patient, on),
        *_other_toxin_findings(patient, on),
        *_age_findings(patient, on),
    ]
    findings.sort(key=lambda finding: _KIND_RANK[finding.kind])
    kinds = {finding.kind for finding in findings}
    if FindingKind.CONTRAINDICATION in kinds:
        verdict = SafetyVerdict.CONTRAINDICATED
    elif kinds & {FindingKind.WARNING, FindingKind.AGE}:
        verdict = SafetyVerdict.CAUTION
    elif FindingKind.UNKNOWN in kinds:
        verdict = SafetyVerdict.UNKNOWN
    else:
        verdict = SafetyVerdict.CLEAR
    age = None if patient.birth_date is None else age_in_years(patient.birth_date, on)
    reasons = tuple(f"{finding.message} ({finding.source})" for finding in findings) or (REASON_CLEAR,)
    if patient.answered_on != on:
        reasons = (*reasons, REASON_ANSWERED_ON.format(answered=_answered_day(patient), on=on))
    return SafetyScreen(verdict, age, tuple(findings), reasons)
