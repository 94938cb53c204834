"""The attack classifier against 400 physicians' diagnoses (shared/data/migraine_classification.csv).

Data: Sanchez-Sanchez, Garcia-Gonzalez, Rua Ascar, F1000Research 2020, 9:618 (shared/data/README.md). The
physicians used ICHD-2-era classes; the classifier implements ICHD-3 (2018). Figures are recorded in
docs/validation.md; run with ``-s`` to see the table.

The adapter below turns a row into ``AttackFeatures`` in two readouts:

* **recorded** - only what the row records. Everything the data set lacks (attack count, hours, activity,
  motor and retinal aura, every 1.2 C aura characteristic) stays ``None``. This shows what the classifier
  does with the data as it is: it must not reach a settled diagnosis for any row.
* **assumed** - the recorded features plus four stated assumptions, applied to every row the same way,
  whatever its label, so that the parts of ICHD-3 the data *can* test are tested:

  A1 duration: ``Duration`` (1-3 days of the last episode) is read as an attack of at least 4 h and at most
     24 h per recorded day, so 1.1 B holds (the data has no hours).
  A2 attack count: every row records a monthly episode frequency, i.e. a recurring disorder; the count is
     taken as 10, enough for 1.1 A, 1.2 A and 2.x A. Attack-count criteria are therefore not tested.
  A3 aura time course: a row with a recorded reversible aura symptom is taken to have a typical aura time
     course: gradual spread over >= 5 min (1.2 C1), each symptom 5-60 min (C3), a positive symptom (C5); a
     headache in the same episode is taken to start within 60 min of the aura (C6). 1.2 C is therefore not
     tested: the data records the symptoms (1.2 B), not their time course.
  A4 motor and retinal aura: not recorded, taken as absent. Hemiplegic classes are therefore undecidable and
     excluded (their defining symptom is the missing column).

Column mapping (both readouts): Age -> age; Location 1/2 -> unilateral True/False; Character 1 -> pulsating,
2 ("constant") -> not pulsating (pressing is not recorded); Intensity 1/2/3 -> mild/moderate/severe; any of
Location, Character, Intensity above 0 -> headache; Nausea, Vomit, Photophobia, Phonophobia as is; Visual > 0
or Defect (bilateral visual field defect) -> visual aura; Sensory > 0 or Paresthesia (bilateral) -> sensory
aura; Dysphasia -> speech aura; Dysarthria, Vertigo, Tinnitus, Hypoacusis, Diplopia, Ataxia, Conscience -> the
seven ICHD-3 brainstem symptoms; Frequency x Duration -> headache days a month (only 2.x uses it); DPF (family
history, type unstated) -> family history of hemiplegic migraine, which matters only with motor aura.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from onaboard.clinical.attacks import (
    MIGRAINE_MIN_HOURS,
    TTH_MIN_EPISODES,
    AttackDiagnosis,
    AttackFeatures,
    DiagnosisCode,
    classify_attack,
)
from onaboard.clinical.diary import Intensity

DATA_DIR = Path(__file__).parents[3] / "shared" / "data"
DATASET = DATA_DIR / "migraine_classification.csv"

pytestmark = pytest.mark.skipif(
    not DATASET.exists(), reason=f"validation data not found at {DATASET} (see shared/data/README.md)"
)

KAPPA_FLOOR = 0.81
"""Above the 0.74 a published diary classifier reached against a specialist, and the lower edge of "almost
perfect" agreement (Landis and Koch 1977: 0.81-1.00). Achieved 0.882 (docs/validation.md); the remaining
disagreements are ICHD-2 vs ICHD-3 rule changes, so the floor leaves room for a clinician's ruling on them,
while losing the agreed rows of any one compared class (at least -0.08) still fails."""

EXPECTED_CLASS_COUNTS = {
    "Typical aura with migraine": 247,
    "Migraine without aura": 60,
    "Familial hemiplegic migraine": 24,
    "Typical aura without migraine": 20,
    "Basilar-type aura": 18,
    "Other": 17,
    "Sporadic hemiplegic migraine": 14,
}
EXPECTED_DUPLICATE_ROWS = 6

HOURS_PER_DAY = 24.0
MAX_DAYS_PER_MONTH = 31.0
ASSUMED_MIN_HOURS = MIGRAINE_MIN_HOURS
"""A1: the data's episode lasted at least 4 h."""
ASSUMED_ATTACK_COUNT = TTH_MIN_EPISODES
"""A2: a recurring disorder with enough attacks for every criterion A in scope."""

