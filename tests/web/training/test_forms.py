"""What the training forms read from what was typed (onaboard/web/training/forms.py)."""

from __future__ import annotations

from onaboard.web.training.forms import LiveSessionForm


def _session(starts_at: str) -> dict[str, str]:
    return {"title": "Injection workshop", "starts_at": starts_at, "place": "Room 2", "capacity": "8", "notes": ""}


def test_a_session_start_is_read_year_first_and_never_guessed_from_slashes(db):
    """The picker's 2031-04-03T10:00 is read; 03/04/2031 10:00 (3 April or 4 March?) is refused, not guessed."""
    picked = LiveSessionForm(_session("2031-04-03T10:00"))
    assert "starts_at" not in picked.errors
    assert picked.cleaned_data["starts_at"].month == 4
    assert "starts_at" in LiveSessionForm(_session("03/04/2031 10:00")).errors
