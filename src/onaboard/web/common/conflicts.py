"""Two people editing one row: a three-way merge of the form a save was refused for and the row stored now.

An edit form knows what its user loaded: ``track_loaded_values`` sets Django's ``show_hidden_initial`` on each
editable field, so the page carries every loaded value as a hidden ``initial-<name>`` input next to the field, and
``form.changed_data`` compares what was typed with what was loaded. When a save is refused because someone saved
the row since (its version or time differs), ``merge_with_stored`` rebuilds the posted data from three values per
field, the loaded one, the typed one and the stored one:

- a field this user did not change takes the stored value (the other person's change, if they made one, is kept);
- a field this user changed keeps the typed value;
- the hidden fields (the version or time the form was loaded at) take the stored row's, and each field's loaded value
  becomes the stored one, so the next save compares against what is stored now.

The merged form is shown again, never saved on its own: ``Merged.changes`` lists each field the other person
changed, with the stored value, and says where this user changed the same field too (with both values; the typed
one stays in the form, and saving again is a conscious choice). Without the merge, "save again to keep your values"
put back every field the form was loaded with, silently undoing the other person's changes to fields this user
never touched.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _

EMPTY_WORD = "-"
"""How a conflict box words an empty value."""


@dataclass(frozen=True)
class Change:
    """A field the other person changed: its label, the stored value as the form words it and, when this user
    changed the same field to another value, the typed one (``yours``; None when this user left the field alone)."""

    label: str
    stored: str
    yours: str | None = None

    @property
    def both(self) -> bool:
        """Whether both people changed this field, to different values."""
        return self.yours is not None


@dataclass(frozen=True)
class Merged:
    """The posted data rebuilt against the stored row, and what the other person changed, for the conflict box."""

    data: QueryDict
    changes: tuple[Change, ...]


def track_loaded_values(form: forms.BaseForm) -> None:
    """Carry the value each editable (visible) field was loaded with as a hidden ``initial-<name>`` input, so a save
    knows what its user changed (``form.changed_data``) and ``merge_with_stored`` can tell their changes from the
    other person's."""
    for field in form.fields.values():
        if not field.widget.is_hidden:
            field.show_hidden_initial = True


def loaded_inputs(form: forms.BaseForm) -> SafeString:
    """The hidden ``initial-<name>`` inputs of the tracked fields, for a template that draws a field's widget
    itself (as radios, say) instead of ``{{ field }}``, which adds them."""
    return format_html_join("", "{}", ((form[name].as_hidden(only_initial=True),) for name in _tracked(form)))


def _tracked(form: forms.BaseForm) -> list[str]:
    return [name for name, field in form.fields.items() if field.show_hidden_initial]


def _posted(bound: forms.BoundField) -> list[str]:
    """The value ``bound`` shows, as a browser would post it (a list: a checkbox left clear posts nothing)."""
    widget = bound.field.widget
    value = bound.value()
    if isinstance(widget, forms.CheckboxInput):
        return ["on"] if widget.check_test(value) else []
    shown = widget.format_value(value)
    if shown is None:
        return [""]
    return [str(item) for item in shown] if isinstance(shown, list) else [str(shown)]


def _hidden(bound: forms.BoundField) -> str:
    """The value ``bound`` shows, as its hidden ``initial-<name>`` input holds it."""
    shown = bound.field.hidden_widget().format_value(bound.value())
    return "" if shown is None else str(shown)


def _values(data: Any, name: str) -> list[str]:
    """What a request (a QueryDict, or a plain dict in a test) posted under ``name``, as a list."""
    if hasattr(data, "getlist"):
        return list(data.getlist(name))
    value = data.get(name)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def _differs(field: forms.Field, value: Any, posted: Any) -> bool:
    """Whether ``posted`` (as a widget reads it from the request) means another value than ``value``, by the
    field's own comparison (``has_changed``), also for a field shown disabled (whose own comparison says never)."""
    if field.disabled:
        field = copy.copy(field)
        field.disabled = False
    return field.has_changed(value, posted)


def _worded(field: forms.Field, posted: list[str]) -> str:
    """A posted value as the form words it: a choice's label, yes / no for a checkbox, "-" for none."""
    if isinstance(field.widget, forms.CheckboxInput):
        return str(_("yes") if posted and field.widget.check_test(posted[0]) else _("no"))
    choices = getattr(field.widget, "choices", None) or getattr(field, "choices", None)
    words = []
    for value in posted:
        label = dict(choices).get(value) if choices else None
        if label is not None and str(label).strip("-"):  # not the blank choice's "---------"
            words.append(str(label))
        elif value:
            words.append(str(value))
    return ", ".join(words) or EMPTY_WORD


def merge_with_stored(*, posted: forms.BaseForm, stored: forms.BaseForm) -> Merged:
    """The data of ``posted`` (a bound form whose save was refused as stale) merged with the row stored now
    (``stored``: the same form class, unbound, loaded from that row): see the module's docstring.

    A field whose loaded value the request did not carry (a request made without the hidden inputs) counts as
    changed by this user: their value is kept, and named in the box where the stored one differs."""
    data = QueryDict(mutable=True)
    for name in posted.data:
        data.setlist(name, _values(posted.data, name))
    changes: list[Change] = []
    for name, field in posted.fields.items():
        bound, now = posted[name], stored[name]
        if field.widget.is_hidden:
            data.setlist(bound.html_name, _posted(now))
            continue
        if not field.show_hidden_initial:
            continue
        typed = bound.field.widget.value_from_datadict(posted.data, posted.files, bound.html_name)
        known = bound.html_initial_name in posted.data
        loaded = posted.data.get(bound.html_initial_name)
        mine = not field.disabled and (name in posted.changed_data if known else True)
        if known:
            theirs = _differs(field, now.initial, loaded)
        else:
            theirs = not field.disabled and _differs(field, now.initial, typed)
        both = mine and theirs and _differs(field, now.initial, typed)
        if not mine:
            data.setlist(bound.html_name, _posted(now))
        data[bound.html_initial_name] = _hidden(now)
        if theirs:
            yours = _worded(field, _values(posted.data, bound.html_name)) if both else None
            changes.append(Change(capfirst(str(bound.label)), _worded(field, _posted(now)), yours))
    return Merged(data=data, changes=tuple(changes))