WITHOUT_AURA = "migraine without aura"
TYPICAL_WITH_HEADACHE = "typical aura with headache"
TYPICAL_WITHOUT_HEADACHE = "typical aura without headache"
BRAINSTEM = "brainstem aura"
GROUPS = (WITHOUT_AURA, TYPICAL_WITH_HEADACHE, TYPICAL_WITHOUT_HEADACHE, BRAINSTEM)
"""The classes both the physicians and the data can decide, in table order."""

PHYSICIAN_GROUPS: Mapping[str, str] = {
    "Migraine without aura": WITHOUT_AURA,
    "Typical aura with migraine": TYPICAL_WITH_HEADACHE,  # ICHD-3 1.2.1.1 takes any headache within 60 min
    "Typical aura without migraine": TYPICAL_WITHOUT_HEADACHE,  # no headache recorded in any of these rows
    "Basilar-type aura": BRAINSTEM,  # ICHD-2 name of ICHD-3 1.2.2
}
EXCLUDED_CLASSES: Mapping[str, str] = {
    "Familial hemiplegic migraine": "no motor-weakness column: cannot be told from typical or brainstem aura",
    "Sporadic hemiplegic migraine": "no motor-weakness column: cannot be told from typical or brainstem aura",
    "Other": "heterogeneous; no single ICHD-3 code to compare with",
}
CODE_GROUPS: Mapping[DiagnosisCode, str] = {
    DiagnosisCode.MIGRAINE_WITHOUT_AURA: WITHOUT_AURA,
    DiagnosisCode.TYPICAL_AURA_WITH_HEADACHE: TYPICAL_WITH_HEADACHE,
    DiagnosisCode.TYPICAL_AURA_WITHOUT_HEADACHE: TYPICAL_WITHOUT_HEADACHE,
    DiagnosisCode.MIGRAINE_WITH_BRAINSTEM_AURA: BRAINSTEM,
}
INTENSITIES: Mapping[int, Intensity] = {1: Intensity.MILD, 2: Intensity.MODERATE, 3: Intensity.SEVERE}
BRAINSTEM_COLUMNS: Mapping[str, str] = {
    "dysarthria": "Dysarthria",
    "vertigo": "Vertigo",
    "tinnitus": "Tinnitus",
    "hypacusis": "Hypoacusis",
    "diplopia": "Diplopia",
    "ataxia": "Ataxia",
    "decreased_consciousness": "Conscience",
}

Row = Mapping[str, str]


def load_rows() -> list[dict[str, str]]:
    """The data set's rows as read by csv.DictReader."""
    with DATASET.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def recorded_features(row: Row) -> AttackFeatures:
    """A row as attack features, with only what the row records (see the module docstring)."""
    value = {column: int(text) for column, text in row.items() if column != "Type"}
    headache = any(value[column] > 0 for column in ("Location", "Character", "Intensity"))
    return AttackFeatures(
        age_years=value["Age"],
        headache_days_per_month=(min(value["Frequency"] * value["Duration"], MAX_DAYS_PER_MONTH) if headache else None),
        family_history_hemiplegic=value["DPF"] == 1,
        headache=headache,
        duration_hours_max=value["Duration"] * HOURS_PER_DAY,
        unilateral={1: True, 2: False}.get(value["Location"]),
        pulsating={1: True, 2: False}.get(value["Character"]),
        intensity=INTENSITIES.get(value["Intensity"]),
        nausea=value["Nausea"] == 1,
        vomiting=value["Vomit"] == 1,
        photophobia=value["Photophobia"] == 1,
        phonophobia=value["Phonophobia"] == 1,
        visual_aura=value["Visual"] > 0 or value["Defect"] == 1,
        sensory_aura=value["Sensory"] > 0 or value["Paresthesia"] == 1,
        speech_aura=value["Dysphasia"] == 1,
        **{field: value[column] == 1 for field, column in BRAINSTEM_COLUMNS.items()},
    )


