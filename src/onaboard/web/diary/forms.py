"""The diary day form: quick to fill in on a phone; the rules it is checked against are the engine's.

The form only collects text in the diary contract's columns (``engine_fields``); ``diary_entry_save`` hands them to
``onaboard.clinical.diary_day_from_fields``, and the problems it finds come back here to be shown next to their
fields in plain words (``add_engine_problems``). No diary rule is written in this module.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import AcuteClass, Intensity
from onaboard.clinical import diary as engine_diary
from onaboard.web.common.words import BEFORE_BIRTH_PLAIN, plain_day
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.services import DAY_BEFORE_BIRTH, loaded_token

HOURS_QUICK_CHOICES: tuple[str, ...] = ("0", "1", "2", "4", "6", "8", "12", "24")
"""The hour counts offered as one tap; any other number goes in the exact-hours field."""

FEATURES: tuple[tuple[str, Promise], ...] = (
    ("unilateral", _("on one side of the head")),
    ("pulsating", _("throbbing or pulsing")),
    ("worse_with_activity", _("worse when moving about (walking, stairs)")),
    ("nausea", _("felt sick (nausea)")),
    ("vomiting", _("was sick (vomited)")),
    ("photophobia", _("light bothered me")),
    ("phonophobia", _("noise bothered me")),
)
"""The pain features, in the contract's column order; the engine accepts them only on a day with headache."""

AURA_LABEL = _("aura: zigzag lines, flashing lights, a blind spot, tingling or trouble speaking before or with it")

INTENSITY_LABELS: Mapping[str, Promise] = {
    Intensity.MILD: _("mild: I could carry on"),
    Intensity.MODERATE: _("moderate: it got in the way"),
    Intensity.SEVERE: _("severe: I had to stop or lie down"),
}

ACUTE_LABELS: Mapping[str, Promise] = {
    AcuteClass.TRIPTAN: _("triptan (sumatriptan, rizatriptan, zolmitriptan…)"),
    AcuteClass.ERGOT: _("ergot (dihydroergotamine, ergotamine)"),
    AcuteClass.SIMPLE_ANALGESIC: _("simple painkiller (paracetamol, ibuprofen, aspirin, naproxen)"),
    AcuteClass.COMBINATION_ANALGESIC: _("combination painkiller (a tablet mixing painkillers, caffeine or codeine)"),
    AcuteClass.OPIOID: _("opioid on its own (tramadol, morphine, codeine alone)"),
    AcuteClass.GEPANT: _("gepant (rimegepant, ubrogepant)"),
    AcuteClass.DITAN: _("ditan (lasmiditan)"),
    AcuteClass.OTHER: _("another medicine for the headache"),
}
"""The eight acute classes of ``onaboard.clinical.AcuteClass`` in the words a patient uses."""

# Plain-word messages, shown next to the field instead of the engine's contract wording (tests assert these).
CHOOSE_DAY = _("Choose the day.")
DAY_NOT_A_DATE = _("Enter the day as year-month-day, for example 2026-03-02.")
DAY_DOES_NOT_EXIST = _("There is no such day as %(value)s.")
DAY_IN_FUTURE = _("%(day)s has not happened yet: you can record today or an earlier day.")
DAY_BEFORE_BIRTH_PLAIN = BEFORE_BIRTH_PLAIN
CHOOSE_HOURS = _("Choose how many hours you had a headache (0 if you had none).")
HOURS_NOT_VALID = _("Hours with headache must be a number from 0 to 24 (you entered %(value)s).")
CHOOSE_PAIN = _("Choose how bad the worst pain was.")
NO_PAIN_ON_HEADACHE_FREE_DAY = _("Leave the worst pain empty for a day with no headache (0 hours).")
NO_FEATURE_ON_HEADACHE_FREE_DAY = _("Leave this unticked for a day with no headache (0 hours).")
CHECK_ANSWERS = _("Please check the answers marked below.")
TEXT_TOO_LONG = _("This is too long: write at most %(limit_value)d characters (it has %(show_value)d).")
HOURS_TOO_LONG = _(
    "Hours with headache must be a number from 0 to 24, such as 2 or 1.5: at most %(limit_value)d characters "
    "(you typed %(show_value)d)."
)

NOTES_MAX_CHARACTERS = engine_diary.NOTES_MAX_CHARACTERS
"""The most a day's notes may hold (``FreeTextField``'s default), each line break counted once: the engine's, which
the imports ask too."""


