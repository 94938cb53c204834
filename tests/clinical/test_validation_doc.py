"""docs/validation.md's "Recorded only" readout names the criteria the classifier reports missing most often, in
the order and with the counts tests/clinical/test_attacks_validation.py prints."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from onaboard.clinical.attacks import classify_attack
from tests.clinical.test_attacks_validation import load_rows, pytestmark, recorded_features  # noqa: F401

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
SHOWN = 8
"""How many criteria the test prints (``missing.most_common(8)``) and the doc names."""


def _readout() -> str:
    """The "Recorded only" paragraph, its lines joined."""
    text = DOC.read_text(encoding="utf-8")
    paragraph = text.split("**Recorded only.**", 1)[1].split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def test_the_most_often_missing_criteria_are_the_ones_the_classifier_reports():
    """Every criterion missing on all rows is named before "then"; the next ones follow with their counts, in the
    order of the printed list (it named 1.2.3 B third, before three criteria missing on all 400 rows)."""
    rows = load_rows()
    missing = Counter(
        criterion.ref for row in rows for criterion in classify_attack(recorded_features(row)).unknown
    ).most_common(SHOWN)
    everywhere = [ref for ref, count in missing if count == len(rows)]
    rest = [(ref, count) for ref, count in missing if count < len(rows)]
    readout = _readout()
    all_rows, _, then = readout.partition("; then ")
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    assert f"{words[len(everywhere)]} on every one of the {len(rows)} rows" in all_rows
    positions = [all_rows.index(f" {ref}") for ref in everywhere]
    assert positions == sorted(positions)
    named = re.findall(r"(1\.[\d.]+ [A-D]) \((\d+)", then)
    assert [(ref, int(count)) for ref, count in named] == rest