def has_recorded_aura(features: AttackFeatures) -> bool:
    """Whether the row recorded any aura symptom (the data has visual, sensory, speech and brainstem columns)."""
    return any(getattr(features, name) for name in ("visual_aura", "sensory_aura", "speech_aura", *BRAINSTEM_COLUMNS))


def assumed_features(row: Row) -> AttackFeatures:
    """A row as attack features with assumptions A1-A4 of the module docstring, the same for every row."""
    features = replace(recorded_features(row), attack_count=ASSUMED_ATTACK_COUNT, motor_aura=False, retinal_aura=False)
    if features.headache:
        features = replace(features, duration_hours_min=ASSUMED_MIN_HOURS)
    if has_recorded_aura(features):
        features = replace(
            features,
            aura_spreads_gradually=True,
            aura_symptoms_last_5_to_60_min=True,
            aura_positive=True,
            aura_headache_within_60_min=features.headache,
        )
    return features


def classifier_group(diagnosis: AttackDiagnosis) -> str:
    """The comparable class of a diagnosis; any other code is its own column."""
    return CODE_GROUPS.get(diagnosis.code, f"ICHD-3 {diagnosis.code}")


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> float:
    """Cohen's kappa of (rater 1, rater 2) label pairs: (observed - chance) / (1 - chance)."""
    total = len(pairs)
    observed = sum(first == second for first, second in pairs) / total
    first_counts = Counter(first for first, _ in pairs)
    second_counts = Counter(second for _, second in pairs)
    chance = sum(first_counts[label] * second_counts[label] for label in first_counts) / total**2
    return (observed - chance) / (1 - chance)


def agreement_table(pairs: Sequence[tuple[str, str]]) -> str:
    """A text confusion table: physicians' classes down, classifier's across, then per-class agreement."""
    columns = [*GROUPS, *sorted({second for _, second in pairs} - set(GROUPS))]
    counts = Counter(pairs)
    width = max(len(label) for label in (*GROUPS, *columns)) + 2
    lines = ["physician \\ classifier".ljust(width) + "".join(label.rjust(width) for label in columns)]
    for group in GROUPS:
        cells = "".join(str(counts[group, column]).rjust(width) for column in columns)
        row_total = sum(counts[group, column] for column in columns)
        share = counts[group, group] / row_total
        lines.append(f"{group.ljust(width)}{cells}   agree {counts[group, group]}/{row_total} = {share:.1%}")
    return "\n".join(lines)


def summary(pairs: Sequence[tuple[str, str]], excluded: Counter[str]) -> str:
    """Table, accuracy, kappa and exclusions as one text, for printing and for assertion messages."""
    agreed = sum(first == second for first, second in pairs)
    exclusions = ", ".join(f"{label} {count} ({EXCLUDED_CLASSES[label]})" for label, count in excluded.items())
    return (
        f"{agreement_table(pairs)}\n"
        f"compared {len(pairs)} rows; agreement {agreed}/{len(pairs)} = {agreed / len(pairs):.1%}; "
        f"Cohen's kappa {cohen_kappa(pairs):.3f} (floor {KAPPA_FLOOR})\n"
        f"excluded: {exclusions}"
    )


def compared_pairs(rows: Iterable[Row]) -> tuple[list[tuple[str, str]], Counter[str]]:
    """(physician group, classifier group) for the decidable rows under A1-A4, and the excluded counts."""
    pairs: list[tuple[str, str]] = []
    excluded: Counter[str] = Counter()
    for row in rows:
        label = row["Type"]
        if label in EXCLUDED_CLASSES:
            excluded[label] += 1
            continue
        pairs.append((PHYSICIAN_GROUPS[label], classifier_group(classify_attack(assumed_features(row)))))
    return pairs, excluded


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """The 400 rows of the data set."""
    return load_rows()


@pytest.fixture(scope="module")
def recorded_diagnoses(rows: list[dict[str, str]]) -> list[tuple[AttackFeatures, AttackDiagnosis]]:
    """Each row's recorded features and their diagnosis (the slow readout, computed once)."""
    return [(features, classify_attack(features)) for features in map(recorded_features, rows)]


