"""Treatment decisions as stored (onaboard/web/outcomes/models.py): whether a decision saw a stop suggested."""

from __future__ import annotations

import pytest

from onaboard.web.outcomes.models import Decision, TreatmentDecision


@pytest.mark.parametrize(
    ("verdict", "reverted", "saw_stop"),
    [
        ("stop", False, True),
        ("not_yet_assessable", True, True),
        ("not_yet_assessable", False, False),
        ("continue", False, False),
        ("", False, False),
    ],
)
def test_a_decision_saw_a_stop_when_the_verdict_was_stop_or_the_return_to_episodic_migraine_held(
    verdict, reverted, saw_stop
):
    """A decision stored with a stop verdict, or with the return to episodic migraine holding while the verdict
    waited for a complete baseline, was made while a stop was suggested (``NiceVerdict.stop_suggested``); one
    stored without the engine's verdict (an import) saw none."""
    decision = TreatmentDecision(
        decision=Decision.CONTINUE, nice_verdict=verdict, nice_reasons="a\nb", nice_reverted_to_episodic=reverted
    )
    assert decision.saw_stop is saw_stop
