"""Signing in (password, then a one-time code for staff who set one up) and setting up two-step sign-in.

After the password, a user with a confirmed authenticator is *not* signed in yet: the session only remembers who
is waiting for the code, for ``PENDING_SECONDS``. The code page signs them in and marks the session verified.
"""

from __future__ import annotations

import time
from base64 import b32encode
from http import HTTPStatus
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from onaboard.web.accounts import services
from onaboard.web.accounts.forms import OtpCodeForm, PasswordChangeForm, PortalCloseForm
from onaboard.web.accounts.middleware import EXPIRED_KEY, UNSAVED_KEY, UNSAVED_NOTICE_SECONDS
from onaboard.web.accounts.models import User
from onaboard.web.accounts.ratelimit import (
    Verdict,
    account_subject,
    rate_limit_hit,
    rate_limit_refund,
    too_many_requests_message,
)
from onaboard.web.accounts.selectors import (
    otp_available_to,
    otp_device_confirmed,
    otp_device_unconfirmed,
    otp_verification_needed,
)
from onaboard.web.accounts.services import STAFF_ONLY, OtpCodeError
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_patient_read, audit_record
from onaboard.web.common.addresses import rate_limit_address
from onaboard.web.patients.access import Capability, own_patient, patient_for

PASSWORD_CHANGED = _("Your password is changed. Any other browser signed in as you is now signed out.")
TOKENS_REVOKED_ON_PASSWORD_CHANGE = ngettext_lazy(
    "Your API token no longer works either: ask the clinic's administrator for a new one if you still need it.",
    "Your %(count)d API tokens no longer work either: ask the clinic's administrator for new ones if you still "
    "need them.",
    "count",
)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Everyone signed in changes their own password: the current one (checked as a sign-in is, so wrong ones count
    toward the lockout), then the new one twice, checked against the deployment's password rules
    (AUTH_PASSWORD_VALIDATORS). The change, its audit entry and the revocation of the user's API tokens (which the
    old password could have been used to get) are one transaction; Django then signs out every other browser
    session of the account (its session hash changes) and keeps this one."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def get_success_url(self) -> str:
        return reverse("accounts:password_change")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                user=self.request.user, action=Action.UPDATE, object_type="password", detail="changed by the user"
            )
            revoked = services.api_tokens_revoke_all(
                user=self.request.user, revoked_by=self.request.user, reason=services.REVOKED_PASSWORD_CHANGED
            )
        messages.success(self.request, PASSWORD_CHANGED)
        if revoked:
            messages.info(self.request, TOKENS_REVOKED_ON_PASSWORD_CHANGE % {"count": revoked})
        return response


PENDING_SESSION_KEY = "onaboard_otp_pending"
PENDING_SECONDS = 5 * 60
"""How long the password step stays good while the one-time code is awaited."""

SIGNED_IN_WITH_CODE = _("Signed in with your one-time code.")
TWO_STEP_ON = _("Two-step sign-in is on. From now on, signing in asks for a code from your app.")
TWO_STEP_OFF = _("Two-step sign-in is off.")
PENDING_EXPIRED = _("That took too long. Sign in again.")


SESSION_EXPIRED = {
    "idle": _("You were signed out after a while without activity. Sign in again."),
    "absolute": _("You were signed out because you had been signed in for a long time. Sign in again."),
}

SESSION_EXPIRED_UNSAVED = {  # the session ended on a request sending something (middleware.UNSAVED_KEY)
    "idle": _(
        "You were signed out after a while without activity, so what you were sending was not saved. Sign in, "
        "then enter it again."
    ),
    "absolute": _(
        "You were signed out because you had been signed in for a long time, so what you were sending was not "
        "saved. Sign in, then enter it again."
    ),
}
UNSAVED_AFTER_SIGN_IN = _("What you were sending when you were signed out was not saved: enter it again.")
"""Said once more on the first page after signing in, which shows what was saved before (a diary day's earlier
record, marked saved): without it, that page reads as if the new entry had been saved."""