class FreeTextField(forms.CharField):
    """Free text typed in a text box: each line break counted as one character, its length refused in plain words.

    Browsers send a line break in a ``<textarea>`` as CR LF (two characters), so a note within the limit on screen
    was refused; the text is kept with LF breaks (CR LF and a lone CR become LF) before its length is checked.
    """

    def __init__(self, *, max_length: int = NOTES_MAX_CHARACTERS, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {}).setdefault("max_length", TEXT_TOO_LONG)
        super().__init__(max_length=max_length, **kwargs)

    def to_python(self, value: Any) -> str:
        if isinstance(value, str):
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return super().to_python(value)


def engine_message_parts(template: str, message: str) -> dict[str, str] | None:
    """The values filled into ``template`` (an engine message constant) to make ``message``, or None if it did not.

    ``"date {value} is after today ({today})"`` and ``"date 2099-01-01 is after today (2026-03-02)"`` give
    ``{"value": "2099-01-01", "today": "2026-03-02"}``. This lets a page say an engine message in other words
    without the engine's wording being parsed anywhere else.
    """
    pattern, seen, shown_as_repr = "", set(), set()
    for literal, name, _spec, conversion in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if name is not None:
            pattern += f"(?P={name})" if name in seen else f"(?P<{name}>.*?)"
            seen.add(name)
            if conversion == "r":
                shown_as_repr.add(name)
    match = re.fullmatch(pattern, message, flags=re.DOTALL)
    if match is None:
        return None
    return {
        key: _unrepr(value) if key in shown_as_repr else value.strip("'\"") for key, value in match.groupdict().items()
    }


def _unrepr(shown: str) -> str:
    """The string a ``{value!r}`` field was given: ``"'4'"`` for the typed ``'4'``, where stripping quotes would
    give ``4``, a number the message then says was refused."""
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        return shown.strip("'\"")
    return value if isinstance(value, str) else shown


def _plain_day(value: str) -> str:
    try:
        return plain_day(date.fromisoformat(value))
    except ValueError:
        return value


def plain_problem(column: str, message: str) -> str:
    """The engine's problem with one diary column, in the words of a patient; its own text when not known here."""
    exact: Mapping[str, Promise] = {
        engine_diary.INTENSITY_REQUIRED: CHOOSE_PAIN,
        engine_diary.INTENSITY_ON_HEADACHE_FREE_DAY: NO_PAIN_ON_HEADACHE_FREE_DAY,
    }
    if message in exact:
        return str(exact[message])
    if message == engine_diary.REQUIRED_VALUE:
        return str(CHOOSE_HOURS if column == "headache_hours" else CHOOSE_DAY if column == "date" else message)
    if parts := engine_message_parts(engine_diary.FUTURE_DATE, message):
        return str(DAY_IN_FUTURE) % {"day": _plain_day(parts["value"])}
    if parts := engine_message_parts(gettext(DAY_BEFORE_BIRTH), message):
        return str(DAY_BEFORE_BIRTH_PLAIN) % {"day": _plain_day(parts["date"]), "birth": _plain_day(parts["birth"])}
    if engine_message_parts(engine_diary.BAD_DATE_FORMAT, message) is not None:
        return str(DAY_NOT_A_DATE)
    if parts := engine_message_parts(engine_diary.DATE_DOES_NOT_EXIST, message):
        return str(DAY_DOES_NOT_EXIST) % parts
    if parts := engine_message_parts(engine_diary.BAD_HOURS, message):
        return str(HOURS_NOT_VALID) % parts
    if engine_message_parts(engine_diary.FEATURE_ON_HEADACHE_FREE_DAY, message) is not None:
        return str(NO_FEATURE_ON_HEADACHE_FREE_DAY)
    return message


_DECIMAL_COMMA = re.compile(r"(\d+),(\d+)")


def exact_hours(typed: str) -> str:
    """The hours a patient typed, as the diary contract writes them: trimmed, and a comma between digits read as the
    decimal mark ("1,5" is 1.5 hours, as a phone set to a comma-decimal language types it). Anything else is left
    for the engine to judge (it names what is wrong)."""
    text = typed.strip()
    whole = _DECIMAL_COMMA.fullmatch(text)
    return f"{whole.group(1)}.{whole.group(2)}" if whole else text


def _hours_text(hours: Decimal) -> str:
    return format(hours.normalize(), "f")


