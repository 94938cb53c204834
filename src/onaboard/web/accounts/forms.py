"""Sign-in forms: the one-time code of the second step, and the same code when setting up or turning it off; the
confirmation that closes a portal account."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core.validators import RegexValidator
from django.http import HttpRequest
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


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form, with the current password checked as a sign-in is (``authenticate``): a wrong one counts
    toward the account's lockout and is audited as a failed sign-in, so an unattended signed-in browser cannot be
    used to guess the password without limit; a locked account cannot change it."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old: str = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old) is None:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old
