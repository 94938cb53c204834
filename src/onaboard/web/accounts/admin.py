"""Users, clinics and API tokens in Django's admin. Tokens are issued by ``manage.py issue_api_token`` (the secret is
shown once) and revoked here; the admin's own sign-in page hands over to onaboard's, so the lockout and the
one-time code apply there too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onaboard.web.accounts.models import ApiToken, Clinic, User
from onaboard.web.accounts.services import api_token_revoke


@admin.register(User)
class OnaboardUserAdmin(UserAdmin):
    list_display = ("username", "role", "clinic", "is_active", "locked_until")
    list_filter = ("role", "clinic", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("onaboard", {"fields": ("role", "clinic", "failed_logins", "locked_until")}))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """People are deactivated (``is_active``), never deleted: their account is what the audit trail and every
        record they made point at."""
        return False


admin.site.register(Clinic)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("name", "user", "prefix", "created", "last_used", "revoked")
    readonly_fields = ("name", "user", "prefix", "created", "last_used", "revoked")
    actions = ("revoke",)

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


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin signs in through onaboard's pages (password with lockout, then the one-time code)."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))


admin.site.login = _admin_login  # type: ignore[method-assign]
