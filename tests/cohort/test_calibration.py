"""The calibration targets: every published figure carries its source and status, read from calibration.toml."""

from __future__ import annotations

import re

import pytest

from onaboard.cohort.calibration import BAD_PERCENT, CALIBRATION_FILE, Target, _placebo_percent, _target, calibration

EXPECTED_TARGETS = {
    "baseline_headache_days",
    "week24_change_headache_days",
    "responder_50_week24",
    "baseline_overuse",
    "hit6_baseline",
    "hit6_responders_week24",
    "discontinued_adverse_event",
    "female_share",
    "age_range",
    "label_criteria_met",
}


def test_every_target_names_its_source_and_status() -> None:
    """Each target in calibration.toml has a description, a unit, a source and a CONFIRMED/UNCONFIRMED status."""
    targets = calibration().targets
    assert set(targets) == EXPECTED_TARGETS
    for target in targets.values():
        assert target.description
        assert target.unit
        assert target.source
        assert "CONFIRMED" in target.status


def test_every_printed_source_is_a_citation_in_words_and_names_its_facts_section() -> None:
    """Sources printed in the report cite the study or the label in words, never the project's files
    ("clinical-facts.md 2.1"); the clinical-facts section of each figure stays beside it, unprinted."""
    calib = calibration()
    sources = [target.source for target in calib.targets.values()] + [calib.adverse_reactions_source]
    for source in sources:
        assert not re.search(r"clinical-facts|\.md\b|\.toml\b", source), source
    for facts in [target.facts for target in calib.targets.values()] + [calib.adverse_reactions_facts]:
        assert re.match(r"\d", facts), facts


def test_the_published_figures_are_the_clinical_facts() -> None:
    """The targets hold PREEMPT's 19.9 days, -8.4 days, 44.8-47.1 %, 64.8 %, HIT-6 65.5 and 40.8 %, and 3.8 %."""
    targets = calibration().targets
    assert targets["baseline_headache_days"].value == 19.9
    assert targets["week24_change_headache_days"].value == -8.4
    assert (targets["responder_50_week24"].low, targets["responder_50_week24"].high) == (44.8, 47.1)
    assert targets["baseline_overuse"].value == 64.8
    assert targets["hit6_baseline"].value == 65.5
    assert targets["hit6_responders_week24"].value == 40.8
    assert targets["discontinued_adverse_event"].value == 3.8


def test_the_label_criteria_target_is_preempts_entry_criterion() -> None:
    """PREEMPT enrolled only patients whose 28-day baseline met the label's chronic-migraine definition, so the
    published share meeting the label's criteria before the first injection is all of them, 100 %."""
    target = calibration().targets["label_criteria_met"]
    assert (target.value, target.unit, target.status) == (100, "%", "CONFIRMED")


def test_the_labels_adverse_reaction_table_is_marked_unconfirmed() -> None:
    """The label's adverse-reaction table is flagged UNCONFIRMED and holds its 13 rows, neck pain first at 9 %."""
    calib = calibration()
    assert calib.adverse_reactions_status == "UNCONFIRMED"
    assert len(calib.adverse_reactions) == 13
    first = calib.adverse_reactions[0]
    assert (first.event, first.botox_percent, first.placebo_percent) == ("neck_pain", 9.0, 3.0)


def test_eyelid_ptosis_on_placebo_is_the_labels_bound_not_a_made_up_figure() -> None:
    """The label prints "<1" for eyelid ptosis on placebo (clinical-facts.md 2.1): it is kept as that bound, with no
    percentage standing in for it; a row with a figure keeps it as a number and as text."""
    rows = {row.event: row for row in calibration().adverse_reactions}
    assert (rows["eyelid_ptosis"].placebo_percent, rows["eyelid_ptosis"].placebo_text) == (None, "<1")
    assert (rows["neck_pain"].placebo_percent, rows["neck_pain"].placebo_text) == (3.0, "3")


@pytest.mark.parametrize("value", ["about 1", "1", True, ">"])
def test_a_placebo_figure_that_is_neither_a_number_nor_a_bound_is_refused(value: object) -> None:
    """A placebo percentage is a number or a bound such as "<1"; anything else names the row and the value."""
    message = BAD_PERCENT.format(file=CALIBRATION_FILE, event="x", value=value)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _placebo_percent("x", value)


def test_a_value_target_is_near_within_its_tolerance() -> None:
    """A value target accepts figures within its tolerance, and not beyond."""
    target = Target("t", "d", "u", "s", "CONFIRMED", value=19.9, tolerance=0.5)
    assert target.near(20.4)
    assert not target.near(20.41)
    assert target.text == "19.9"


def test_a_range_target_is_near_within_its_range_widened_by_the_tolerance() -> None:
    """A range target accepts figures inside low..high widened by the tolerance, and its centre is the midpoint."""
    target = Target("t", "d", "u", "s", "CONFIRMED", low=44.8, high=47.1, tolerance=2.5)
    assert target.near(42.3)
    assert not target.near(49.7)
    assert target.centre == pytest.approx(45.95)
    assert target.text == "44.8-47.1"


def test_a_target_needs_a_value_or_a_range() -> None:
    """A target with neither a value nor low and high is refused when the file is read."""
    entry = {"description": "d", "unit": "u", "source": "s", "status": "CONFIRMED"}
    with pytest.raises(ValueError, match="value or low and high"):
        _target("broken", entry)
