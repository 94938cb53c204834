"""The session, follow-the-pain and side-effect forms (onaboard/web/injections/forms.py)."""

from __future__ import annotations

import datetime as dt

from django.http import QueryDict

from onaboard.web.diary.forms import TEXT_TOO_LONG
from onaboard.web.injections import services
from onaboard.web.injections.forms import (
    SITE_NOT_GIVEN_HELP,
    FollowThePainForm,
    SessionForm,
    SideEffectReportForm,
    fixed_site_keys,
)
from onaboard.web.injections.models import DESCRIPTION_MAX_LENGTH

TODAY = dt.date(2026, 6, 1)


def test_the_session_form_has_one_labelled_units_field_per_fixed_site():
    """31 units fields, each labelled with its muscle, side and number, 5 U by default."""
    form = SessionForm(today=TODAY)
    names = [name for name, _ in fixed_site_keys()]
    assert len(names) == 31
    assert form.fields["units_temporalis-left-3"].label == "Units, temporalis left 3"
    assert form.fields["units_procerus-midline-1"].initial == 5


def test_the_site_groups_follow_the_preempt_order():
    """Thirteen rows: procerus once, every other muscle left then right, in the paradigm's order."""
    groups = SessionForm(today=TODAY).site_groups()
    assert [(g["muscle"], g["side"]) for g in groups][:3] == [
        ("corrugator", "left"),
        ("corrugator", "right"),
        ("procerus", "midline"),
    ]
    assert len(groups) == 13


def test_a_session_date_after_today_is_refused():
    """The session date cannot be in the future."""
    data = QueryDict(mutable=True)
    data.update({"date": "2026-06-02", "vial_units": "200"})
    form = SessionForm(data, today=TODAY)
    assert not form.is_valid()
    assert form.errors["date"] == ["This date is after today."]


def test_unfinished_values_are_read_leniently_for_the_live_summary():
    """A units field being typed reads as None, not an error, while the summary updates."""
    data = QueryDict(mutable=True)
    data.update({"date": "2026-06-01", "units_temporalis-left-1": "1x"})
    form = SessionForm(data, today=TODAY)
    assert form.raw_int("units_temporalis-left-1") is None
    assert form.raw_date("date") == TODAY


def test_the_live_summary_reads_units_as_recording_will():
    """Units typed "5.0" or " 5 " are 5 U both in the live summary and on recording (the form's whole-number
    field), so the summary never reports a site as unreadable that recording would store; "2.5" is unreadable in
    both."""
    data = _fixed_sites_posted(**{"units_procerus-midline-1": "5.0", "units_temporalis-left-1": " 5 "})
    form = SessionForm(data, today=TODAY)
    assert form.raw_int("units_procerus-midline-1") == 5
    assert form.fixed_units("units_temporalis-left-1") == 5
    assert form.is_valid(), form.errors
    assert form.cleaned_data["units_procerus-midline-1"] == 5
    data = _fixed_sites_posted(**{"units_procerus-midline-1": "2.5"})
    form = SessionForm(data, today=TODAY)
    assert form.raw_int("units_procerus-midline-1") is None
    assert not form.is_valid()


def _fixed_sites_posted(**units: str) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update({"date": "2026-06-01", "vial_units": "200", **{name: "5" for name, _ in fixed_site_keys()}})
    data.update(units)
    return data


def test_a_fixed_site_left_empty_or_at_0_units_is_not_given():
    """A fixed site left empty or typed 0 is accepted as 0 U, the engine's "not given", both when recorded and in
    the live summary (the site table's hint says so); below 0 is refused on its field."""
    data = _fixed_sites_posted(**{"units_trapezius-right-3": "", "units_temporalis-left-2": "0"})
    form = SessionForm(data, today=TODAY)
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["units_trapezius-right-3"], form.cleaned_data["units_temporalis-left-2"]) == (0, 0)
    typed = {(entry.muscle, entry.side, entry.units) for entry in form.fixed_entries()}
    assert ("trapezius", "right", 0) in typed
    assert ("temporalis", "left", 0) in typed
    assert form.site_table_help == SITE_NOT_GIVEN_HELP
    negative = SessionForm(_fixed_sites_posted(**{"units_trapezius-right-3": "-5"}), today=TODAY)
    assert list(negative.errors) == ["units_trapezius-right-3"]


def test_a_point_outside_the_muscles_area_is_dropped():
    """A trapezius site posted with a point on the forehead loses the point and is drawn on its default spot."""
    form = FollowThePainForm(
        {"muscle": "trapezius", "side": "left", "units": "5", "view": "front", "x": "500", "y": "200"}
    )
    assert form.is_valid()
    assert (form.cleaned_data["view"], form.cleaned_data["x"], form.cleaned_data["y"]) == ("back", None, None)


def test_a_point_inside_the_area_is_kept():
    """A clicked point inside the muscle's area is kept."""
    form = FollowThePainForm(
        {"muscle": "trapezius", "side": "left", "units": "5", "view": "back", "x": "240", "y": "908"}
    )
    assert form.is_valid()
    assert (form.cleaned_data["x"], form.cleaned_data["y"]) == (240, 908)


def test_only_follow_the_pain_muscles_can_be_added():
    """The frontalis takes no extra sites, so the form refuses it."""
    form = FollowThePainForm({"muscle": "frontalis", "side": "left", "units": "5"})
    assert not form.is_valid()
    assert "muscle" in form.errors


def test_a_side_effect_cannot_start_after_today():
    """The report's start date is today or earlier."""
    form = SideEffectReportForm({"kind": "neck_pain", "onset": "2026-06-05", "severity": "mild"}, today=TODAY)
    assert not form.is_valid()
    assert form.errors["onset"] == ["This date is after today."]


def _report(**data: str) -> SideEffectReportForm:
    return SideEffectReportForm({"kind": "neck_pain", "onset": "2026-03-01", "severity": "mild", **data}, today=TODAY)


def test_a_description_counts_each_line_break_once():
    """A 2,000-character description typed on several lines (sent as CR LF) is kept, with LF breaks."""
    form = _report(description="\r\n".join(["x" * 99] * 20) + "y")
    assert form.is_valid(), form.errors
    assert len(form.cleaned_data["description"]) == DESCRIPTION_MAX_LENGTH
    assert "\r" not in form.cleaned_data["description"]


def test_a_description_over_the_limit_is_refused_in_plain_words():
    """A description one character over the limit is refused saying the limit and how many characters it holds."""
    form = _report(description="abc\r\n" * 500 + "a")
    assert not form.is_valid()
    assert form.errors["description"] == [str(TEXT_TOO_LONG) % {"limit_value": 2000, "show_value": 2001}]


def test_something_else_needs_a_description_on_the_description_field():
    """A report of "something else" with no words (or only spaces) asks, on the description, what happened; with
    words it passes, a named kind needs none, and a too-long description is refused once, for its length only."""
    for description in ("", "   \r\n "):
        form = _report(kind="other", description=description)
        assert not form.is_valid()
        assert form.errors == {"description": [services.DESCRIBE_SOMETHING_ELSE]}
    assert _report(kind="other", description="A rash on my forehead").is_valid()
    assert _report(kind="neck_pain", description="").is_valid()
    too_long = _report(kind="other", description="x" * (DESCRIPTION_MAX_LENGTH + 1))
    assert too_long.errors == {
        "description": [
            str(TEXT_TOO_LONG) % {"limit_value": DESCRIPTION_MAX_LENGTH, "show_value": DESCRIPTION_MAX_LENGTH + 1}
        ]
    }
