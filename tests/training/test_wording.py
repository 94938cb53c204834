"""Training wording: counts with their noun in the right number, and the engine's identifiers in clinic words."""

from __future__ import annotations

from decimal import Decimal

from onaboard.clinical import AcuteClass, MigraineRoute, Muscle
from onaboard.clinical.preempt import FTP_NOT_ALLOWED
from onaboard.training.wording import ACUTE_CLASS_NAMES, MUSCLE_NAMES, ROUTE_NAMES, clinic_words, counted


def test_a_count_of_one_takes_the_singular_and_any_other_the_plural():
    """One vial, hour or follow-the-pain site is singular; none, several or a decimal count are plural."""
    assert counted(1, "vial") == "1 vial"
    assert counted(2, "vial") == "2 vials"
    assert counted(0, "vial") == "0 vials"
    assert counted(Decimal(1), "hour") == "1 hour"
    assert counted(Decimal("1.5"), "hour") == "1.5 hours"
    assert counted(1, "follow-the-pain site") == "1 follow-the-pain site"
    assert counted(3, "analysis", "analyses") == "3 analyses"


def test_the_engines_refusal_names_the_muscle_in_clinic_words():
    """The engine's "cervical_paraspinal takes no extra sites" reads "cervical paraspinal" in the training layer."""
    refusal = FTP_NOT_ALLOWED.format(muscle=Muscle.CERVICAL_PARASPINAL)
    assert clinic_words(refusal) == (
        "follow-the-pain: cervical paraspinal takes no extra sites; extra sites go only in temporalis (at most 2), "
        "occipitalis (at most 2), trapezius (at most 4)"
    )


def test_every_identifier_of_a_muscle_class_or_route_is_worded():
    """Every muscle, acute class and migraine route has clinic words without an underscore, and they replace a
    coded identifier (one with an underscore) wherever it stands as a word in a message (and nowhere inside another
    word); a plain-word identifier ("other", "aura") is left as written."""
    for names, values in ((MUSCLE_NAMES, Muscle), (ACUTE_CLASS_NAMES, AcuteClass), (ROUTE_NAMES, MigraineRoute)):
        assert set(names) == set(values)
        for value in values:
            assert "_" not in names[value]
            expected = names[value] if "_" in value else value
            assert clinic_words(f"({value} 3 days)") == f"({expected} 3 days)"
    assert (
        clinic_words("simple_analgesic 14, combination_analgesic 0") == "simple analgesic 14, combination analgesic 0"
    )
    assert clinic_words("not_simple_analgesics") == "not_simple_analgesics"


def test_ordinary_words_in_a_reason_are_not_taken_for_identifiers():
    """The safety screen's "other" stays "other": "aminoglycoside or other agent" is not an acute class."""
    for reason in (
        "warning: aminoglycoside or other agent interfering with neuromuscular transmission",
        "warning: other botulinum toxin: Dysport 300 U",
    ):
        assert clinic_words(reason) == reason