class DiaryDayForm(forms.Form):
    """One diary day. Every field is optional here: what a day needs is the engine's to say."""

    date = forms.CharField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}),
    )
    loaded = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)
    """The day as the form was opened (``diary.services.loaded_token``): a save over a change made since is
    refused (``DiaryEntryConflictError``)."""
    hours_quick = forms.ChoiceField(
        label=_("Hours with headache"),
        required=False,
        choices=[(hours, hours) for hours in HOURS_QUICK_CHOICES],
        widget=forms.RadioSelect,
    )
    headache_hours = forms.CharField(
        label=_("Or type the exact hours"),
        required=False,
        max_length=8,
        error_messages={"max_length": HOURS_TOO_LONG},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    """Text, not a number input: a browser's number input drops a decimal comma as the patient types it ("1,5"
    became 15 hours); a comma between digits is read here as the decimal mark (``exact_hours``)."""
    intensity = forms.ChoiceField(
        label=_("Worst pain"),
        required=False,
        choices=list(INTENSITY_LABELS.items()),
        widget=forms.RadioSelect,
    )
    unilateral = forms.BooleanField(label=FEATURES[0][1], required=False)
    pulsating = forms.BooleanField(label=FEATURES[1][1], required=False)
    worse_with_activity = forms.BooleanField(label=FEATURES[2][1], required=False)
    nausea = forms.BooleanField(label=FEATURES[3][1], required=False)
    vomiting = forms.BooleanField(label=FEATURES[4][1], required=False)
    photophobia = forms.BooleanField(label=FEATURES[5][1], required=False)
    phonophobia = forms.BooleanField(label=FEATURES[6][1], required=False)
    aura = forms.BooleanField(label=AURA_LABEL, required=False)
    acute_medication = forms.MultipleChoiceField(
        label=_("Medicines taken for the headache"),
        required=False,
        choices=list(ACUTE_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    acute_relief = forms.BooleanField(label=_("the medicine helped"), required=False)
    believed_migraine = forms.BooleanField(label=_("it felt like a migraine"), required=False)
    notes = FreeTextField(label=_("Notes (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, max_date: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if max_date is not None:
            self.fields["date"].widget.attrs["max"] = max_date.isoformat()

    @classmethod
    def initial_for(cls, entry: DiaryEntry | None, day: date) -> dict[str, Any]:
        """What the form shows for a day: the stored row, or a blank day, with the row's ``loaded`` token
        (``diary.services.loaded_token``) so a save can tell whether someone changed the day meanwhile."""
        if entry is None:
            return {"date": day.isoformat(), "loaded": loaded_token(day, None)}
        hours = _hours_text(entry.headache_hours)
        quick = hours in HOURS_QUICK_CHOICES
        return {
            "loaded": loaded_token(entry.date, entry),
            "date": entry.date.isoformat(),
            "hours_quick": hours if quick else "",
            "headache_hours": "" if quick else hours,
            "intensity": entry.intensity,
            **{name: getattr(entry, name) for name, _label in FEATURES},
            "aura": entry.aura,
            "acute_medication": [c for c in entry.acute_medication.split(";") if c],
            "acute_relief": entry.acute_relief,
            "believed_migraine": entry.believed_migraine,
            "notes": entry.notes,
        }

    def feature_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _label in FEATURES]

    def engine_fields(self) -> dict[str, str]:
        """The cleaned answers as the diary contract's text columns (an exact number of hours wins over a tap)."""
        data = self.cleaned_data

        def yes_no(name: str) -> str:
            return "yes" if data.get(name) else "no"

        return {
            "date": (data.get("date") or "").strip(),
            "headache_hours": exact_hours(data.get("headache_hours") or "") or data.get("hours_quick") or "",
            "intensity": data.get("intensity") or "",
            **{name: yes_no(name) for name, _label in FEATURES},
            "aura": yes_no("aura"),
            "acute_medication": ";".join(c for c in AcuteClass if c in (data.get("acute_medication") or ())),
            "acute_relief": yes_no("acute_relief"),
            "believed_migraine": yes_no("believed_migraine"),
            "notes": (data.get("notes") or "").strip(),
        }

    def add_engine_problems(self, problems: Iterable[tuple[str, str]]) -> None:
        """Show each ``(column, message)`` the engine found next to its field, in plain words. A problem with a
        column whose answer, or an answer it is judged against (``ENGINE_NEEDS``), the form refused itself is left
        out: the form's own message is shown there, and the engine judged a blank in its place."""
        refused = set(self.errors) if self.is_bound else set()
        for column, message in problems:
            if refused.intersection(ENGINE_NEEDS.get(column, (column,))):
                continue
            field = column if column in self.fields else None
            self.add_error(field, plain_problem(column, message))


_HOURS_FIELDS = ("headache_hours", "hours_quick")
ENGINE_NEEDS: Mapping[str, tuple[str, ...]] = {
    "headache_hours": _HOURS_FIELDS,
    "intensity": ("intensity", *_HOURS_FIELDS),
    **{name: (name, *_HOURS_FIELDS) for name, _label in FEATURES},
}
"""The form fields each diary column is judged on (any other column: its own field). The pain and its features are
judged against the hours (a day with no headache has none), so with the hours refused they are not judged."""
