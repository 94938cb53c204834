"""Users, clinics, API tokens and authenticators in Django's admin. Tokens are issued by ``manage.py
issue_api_token`` (the secret is shown once), listed here with when they expire, and revoked here; setting someone's
password or unticking Active revokes their tokens too. The admin's own sign-in and password-change pages hand
over to onaboard's, so the lockout, the one-time code and the audit trail apply there too; an administrator lifts a
sign-in lockout here, the per-name rate limit included. An authenticator's secret is never shown and a device is
never edited: a lost phone's device is deleted and its owner sets up a new one.

One installation may serve several clinics, each with its own administrator (``manage.py create_clinic_admin``), so
an administrator of a clinic reaches that clinic's accounts, tokens and authenticators only, and keeps every account
in that clinic; an administrator of no clinic (the operator) reaches them all, as in the rest of the admin
(audit/admin.py, audit/admin_reads.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from onaboard.web.accounts.models import ApiToken, Clinic, Role, User
from onaboard.web.accounts.ratelimit import account_subject, rate_for, rate_limit_peek
from onaboard.web.accounts.services import (
    REVOKED_INACTIVE,
    REVOKED_PASSWORD_SET,
    account_lockout_lift,
    api_token_revoke,
    api_tokens_revoke_all,
)
from onaboard.web.audit.admin_reads import ReadsAudited
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_records
from onaboard.web.patients.models import Patient

SIGN_IN_NOT_LIMITED = _("Not refused: %(count)d of %(limit)d failed sign-ins for this name in the current window.")
SIGN_IN_LIMITED = ngettext_lazy(
    "Refused, even with the right password: %(count)d failed sign-ins for this name. Unless the lockout is lifted, "
    "sign-in works again in %(minutes)d minute.",
    "Refused, even with the right password: %(count)d failed sign-ins for this name. Unless the lockout is lifted, "
    "sign-in works again in %(minutes)d minutes.",
    "minutes",
)
LOCKOUT_LIFTED = _(
    "The sign-in lockout of %(username)s is lifted: failed sign-ins under this name no longer refuse the right "
    "password. A sign-in from an address that used up its own limit of failed sign-ins still waits for it."
)
LOCKOUTS_LIFTED = ngettext_lazy(
    "Sign-in lockout lifted for %(count)d account.", "Sign-in lockouts lifted for %(count)d accounts.", "count"
)
FELLOW_LOCKOUTS_KEPT = ngettext_lazy(
    "%(count)d account with admin powers is left as it was: the operator lifts an administrator's lockout.",
    "%(count)d accounts with admin powers are left as they were: the operator lifts an administrator's lockout.",
    "count",
)
FELLOW_PASSWORD_REFUSED = _(
    "This account has admin powers: its password is set by the operator, or by its holder on their own page."
)
ADMIN_NEEDS_STAFF = _("The admin needs an administrator account with admin access (staff status).")
SECRET_NOT_SHOWN = _(
    "An authenticator's secret is never shown again after it is set up. If a phone is lost, delete its device "
    "here; its owner then sets up a new one under Two-step sign-in."
)


ACCOUNT_CHANGED = _(
    "This account was changed since the page was opened (its sign-in lockout, Active, role or user name): nothing "
    "was saved. Open the account again to see it as it is now, then make the change."
)
PORTAL_LOGIN_ROLE = _(
    "This account is the portal login of a patient's record: it keeps the Patient role while it is linked. Unlink "
    "it first (Patients, the record, User), then give it a staff role."
)
USERNAME_TAKEN = _("An account with this user name already exists (capitals aside): %(username)s.")
ADMIN_POWERS = ("is_staff", "is_superuser", "groups", "user_permissions")
"""The account fields that grant the admin or its permissions, rather than describe the person or their role."""


def _has_admin_powers(user: User) -> bool:
    """Whether ``user`` has any of ``ADMIN_POWERS`` (the admin itself needs staff status)."""
    return user.is_staff or user.is_superuser or user.groups.exists() or user.user_permissions.exists()


def is_operator(request: HttpRequest) -> bool:
    """Whether the administrator is the operator: of no clinic, and a superuser (who alone reaches every clinic)."""
    return own_clinic(request) is None and request.user.is_superuser


def fellow_administrator(request: HttpRequest, account: User) -> bool:
    """Whether ``account`` is another person's account with admin powers and the administrator a clinic's, not the
    operator: its password, Active and lockout are then not theirs to change (a clinic's administrator who set a
    fellow administrator's password would sign in as them; one who made them inactive would shut them out)."""
    return account.pk != request.user.pk and not is_operator(request) and _has_admin_powers(account)


def own_clinic(request: HttpRequest) -> int | None:
    """The id of the administrator's clinic; None for an administrator of no clinic (the operator)."""
    return getattr(request.user, "clinic_id", None)


def clinic_scoped(request: HttpRequest, queryset: QuerySet[Any], clinic_lookup: str) -> QuerySet[Any]:
    """``queryset`` narrowed to the rows of the administrator's own clinic (``clinic_lookup`` leads from a row to its
    clinic). An administrator of no clinic (the operator) reaches every row if a superuser, none otherwise."""
    clinic = own_clinic(request)
    if clinic is None:
        return queryset if request.user.is_superuser else queryset.none()
    return queryset.filter(**{clinic_lookup: clinic})


def account_state(user: User) -> str:
    """What the change form must not write over unseen: the lockout, Active, the role, the name and the clinic as
    they were when the page was opened (the form posts them all back, so a lockout that began meanwhile would be
    "cleared" and an account deactivated meanwhile ticked Active again)."""
    locked = user.locked_until.isoformat() if user.locked_until else ""
    return "|".join((locked, str(user.is_active), user.role, user.username, str(user.clinic_id)))


def username_taken(username: str, *, other_than: Any = None) -> bool:
    """Whether another account has this user name, capitals aside: the per-name sign-in limit counts names so, and
    Django's add form refuses such a twin (``UserCreationForm.clean_username``)."""
    return User.objects.filter(username__iexact=username).exclude(pk=other_than).exists()


class OnaboardUserChangeForm(UserChangeForm):
    """The change form, refusing a save over a change made meanwhile (``account_state``, posted back hidden), a
    staff role for a patient's portal login, and a user name another account has in other capitals."""

    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["seen"] = account_state(self.instance)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if username_taken(username, other_than=self.instance.pk):
            raise ValidationError(USERNAME_TAKEN, params={"username": username}, code="unique")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        stored = User.objects.filter(pk=self.instance.pk).first() if self.instance.pk is not None else None
        if stored is None:
            return cleaned
        if self.data.get(self.add_prefix("seen"), "") != account_state(stored):
            raise ValidationError(ACCOUNT_CHANGED, code="changed")
        role = cleaned.get("role", stored.role)
        if role != Role.PATIENT and hasattr(stored, "patient"):
            self.add_error("role", ValidationError(PORTAL_LOGIN_ROLE, code="portal_login"))
        return cleaned


class OnaboardUserCreationForm(UserCreationForm):
    """The add form: a user name, a role (an account without one reaches no page) and a password. No "password-based
    authentication: disabled" choice: onaboard has no other way to sign in."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "role")


class OnaboardPasswordChangeForm(AdminPasswordChangeForm):
    """Setting someone's password, without Django's "disable password-based authentication" choice (there is no
    single sign-on to fall back on: a disabled password would only lock the person out)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("usable_password", None)
        self.fields["password1"].required = self.fields["password2"].required = True


@admin.register(User)
class OnaboardUserAdmin(ReadsAudited, UserAdmin):
    """People's accounts. An administrator of a clinic lists, opens, changes, resets the password of and lifts the
    lockout of their own clinic's accounts only (every page and action goes through ``get_queryset``), and every
    account they add or save stays in their clinic: the clinic field offers that clinic alone, so nobody is moved to
    another clinic (and so to its patients) or to no clinic (and so to the operator's reach of every clinic).

    Roles and admin powers (``ADMIN_POWERS``: staff status, which opens the admin, superuser status, groups and
    permissions) are kept apart. Nobody changes their own role or powers here, not even the operator: an
    administrator who made themself a clinician would read clinical records under the account that also keeps the
    audit trail. Admin powers are the operator's (an administrator of no clinic) to give and take away. A clinic's
    administrator sets their colleagues' roles but gives nobody the admin (every account of the clinic and its audit
    trail), and leaves the role of an account with admin powers (a fellow administrator's) as it is, so no account
    holds both the admin and a clinician's pages. Nor does a clinic's administrator set the password of, untick
    Active on or lift the lockout of an account with admin powers other than their own (``fellow_administrator``):
    that would let them sign in as a fellow administrator or shut them out; the operator does. A clinic's second
    administrator is made by ``manage.py create_clinic_admin`` with the clinic's name, or by the operator; one who
    leaves is made inactive by the operator (docs/deploy.md, "Staff accounts")."""

    form = OnaboardUserChangeForm
    add_form = OnaboardUserCreationForm
    change_password_form = OnaboardPasswordChangeForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "role", "password1", "password2")}),)
    list_display = ("username", "role", "clinic", "is_active", "locked_until")
    list_filter = ("role", "clinic", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("onaboard", {"fields": ("role", "clinic", "failed_logins", "locked_until", "sign_in_limit", "seen")}),
    )
    readonly_fields = ("failed_logins", "sign_in_limit", "last_login", "date_joined")  # facts, not settings
    actions = ("lift_lockout",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """Besides the account's facts: one's own role and admin powers; for a clinic's administrator, every
        account's admin powers, and the role, Active and "Locked until" of another account holding any (see the
        class's docstring)."""
        fixed = [*super().get_readonly_fields(request, obj)]
        if not is_operator(request):
            fixed += ADMIN_POWERS
        if obj is not None and obj.pk == request.user.pk:
            fixed += ("role", "is_active", *ADMIN_POWERS)  # nobody shuts themself out, the clinic's only admin too
        elif obj is not None and fellow_administrator(request, obj):
            fixed += ("role", "is_active", "locked_until", *ADMIN_POWERS)
        return tuple(dict.fromkeys(fixed))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """People are deactivated (``is_active``), never deleted: their account is what the audit trail and every
        record they made point at."""
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        """The accounts of the administrator's own clinic; every account for the operator."""
        return clinic_scoped(request, super().get_queryset(request), "clinic_id")

    # A patient's portal account holds the patient's name, email and last sign-in (when they last used the portal):
    # listing or opening it is a read of the patient, audited as the Patients pages audit theirs (``ReadsAudited``).

    def _audit_reads(self, request: HttpRequest, users: Iterable[Any], detail: str) -> None:
        """A ``READ`` of each patient whose portal account is among ``users``, naming the account. One query."""
        accounts = {user.pk: user for user in users}
        linked = Patient.objects.filter(user_id__in=accounts).values_list("user_id", "external_id")
        entries = [
            AuditEntry(
                action=Action.READ,
                object_type=User._meta.label_lower,
                object_id=user_id,
                patient_id=patient_id,
                detail=detail,
            )
            for user_id, patient_id in linked
        ]
        if entries:
            audit_records(user=request.user, entries=entries)

    def get_list_filter(self, request: HttpRequest) -> Any:
        """No clinic filter for an administrator of a clinic: it would list every clinic's name, to pick one."""
        filters = super().get_list_filter(request)
        return filters if own_clinic(request) is None else [name for name in filters if name != "clinic"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """An administrator of a clinic can choose that clinic only, and must: an account of no clinic would be
        out of their reach and, made a superuser, in reach of every clinic."""
        clinic = own_clinic(request)
        if db_field.name != "clinic" or clinic is None:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs["queryset"] = Clinic.objects.filter(pk=clinic)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        field.required = True
        field.empty_label = None
        return field

    @admin.display(description=_("failed sign-ins for the name"))
    def sign_in_limit(self, obj: User) -> str:
        """Whether sign-in under this name is refused by the per-name rate limit (``login_account``), and how long
        for: the lockout that ``locked_until`` does not show."""
        if obj.pk is None:
            return "-"
        verdict = rate_limit_peek("login_account", account_subject(obj.username))
        if verdict.allowed:
            return SIGN_IN_NOT_LIMITED % {"count": verdict.count, "limit": rate_for("login_account").count}
        return SIGN_IN_LIMITED % {"count": verdict.count, "minutes": max(1, math.ceil(verdict.retry_after / 60))}

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        """An administrator of a clinic saves every account into their clinic (a new one too: the add form has no
        clinic field). Clearing "Locked until" lifts the whole lockout of the name: the per-name rate limit too, or
        the right password would still be refused for up to an hour. Unticking "Active" revokes the account's API
        tokens, so ticking it again later does not bring them back."""
        clinic = own_clinic(request)
        if clinic is not None:
            obj.clinic_id = clinic
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            api_tokens_revoke_all(user=obj, revoked_by=request.user, reason=REVOKED_INACTIVE)
        if change and "locked_until" in form.changed_data and obj.locked_until is None:
            account_lockout_lift(user=obj, lifted_by=request.user)
            self.message_user(request, LOCKOUT_LIFTED % {"username": obj.username}, messages.SUCCESS)

    @admin.action(description=_("Lift the sign-in lockout of the selected accounts"))
    def lift_lockout(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Lift the lockout of each selected account, but for a clinic's administrator not of a fellow
        administrator's (``fellow_administrator``): those are left locked, and the message says how many."""
        users = list(queryset)
        kept = [user for user in users if fellow_administrator(request, user)]
        lifted = [user for user in users if user not in kept]
        for user in lifted:
            account_lockout_lift(user=user, lifted_by=request.user)
        if lifted:
            self.message_user(request, LOCKOUTS_LIFTED % {"count": len(lifted)}, messages.SUCCESS)
        if kept:
            self.message_user(request, FELLOW_LOCKOUTS_KEPT % {"count": len(kept)}, messages.WARNING)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:  # noqa: A002
        """One's own password is changed on onaboard's page, which asks for the current one (wrong ones count
        toward the lockout); the admin's form here sets another person's without it, and revokes that person's API
        tokens with it (as the change on onaboard's page does). A clinic's administrator is refused (403) the page of
        a fellow administrator's account (``fellow_administrator``)."""
        if unquote(id) == str(request.user.pk):
            return redirect("accounts:password_change")
        with transaction.atomic():
            person = self.get_object(request, unquote(id))  # None for one out of reach: Django's view answers 404
            if person is not None and fellow_administrator(request, person):
                raise PermissionDenied(FELLOW_PASSWORD_REFUSED)
            response = super().user_change_password(request, id, form_url)
            if person is not None:
                before = person.password
                person.refresh_from_db(fields=["password"])
                if person.password != before:  # set, or password sign-in turned off
                    api_tokens_revoke_all(user=person, revoked_by=request.user, reason=REVOKED_PASSWORD_SET)
        return response


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    """Clinics. An administrator of a clinic sees, renames and sets the site of service of their own clinic only
    (an office or a hospital outpatient department: whether Medicare asks for prior authorisation); adding and
    deleting clinics is the operator's (an administrator of no clinic), who reaches them all."""

    list_display = ("name", "site_of_service")
    fields = ("name", "site_of_service")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Clinic]:
        return clinic_scoped(request, super().get_queryset(request), "pk")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return own_clinic(request) is None and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return own_clinic(request) is None and super().has_delete_permission(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens, with when each was issued, last used and expires; listed, revoked, never added or deleted here."""

    list_display = ("name", "user", "prefix", "created", "last_used", "expires", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("name", "user", "prefix", "created", "last_used", "expires", "revoked")
    readonly_fields = ("name", "user", "prefix", "created", "last_used", "expires", "revoked")
    actions = ("revoke",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        """The tokens of the administrator's own clinic's accounts; every token for the operator."""
        return clinic_scoped(request, super().get_queryset(request), "user__clinic_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret can only be shown once, by the issue_api_token command

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked tokens stay listed so the audit trail can name them

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        live = list(queryset.filter(revoked=False).select_related("user"))
        for token in live:
            api_token_revoke(token=token, revoked_by=request.user)
        count = len(live)
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count, messages.SUCCESS)


class OnaboardTOTPDeviceAdmin(TOTPDeviceAdmin):
    """django-otp's authenticator admin without the secret: no ``key`` field, no QR code or configuration page
    (whoever read a secret could make that person's one-time codes), no adding (a device is set up by its owner, who
    alone sees the secret once) and no changing (moving one's own device, whose secret one knows, to another account,
    or marking a device confirmed, would give that account a second step someone else can pass). Listing, viewing and
    deleting (a lost phone) stay, for the devices of the administrator's own clinic's accounts (every device for the
    operator)."""

    readonly_fields = ("created_at", "last_used_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TOTPDevice]:
        return clinic_scoped(request, super().get_queryset(request), "user__clinic_id")

    def get_list_display(self, request: HttpRequest) -> Any:
        return [name for name in super().get_list_display(request) if name != "qrcode_link"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        hidden = {"key", "qrcode_link"}
        fieldsets = [
            (name, {**options, "fields": [field for field in options["fields"] if field not in hidden]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        return [(name, options) for name, options in fieldsets if options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Another person's device (a lost phone); one's own is removed on Two-step sign-in, with a current code
        (``otp_device_remove``). The list's bulk delete asks this of each device, so a selection holding one's own
        is refused whole."""
        if obj is not None and obj.user_id == request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def config_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        raise PermissionDenied(SECRET_NOT_SHOWN)

    def qrcode_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        raise PermissionDenied(SECRET_NOT_SHOWN)


admin.site.unregister(TOTPDevice)  # registered by django-otp's own admin module, imported above
admin.site.register(TOTPDevice, OnaboardTOTPDeviceAdmin)


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin signs in through onaboard's pages (password with lockout, then the one-time code). Someone already
    signed in is not sent to sign in again: with admin access they go on, without it they are told what is missing
    (signing in again would only bring them back here)."""
    if request.user.is_authenticated:
        if not admin.site.has_permission(request):
            raise PermissionDenied(ADMIN_NEEDS_STAFF)
        next_url = request.GET.get("next", "")
        safe = url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure())
        return HttpResponseRedirect(next_url if safe else reverse("admin:index"))
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))


def _admin_password_change(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's "Change password" is onaboard's page: the current password is checked as a sign-in is (wrong
    ones count toward the lockout) and the change is audited. Django's own admin form does neither."""
    return redirect("accounts:password_change")


admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.password_change = _admin_password_change  # type: ignore[method-assign]
