"""Sign-in forms: the one-time code of the second step, and the same code when setting up or turning it off; the
confirmation that closes a portal account."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

CODE_FORMAT = _("Enter the 6 digits your authenticator app shows.")


class OtpCodeField(forms.CharField):
    """Six digits; spaces are ignored, as apps show codes as "123 456"."""

    def to_python(self, value: object) -> str:
        return "".join(str(super().to_python(value)).split())


class OtpCodeForm(forms.Form):
    code = OtpCodeField(
        label=_("6-digit code"),
        validators=[RegexValidator(r"^[0-9]{6}$", CODE_FORMAT)],
        error_messages={"required": CODE_FORMAT},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]{6,7}",
                "autofocus": True,
                "size": 8,
            }
        ),
    )


CLOSE_NOT_CONFIRMED = _("Tick the box to confirm that the portal account should be closed.")


class PortalCloseForm(forms.Form):
    """Closing a portal account cannot be undone from the portal, so it needs an explicit tick."""

    confirm = forms.BooleanField(
        label=_("I understand: signing in to the portal will no longer work, and the clinical record is kept."),
        error_messages={"required": CLOSE_NOT_CONFIRMED},
    )
