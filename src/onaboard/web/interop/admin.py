"""Calendar feeds in Django's admin, so an administrator can revoke a feed whose address has leaked (its owner may
be away, or deactivated without the feed's patient being reassigned). Feeds are created on the exchange pages,
where the secret address is shown once; here they are only listed and revoked, each revocation audited. A feed names
its patient, so the list shows only the user's clinic's and is audited as a read (``PatientDataAdmin``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from onaboard.web.audit.admin_reads import PatientDataAdmin
from onaboard.web.interop.calendar import feed_revoke
from onaboard.web.interop.models import CalendarFeed


@admin.register(CalendarFeed)
class CalendarFeedAdmin(PatientDataAdmin):
    list_display = ("prefix", "owner", "patient", "created", "last_used", "revoked")
    list_filter = ("revoked",)
    search_fields = ("prefix", "owner__username", "patient__record_number")
    fields = ("prefix", "owner", "patient", "created", "last_used", "revoked")
    readonly_fields = fields
    list_select_related = ("owner", "patient")
    unowned_clinic_field = "owner__clinic"
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret address can only be shown once, on the exchange page that creates it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked feeds stay listed so the audit trail can name them

    @admin.action(description=_("Revoke the selected calendar feeds"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        live = list(queryset.filter(revoked__isnull=True).select_related("patient"))
        for feed in live:
            feed_revoke(user=request.user, feed=feed)
        count = len(live)
        done = ngettext("%d calendar feed revoked.", "%d calendar feeds revoked.", count) % count
        self.message_user(request, done, messages.SUCCESS)
