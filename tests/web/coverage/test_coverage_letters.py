"""The letters' rewording of engine notation: days and ranges in words, comparison signs and arrows as words."""

from __future__ import annotations

import pytest

from onaboard.web.coverage.templatetags.coverage_letters import EN_DASH, in_letter_words


@pytest.mark.parametrize(
    ("engine", "letter"),
    [
        (
            "ICHD-3 1.3 C: period 2 (2026-01-05..2026-02-01) has 6 migraine days (< 8)",
            f"ICHD-3 1.3 C: period 2 (5 Jan {EN_DASH} 1 Feb 2026) has 6 migraine days (below 8)",
        ),
        ("headache days 20 -> 10: 50.0 % fewer (>= 50 %)", "headache days 20 to 10: 50.0 % fewer (at least 50 %)"),
        ("period 3 (2025-12-15..2026-01-11)", f"period 3 (15 Dec 2025 {EN_DASH} 11 Jan 2026)"),
        ("candesartan 2025-03-04..ongoing", f"candesartan 4 Mar 2025 {EN_DASH} ongoing"),
        ("age 50 on 2026-11-29 (>= 18)", "age 50 on 29 Nov 2026 (at least 18)"),
        ("at most <= 155 U; more than > 3", "at most at most 155 U; more than more than 3"),
        ("simple_analgesic 7", "simple analgesic 7"),
        ("day 2026-02-30 is no day", "day 2026-02-30 is no day"),
    ],
)
def test_engine_notation_reads_as_words(engine, letter):
    """Each ISO day or range reads as a date in words, each sign or arrow as words, each class as the clinic's words;
    a string that is not a calendar day is left as written."""
    assert in_letter_words(engine) == letter
