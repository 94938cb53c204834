"""What the training forms read from what was typed (onaboard/web/training/forms.py)."""

from __future__ import annotations

import pytest

from onaboard.web.accounts.models import User
from onaboard.web.training.forms import NOTES_IDENTIFIER, LiveSessionForm, SupervisedInjectionForm
from onaboard.web.training.models import LiveSession


def _session(starts_at: str) -> dict[str, str]:
    return {"title": "Injection workshop", "starts_at": starts_at, "place": "Room 2", "capacity": "8", "notes": ""}


def test_a_session_start_is_read_year_first_and_never_guessed_from_slashes(db):
    """The picker's 2031-04-03T10:00 is read; 03/04/2031 10:00 (3 April or 4 March?) is refused, not guessed."""
    picked = LiveSessionForm(_session("2031-04-03T10:00"))
    assert "starts_at" not in picked.errors
    assert picked.cleaned_data["starts_at"].month == 4
    assert "starts_at" in LiveSessionForm(_session("03/04/2031 10:00")).errors


def _log(world, notes: str, **changes: object) -> SupervisedInjectionForm:
    trainees = User.objects.filter(pk=world.users["trainee"].pk)
    data = {"trainee": world.users["trainee"].pk, "date": "2026-01-05", "notes": notes, **changes}
    return SupervisedInjectionForm(data, trainees=trainees, sessions=LiveSession.objects.all())


@pytest.mark.parametrize(
    "notes",
    [
        "patient Jane Doe MRN 12345",
        "mrn:4471203",
        "NHS no. 943 476 5919",
        "hospital number 44712",
        "Patient # 2231, full session",
        "ref 20391847",
    ],
)
def test_supervised_notes_with_a_record_number_are_refused(world, notes):
    """Notes carrying a record-number-like token or a long run of digits are refused with the reason."""
    form = _log(world, notes)
    assert form.errors["notes"] == [str(NOTES_IDENTIFIER)]


@pytest.mark.parametrize(
    "notes",
    [
        "Observed a full 155 U session; drew up and labelled syringes.",
        "Gave the patient 195 U with 8 follow-the-pain sites on 2026-01-05, 2 x 100 U vials.",
        "",
    ],
)
def test_supervised_notes_with_doses_counts_and_dates_are_kept(world, notes):
    """Doses, counts and a dated remark are not mistaken for identifiers."""
    form = _log(world, notes)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["notes"] == notes
