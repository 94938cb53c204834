"""The checks stored with a recorded session, read for people (onaboard/web/injections/recorded_checks.py)."""

from __future__ import annotations

from onaboard.web.injections.models import InjectionSession
from onaboard.web.injections.recorded_checks import RecordedCheck, checks_at_recording, checks_overridden
from onaboard.web.injections.selectors import CheckCode, check_title

STORED = "\n".join(
    [
        "interval: 91 days since the last session",
        "site_dose: PREEMPT: 155 U at 31 sites",
        "imported from elsewhere: weighed on paper",
        "",
        "site_dose: follow-the-pain: none",
        "cumulative_dose:no space after the colon",
    ]
)
"""Stored reasons as recording writes them ("<code>: <reason>"), with lines an import may carry that name no check."""


def test_each_checks_reasons_are_grouped_under_its_title_and_other_lines_kept_as_they_are():
    """Lines of one check are grouped under its title, in the order the checks first appear; a line naming no
    known check (text imported from elsewhere) is kept as it is, in its place, and a blank line is dropped."""
    assert checks_at_recording(InjectionSession(check_reasons=STORED)) == [
        RecordedCheck(CheckCode.INTERVAL, check_title(CheckCode.INTERVAL), ("91 days since the last session",)),
        RecordedCheck(
            CheckCode.SITE_DOSE,
            check_title(CheckCode.SITE_DOSE),
            ("PREEMPT: 155 U at 31 sites", "follow-the-pain: none"),
        ),
        RecordedCheck(
            None, "", ("imported from elsewhere: weighed on paper", "cumulative_dose:no space after the colon")
        ),
    ]
    assert checks_at_recording(InjectionSession(check_reasons="")) == []


def test_the_checks_overridden_carry_their_stored_reasons_in_the_order_overridden():
    """Each known check overridden, in the stored order, with the reasons stored for it (none when none were); an
    unknown code among them is left out."""
    session = InjectionSession(overridden_checks="site_dose,made_up,prior_authorisation", check_reasons=STORED)
    assert checks_overridden(session) == [
        RecordedCheck(
            CheckCode.SITE_DOSE,
            check_title(CheckCode.SITE_DOSE),
            ("PREEMPT: 155 U at 31 sites", "follow-the-pain: none"),
        ),
        RecordedCheck(CheckCode.PRIOR_AUTHORISATION, check_title(CheckCode.PRIOR_AUTHORISATION), ()),
    ]
