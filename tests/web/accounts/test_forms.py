"""The one-time code field (onaboard/web/accounts/forms.py)."""

from __future__ import annotations

import pytest

from onaboard.web.accounts.forms import CODE_FORMAT, OtpCodeForm


@pytest.mark.parametrize("typed", ["123456", "123 456", " 123456 "])
def test_a_code_may_be_typed_with_spaces(typed):
    """Six digits are accepted as apps show them, with or without the space in the middle."""
    form = OtpCodeForm({"code": typed})
    assert form.is_valid()
    assert form.cleaned_data["code"] == "123456"


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12a456"])
def test_anything_but_six_digits_is_refused(typed):
    """Blank, short, long or non-digit codes are refused with one message saying what to enter."""
    form = OtpCodeForm({"code": typed})
    assert not form.is_valid()
    assert form.errors["code"] == [str(CODE_FORMAT)]
