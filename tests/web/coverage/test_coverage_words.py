"""The coverage pages' wording filters (onaboard/web/coverage/templatetags/coverage_words.py)."""

from __future__ import annotations

from types import SimpleNamespace

from onaboard.policies import shipped_policies
from onaboard.web.coverage.templatetags.coverage_words import (
    FIELD_WORDS,
    approval_end_note,
    class_words,
    field_in_words,
    fields_in_words,
    policy_title,
)


def test_acute_medication_classes_in_an_engine_reason_read_as_words():
    """The ICHD-3 8.2 reason's "simple_analgesic 7, combination_analgesic 0" reads "simple analgesic 7, combination
    analgesic 0"; the rest of the reason is left as the engine wrote it."""
    reason = (
        "ICHD-3 8.2: period 1 (2026-11-02..2026-11-29) meets no overuse threshold (triptan 2, ergot 0, "
        "simple_analgesic 7, combination_analgesic 0, opioid 0 days; 9 with any counted class)"
    )
    assert class_words(reason) == reason.replace("simple_analgesic", "simple analgesic").replace(
        "combination_analgesic", "combination analgesic"
    )


def test_every_field_a_shipped_policy_marks_unconfirmed_has_words():
    """Each unconfirmed entry of the shipped policies reads as words, never as its path."""
    for policy in shipped_policies().values():
        for path in policy.unconfirmed:
            words = field_in_words(path)
            assert "_" not in words
            assert "." not in words
    assert fields_in_words(["session.max_units", "continuation.response.min_fewer_headache_hours"]) == (
        "maximum units per session, minimum number of fewer headache hours"
    )
    assert field_in_words("initial.prior_preventives.classes.cgrp") == "the classes counted as cgrp"
    assert "session.max_units" in FIELD_WORDS


def test_a_policy_is_named_by_its_title_and_an_unknown_id_is_kept():
    """A shipped policy's id reads as its title; an id no shipped policy has is shown as stored."""
    assert policy_title("nice-ta260") == "NICE TA260 (England)"
    assert policy_title("retired-policy") == "retired-policy"


def test_an_end_date_filled_from_a_policy_no_longer_shipped_is_still_called_the_policys():
    """A flagged approval whose policy is no longer shipped keeps its note (the page must not fail on it)."""
    approval = SimpleNamespace(approved_until_from_policy=True, policy_id="a-withdrawn-policy", stage="initial")
    assert str(approval_end_note(approval)) == "end date from the policy's approval length, not the payer's answer"