def _repeat_unsaved(request: HttpRequest, user: User) -> None:
    """Once ``user`` is signed in: if their own session ended, not long ago, on a request sending something, the
    page they land on says again that it was not saved. Said once: the mark goes whoever signs in."""
    unsaved = request.session.pop(UNSAVED_KEY, None)
    if (
        isinstance(unsaved, dict)
        and unsaved.get("user") == str(user.pk)
        and time.time() - float(unsaved.get("at", 0)) <= UNSAVED_NOTICE_SECONDS
    ):
        messages.warning(request, UNSAVED_AFTER_SIGN_IN)


class SignInView(auth_views.LoginView):
    """The password step. Users with a confirmed authenticator go on to the code step before being signed in.

    Failed tries are counted per client address and per account name (ratelimit.py, beyond the account lockout of
    backends.py); once either is used up the page answers 429 without checking the password. A try is counted
    before its password is checked, so simultaneous tries cannot all slip under the limit, and given back when the
    password was right or the try was refused: successful sign-ins are not counted.
    """

    template_name = "accounts/login.html"
    form_class = AuthenticationForm
    reserved: tuple[Verdict, ...] = ()

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        reason = request.session.pop(EXPIRED_KEY, None)
        if reason in SESSION_EXPIRED and UNSAVED_KEY in request.session:
            messages.warning(request, SESSION_EXPIRED_UNSAVED[reason])
        elif reason in SESSION_EXPIRED:
            messages.info(request, SESSION_EXPIRED[reason])
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = account_subject(request.POST.get("username", ""))
        verdicts = (
            rate_limit_hit("login_address", rate_limit_address(request)),
            rate_limit_hit("login_account", account),
        )
        refused = [verdict for verdict in verdicts if not verdict.allowed]
        if refused:  # both used up: the wait is the later window's end, when the try is no longer refused
            for verdict in verdicts:  # not checked, so not a failure: neither limit keeps it
                rate_limit_refund(verdict)
            return self._rate_limited(max(refused, key=lambda verdict: verdict.retry_after))
        self.reserved = verdicts  # a failure stays counted; form_valid gives a success back
        return super().post(request, *args, **kwargs)

    def _rate_limited(self, verdict: Verdict) -> HttpResponse:
        form = self.get_form_class()(self.request)
        context = self.get_context_data(form=form, rate_limited=too_many_requests_message(verdict.retry_after))
        response = self.render_to_response(context, status=HTTPStatus.TOO_MANY_REQUESTS)
        response["Retry-After"] = str(verdict.retry_after)
        return response

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        for verdict in self.reserved:  # the right password: not a failed sign-in
            rate_limit_refund(verdict)
        user = form.get_user()
        if otp_device_confirmed(user) is None:
            response = super().form_valid(form)
            _repeat_unsaved(self.request, user)
            return response
        self.request.session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:login_code")


def _pending_user(request: HttpRequest) -> tuple[User | None, dict[str, Any] | None]:
    """Who passed the password step in this session and awaits the code, if still in time."""
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict):
        return None, None
    if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        del request.session[PENDING_SESSION_KEY]
        messages.warning(request, PENDING_EXPIRED)
        return None, None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the 6-digit code. Signs in a pending user, or verifies a signed-in but unverified one."""
    if otp_verification_needed(request.user):
        user, pending = request.user, None
        next_url = _safe_next(request, request.GET.get("next") or request.POST.get("next"))
    else:
        user, pending = _pending_user(request)
        if user is None:
            return redirect("accounts:login")
        next_url = _safe_next(request, pending.get("next") if pending else None)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.otp_code_check(user=user, code=form.cleaned_data["code"])
        except OtpCodeError as error:
            form.add_error("code", error.message)
        else:
            if pending is not None:
                user.otp_device = device  # django-otp marks the session verified as the login signal fires
                auth_login(request, user, backend=pending["backend"])
                request.session.pop(PENDING_SESSION_KEY, None)
                _repeat_unsaved(request, user)
            else:
                otp_login(request, device)
                audit_record(
                    user=user,
                    action=Action.LOGIN,
                    object_type="user",
                    object_id=user.external_id,
                    detail="one-time code entered",
                )
            messages.success(request, SIGNED_IN_WITH_CODE)
            return HttpResponseRedirect(next_url)
    return render(request, "accounts/login_code.html", {"form": form, "next": next_url, "pending_user": user})


def _staff_only(request: HttpRequest) -> None:
    if not otp_available_to(request.user):
        raise PermissionDenied(STAFF_ONLY)


@login_required
@require_http_methods(["GET", "POST"])
def otp_device_detail(request: HttpRequest) -> HttpResponse:
    """Two-step sign-in: whether it is on; POST starts setting it up (a new secret) and goes to the confirm page."""
    _staff_only(request)
    device = otp_device_confirmed(request.user)
    if request.method == "POST" and device is None:
        services.otp_device_enrol(user=request.user)
        return redirect("accounts:otp_device_confirm")
    return render(
        request,
        "accounts/otp_device_detail.html",
        {"device": device, "remove_form": OtpCodeForm(auto_id="remove_%s")},
    )


@login_required
@require_http_methods(["GET", "POST"])
def otp_device_confirm(request: HttpRequest) -> HttpResponse:
    """Shows the new secret (as an otpauth:// link and as text) and confirms it with the app's first code."""
    _staff_only(request)
    device = otp_device_unconfirmed(request.user)
    if device is None:
        return redirect("accounts:otp_device_detail")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = services.otp_device_confirm(user=request.user, code=form.cleaned_data["code"])
        except OtpCodeError as error:
            form.add_error("code", error.message)
        else:
            otp_login(request, confirmed)
            messages.success(request, TWO_STEP_ON)
            return redirect("accounts:otp_device_detail")
    secret = b32encode(device.bin_key).decode("ascii")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request,
        "accounts/otp_device_confirm.html",
        {"form": form, "config_url": device.config_url, "secret": grouped},
    )