def test_data_set_is_the_one_described() -> None:
    """The file has the README's 400 rows, class counts and 6 exact duplicate rows."""
    rows = load_rows()
    assert Counter(row["Type"] for row in rows) == EXPECTED_CLASS_COUNTS
    copies = Counter(tuple(row.values()) for row in rows)
    assert sum(count - 1 for count in copies.values()) == EXPECTED_DUPLICATE_ROWS


def test_agreement_with_physicians_holds_the_kappa_floor(rows: list[dict[str, str]]) -> None:
    """On the classes the data can decide, classifier and physicians agree with kappa at or above the floor."""
    pairs, excluded = compared_pairs(rows)
    report = summary(pairs, excluded)
    print(f"\nAll 345 decidable rows (assumptions A1-A4):\n{report}")
    assert cohen_kappa(pairs) >= KAPPA_FLOOR, report


def test_agreement_holds_without_the_duplicate_rows(rows: list[dict[str, str]]) -> None:
    """Dropping the 6 exact duplicate rows (all typical aura with migraine) keeps kappa above the floor."""
    unique = list({tuple(row.values()): row for row in rows}.values())
    pairs, excluded = compared_pairs(unique)
    report = summary(pairs, excluded)
    print(f"\nWithout the 6 duplicate rows:\n{report}")
    assert len(unique) == len(rows) - EXPECTED_DUPLICATE_ROWS
    assert cohen_kappa(pairs) >= KAPPA_FLOOR, report


def test_excluded_classes_are_reported_not_scored(rows: list[dict[str, str]]) -> None:
    """Hemiplegic and Other rows get ICHD-3 codes for the record, and hemiplegic rows never get 1.2.3 under A4."""
    outcomes: dict[str, Counter[str]] = {label: Counter() for label in EXCLUDED_CLASSES}
    for row in rows:
        if row["Type"] in EXCLUDED_CLASSES:
            outcomes[row["Type"]][classify_attack(assumed_features(row)).code] += 1
    print("\nExcluded classes under A1-A4 (ICHD-3 code: rows):")
    for label, codes in outcomes.items():
        print(f"  {label}: " + ", ".join(f"{code} {count}" for code, count in sorted(codes.items())))
    hemiplegic = outcomes["Familial hemiplegic migraine"] + outcomes["Sporadic hemiplegic migraine"]
    assert not any(code.startswith(DiagnosisCode.HEMIPLEGIC_MIGRAINE) for code in hemiplegic)


def test_recorded_features_alone_settle_no_row(
    recorded_diagnoses: list[tuple[AttackFeatures, AttackDiagnosis]],
) -> None:
    """With only what the data records, every row stays provisional: the classifier assumes nothing."""
    diagnoses = [diagnosis for _, diagnosis in recorded_diagnoses]
    codes = Counter(str(diagnosis.code) for diagnosis in diagnoses)
    missing = Counter(criterion.ref for diagnosis in diagnoses for criterion in diagnosis.unknown)
    print(f"\nRecorded features only: codes {dict(codes)}")
    print("most often missing: " + ", ".join(f"{ref} {count}" for ref, count in missing.most_common(8)))
    assert all(diagnosis.provisional for diagnosis in diagnoses)


def test_recorded_aura_rows_keep_hemiplegic_migraine_open(
    recorded_diagnoses: list[tuple[AttackFeatures, AttackDiagnosis]],
) -> None:
    """Without a motor column, rows with visual, sensory or speech aura keep 1.2.3 open, and 1.2 C stays missing."""
    aura_rows = [(features, diagnosis) for features, diagnosis in recorded_diagnoses if has_recorded_aura(features)]
    assert len(aura_rows) == 337  # 400 less the 60 without aura and 3 "Other" rows with no aura column set
    for features, diagnosis in aura_rows:
        assert "1.2 C" in {criterion.ref for criterion in diagnosis.unknown}, features
        if features.visual_aura or features.sensory_aura or features.speech_aura:
            open_codes = {str(code) for code in diagnosis.possible_codes}
            assert open_codes & {"1.2.3.1", "1.2.3.2"}, features
