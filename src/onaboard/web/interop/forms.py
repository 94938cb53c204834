"""Forms of the exchange pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class DiaryUploadForm(forms.Form):
    """A CSV upload: diary days, preventive medicines tried or injection sessions."""

    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("diary", _("Diary days")),
            ("preventives", _("Preventive medicines tried")),
            ("sessions", _("Injection sessions")),
        ],
        initial="diary",
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("One of onaboard's CSV formats; patient_id is the record number."),
    )
    check_only = forms.BooleanField(label=_("Only check the file (save nothing)"), required=False, initial=False)

    def __init__(self, *args: Any, kinds: Sequence[str], **kwargs: Any) -> None:
        """``kinds``: the kinds of file this user may import (the others are neither offered nor accepted)."""
        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        field.choices = [choice for choice in field.choices if choice[0] in kinds]  # type: ignore[attr-defined]
