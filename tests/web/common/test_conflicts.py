"""The three-way merge of a refused stale save with the row stored now (onaboard/web/common/conflicts.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from onaboard.web.common.conflicts import Change, merge_with_stored, track_loaded_values


class _Form(forms.Form):
    """A row's edit form: a text, a choice, a checkbox, a field shown disabled, and the version it was loaded at."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    dose = forms.CharField(required=False)
    reason = forms.ChoiceField(choices=[("ongoing", "still taking"), ("not_tolerated", "not tolerated")])
    billed = forms.BooleanField(required=False)
    attested = forms.NullBooleanField(required=False, disabled=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track_loaded_values(self)


LOADED = {"version": 1, "dose": "50 mg", "reason": "ongoing", "billed": False, "attested": None}


def _post(changes: dict[str, str], *, loaded: dict[str, Any] | None = None) -> QueryDict:
    """What the browser posts from a form loaded with ``loaded`` (its hidden initial inputs among it), ``changes``
    typed on top; a checkbox is posted only when ticked."""
    loaded = LOADED if loaded is None else loaded
    data = QueryDict(mutable=True)
    shown = {"version": "1", "dose": "50 mg", "reason": "ongoing", "billed": None, "attested": "unknown"}
    for name, value in {**shown, **changes}.items():
        if value is not None:
            data[name] = value
    for name in ("dose", "reason", "billed", "attested"):
        data[f"initial-{name}"] = "" if loaded[name] is None else str(loaded[name])
    return data


def _merged(posted: QueryDict, **stored: Any):
    form = _Form(posted)
    assert form.is_valid(), form.errors
    return merge_with_stored(posted=form, stored=_Form(initial={**LOADED, "version": 2, **stored}))


def test_a_field_only_the_other_person_changed_takes_the_stored_value_and_is_listed():
    """The other person's stop reason replaces the loaded one in the rebuilt data and is named with its label."""
    merged = _merged(_post({"dose": "100 mg"}), reason="not_tolerated")
    assert merged.data["reason"] == "not_tolerated"
    assert merged.changes == (Change("Reason", "not tolerated"),)


def test_a_field_only_this_user_changed_keeps_the_typed_value():
    """The user's dose stays; it is not listed, as nobody else changed it."""
    merged = _merged(_post({"dose": "100 mg"}), reason="not_tolerated")
    assert merged.data["dose"] == "100 mg"


def test_a_field_both_changed_keeps_the_typed_value_and_lists_both():
    """Both changed the dose: the typed dose stays in the form and the box lists the stored and the typed one."""
    merged = _merged(_post({"dose": "100 mg"}), dose="75 mg")
    assert merged.data["dose"] == "100 mg"
    assert merged.changes == (Change("Dose", "75 mg", "100 mg"),)
    assert merged.changes[0].both


def test_the_same_change_by_both_is_listed_without_a_clash():
    """Both changed the dose to the same value: listed as stored, not as a clash."""
    merged = _merged(_post({"dose": "100 mg"}), dose="100 mg")
    assert merged.changes == (Change("Dose", "100 mg"),)


def test_the_hidden_version_and_the_loaded_values_become_the_stored_ones():
    """The rebuilt data carries the stored version and the stored values as loaded, so the next save compares with
    what is stored now."""
    merged = _merged(_post({"dose": "100 mg"}), reason="not_tolerated", billed=True)
    assert merged.data["version"] == "2"
    assert (merged.data["initial-reason"], merged.data["initial-billed"]) == ("not_tolerated", "True")
    again = _Form(merged.data)
    assert again.is_valid()
    assert [name for name in again.changed_data if name != "version"] == ["dose"]


def test_a_checkbox_the_other_person_ticked_is_ticked_in_the_rebuilt_data():
    """A checkbox posts nothing when clear: one ticked by the other person is posted as ticked, and worded yes."""
    merged = _merged(_post({}), billed=True)
    assert merged.data.getlist("billed") == ["on"]
    assert merged.changes == (Change("Billed", "yes"),)


def test_a_disabled_field_changed_by_the_other_person_is_listed():
    """A field this user may not change (shown disabled) is never theirs; the other person's change is listed."""
    merged = _merged(_post({"attested": "false"}), attested=True)
    assert merged.changes == (Change("Attested", "Yes"),)


def test_a_field_posted_without_its_loaded_value_counts_as_the_users():
    """A request without the hidden initial inputs (what was loaded is unknown) keeps what was typed, and names each
    field where the stored value differs as changed by both."""
    posted = _post({"dose": "100 mg"})
    for name in ("initial-dose", "initial-reason", "initial-billed", "initial-attested"):
        del posted[name]
    merged = _merged(posted, reason="not_tolerated")
    assert (merged.data["dose"], merged.data["reason"]) == ("100 mg", "ongoing")
    assert merged.changes == (Change("Dose", "50 mg", "100 mg"), Change("Reason", "not tolerated", "still taking"))