@login_required
@require_POST
def otp_device_remove(request: HttpRequest) -> HttpResponse:
    """Turns two-step sign-in off after checking a current code."""
    _staff_only(request)
    form = OtpCodeForm(request.POST, auto_id="remove_%s")
    if form.is_valid():
        try:
            services.otp_device_remove(user=request.user, code=form.cleaned_data["code"])
        except OtpCodeError as error:
            form.add_error("code", error.message)
        else:
            messages.success(request, TWO_STEP_OFF)
            return redirect("accounts:otp_device_detail")
    device = otp_device_confirmed(request.user)
    return render(request, "accounts/otp_device_detail.html", {"device": device, "remove_form": form})


# --- Closing a portal account -------------------------------------------------------------------------------------

PORTAL_CLOSED_BY_PATIENT = _("Your portal account is closed. Your clinic keeps your clinical record.")
PORTAL_CLOSED_BY_STAFF = _("The patient's portal account is closed. Their clinical record stays as it was.")


def _my_data_url() -> str | None:
    """The "download my data" page, where that page exists."""
    try:
        return reverse("interop:my_data")
    except NoReverseMatch:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def portal_close(request: HttpRequest) -> HttpResponse:
    """A patient closes their own portal account, after a confirmation step; then they are signed out. The page
    names the patient, so showing it (again, after a refused post too) is an audited read, as the staff's is."""
    patient = own_patient(request.user, need=Capability.VIEW_DEMOGRAPHICS)
    form = PortalCloseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.portal_account_close(patient=patient, closed_by=request.user)
        auth_logout(request)
        messages.success(request, PORTAL_CLOSED_BY_PATIENT)
        return redirect("accounts:login")
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail="own portal account close form",
    )
    return render(
        request,
        "accounts/portal_close.html",
        {"form": form, "patient": patient, "by_patient": True, "my_data_url": _my_data_url()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_portal_close(request: HttpRequest, external_id: UUID) -> HttpResponse:
    """Clinical staff close a patient's portal account on their behalf, after the same confirmation step. The page
    names the patient's record number, so showing it (again, after a refused post too) is an audited read."""
    patient = patient_for(request.user, external_id, need=Capability.EDIT_CLINICAL)
    form = PortalCloseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_account_close(patient=patient, closed_by=request.user)
        except ValueError as refusal:  # no portal account, already closed, or not a patient's login
            form.add_error(None, str(refusal))
        else:
            messages.success(request, PORTAL_CLOSED_BY_STAFF)
            return redirect("patients:detail", external_id=patient.external_id)
    audit_patient_read(
        user=request.user,
        patient=patient,
        object_type="patient",
        object_id=patient.external_id,
        detail="portal account close form",
    )
    return render(request, "accounts/portal_close.html", {"form": form, "patient": patient, "by_patient": False})
