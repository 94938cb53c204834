"""Django's admin shows a patient's data as the clinic's own pages would, and records every read of it.

A superuser is also a member of a clinic with a role, and the role's capabilities (``patients/access.py``,
``ROLE_CAPABILITIES``) decide what the admin shows, through the same ``can`` and ``patients_visible_to`` the pages
ask. ``PatientDataAdmin``, the base of every admin of a model holding patient data:

- reaches only the patients ``patients_visible_to`` the user (their own clinic's), as every page does;
- shows the model only to a user with one of its ``view_capabilities`` (a side effect is clinical, so an
  administrator, who has demographics and billing only, is not shown side effects at all);
- leaves ``clinical_fields`` and ``clinical_inlines`` out of the pages, columns, search and filters of a user
  without ``Capability.VIEW_CLINICAL``, and refuses (400) a filter in the address on any field it does not show
  them (Django allows filtering on every field of the model, which would reveal a hidden field a query at a time);
- records a READ event for each patient's row on every list page it renders (as ``/api/patients`` records each
  patient it lists), and for each object page and history page it renders: the object's public id, its patient's,
  and "admin: listed", "admin: viewed" or "admin: viewed history" (never the search words or the object's text).

The admin's autocomplete endpoint, which no onaboard admin form uses for patient data, refuses to search these
models, so it is no unaudited side door to patients' names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse

from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_records
from onaboard.web.patients.access import Capability, can, patients_visible_to

LISTED = "admin: listed"
VIEWED = "admin: viewed"
VIEWED_HISTORY = "admin: viewed history"


def _field_of(entry: Any) -> str | None:
    """The model field a column or filter names (``"patient__record_number"`` names ``patient``; a filter may be a
    ``(name, FilterClass)`` pair, a search field a ``^``, ``=`` or ``@`` prefix); None for a callable column or a
    filter class."""
    name = entry[0] if isinstance(entry, list | tuple) and entry else entry
    return name.lstrip("^=@").split(LOOKUP_SEP)[0] if isinstance(name, str) else None


def _entries_without(entries: Iterable[Any], hidden: frozenset[str]) -> list[Any]:
    """The columns or filters of ``entries`` that name no hidden field."""
    return [entry for entry in entries if _field_of(entry) not in hidden]


def _fields_without(fields: Iterable[Any], hidden: frozenset[str]) -> list[Any]:
    """A fieldset's fields less the hidden ones (a tuple of names is one line of the page)."""
    kept: list[Any] = []
    for field in fields:
        if isinstance(field, list | tuple):
            line = tuple(name for name in field if name not in hidden)
            if line:
                kept.append(line)
        elif field not in hidden:
            kept.append(field)
    return kept


class ReadsAudited:
    """The admin's list, change and history pages of a model admin, each read audited by its ``_audit_reads``
    (the rows a page shows, fetched once, then shown): patient data, and a patient's portal account."""

    def _audit_reads(self, request: HttpRequest, objects: Iterable[Any], detail: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _context(response: HttpResponse) -> dict[str, Any]:
        """The context of a page about to be rendered (nothing for a redirect or a refusal)."""
        return getattr(response, "context_data", None) or {}

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = self._context(response).get("cl")
        if changelist is not None:
            self._audit_reads(request, changelist.result_list, LISTED)  # the page's rows, fetched once, then shown
        return response

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().changeform_view(request, object_id, form_url, extra_context)
        shown = self._context(response).get("original")
        if shown is not None:
            self._audit_reads(request, [shown], VIEWED)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        shown = self._context(response).get("object")
        if shown is not None:
            self._audit_reads(request, [shown], VIEWED_HISTORY)
        return response


class PatientDataAdmin(ReadsAudited, admin.ModelAdmin):
    """The admin of a model holding patient data: shown per the user's capabilities, every read audited."""

    patient_field: str = "patient"
    """The model's foreign key to its patient; "" for the Patient model itself."""
    view_capabilities: tuple[Capability, ...] = (Capability.VIEW_DEMOGRAPHICS,)
    """A user needs one of these to be shown the model at all."""
    clinical_fields: tuple[str, ...] = ()
    """Fields shown only to a user with the clinical view."""
    clinical_inlines: tuple[type[InlineModelAdmin], ...] = ()
    """Inlines shown only to a user with the clinical view."""
    unowned_clinic_field: str = ""
    """For a model whose rows may have no patient (a clinic-wide calendar feed): the lookup to the row's clinic, so
    such rows are listed to their own clinic's staff only; "" lists no row without a patient."""

    # --- What the user may see ------------------------------------------------------------------------------

    def _clinical(self, request: HttpRequest) -> bool:
        return can(request.user, Capability.VIEW_CLINICAL)

    def _hidden(self, request: HttpRequest) -> frozenset[str]:
        return frozenset() if self._clinical(request) else frozenset(self.clinical_fields)

    def _may_see(self, request: HttpRequest) -> bool:
        return any(can(request.user, capability) for capability in self.view_capabilities)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_see(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_see(request) and super().has_change_permission(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """Only rows of the patients the user may see, and rows with no patient of the user's own clinic
        (``unowned_clinic_field``)."""
        queryset = super().get_queryset(request)
        visible = patients_visible_to(request.user).values("pk")
        if not self.patient_field:
            return queryset.filter(pk__in=visible)
        mine = Q(**{f"{self.patient_field}__in": visible})
        clinic = getattr(request.user, "clinic_id", None)
        if self.unowned_clinic_field and clinic is not None:
            mine |= Q(**{f"{self.patient_field}__isnull": True, self.unowned_clinic_field: clinic})
        # Django's changelist adds list_select_related only to a queryset selecting nothing related yet: add it here.
        listed = self.list_select_related if isinstance(self.list_select_related, list | tuple) else ()
        return queryset.filter(mine).select_related(*dict.fromkeys((self.patient_field, *listed)))

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[tuple[Any, dict[str, Any]]]:
        hidden = self._hidden(request)
        fieldsets = super().get_fieldsets(request, obj)
        if not hidden:
            return fieldsets
        kept = [
            (name, {**options, "fields": _fields_without(options["fields"], hidden)}) for name, options in fieldsets
        ]
        return [(name, options) for name, options in kept if options["fields"]]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[type[InlineModelAdmin]]:
        inlines = list(super().get_inlines(request, obj))
        return inlines if self._clinical(request) else [i for i in inlines if i not in self.clinical_inlines]

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        return _entries_without(super().get_list_display(request), self._hidden(request))

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        return _entries_without(super().get_list_filter(request), self._hidden(request))

    def get_search_fields(self, request: HttpRequest) -> Sequence[str]:
        return _entries_without(super().get_search_fields(request), self._hidden(request))

    def _shown(self, request: HttpRequest) -> set[str]:
        """The model's fields the admin shows this user: on its pages, as columns, filters or the date drill-down."""
        shown = set(flatten_fieldsets(self.get_fieldsets(request)))
        shown.update(_field_of(entry) for entry in (*self.get_list_display(request), *self.get_list_filter(request)))
        if self.date_hierarchy:
            shown.add(self.date_hierarchy.split(LOOKUP_SEP)[0])
        return shown

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Without the clinical view, a filter on a field of the model the admin does not show is refused."""
        if request is not None and not self._clinical(request):
            first = lookup.split(LOOKUP_SEP, maxsplit=1)[0]
            try:
                field = self.model._meta.get_field(first)
            except FieldDoesNotExist:
                field = None
            if field is not None and field.name not in self._shown(request):
                return False
        return super().lookup_allowed(lookup, value, request)

    # --- Recording the reads --------------------------------------------------------------------------------

    def _patient_of(self, obj: Any) -> Any:
        return obj if not self.patient_field else getattr(obj, self.patient_field, None)

    def _audit_reads(self, request: HttpRequest, objects: Iterable[Any], detail: str) -> None:
        entries = []
        for obj in objects:
            patient = self._patient_of(obj)
            if patient is None:
                continue
            entries.append(
                AuditEntry(
                    action=Action.READ,
                    object_type=obj._meta.label_lower,
                    object_id=getattr(obj, "external_id", None) or obj.pk,
                    patient_id=patient.external_id,
                    detail=detail,
                )
            )
        if entries:
            audit_records(user=request.user, entries=entries)


_site_autocomplete = admin.site.autocomplete_view


def _autocomplete(request: HttpRequest) -> HttpResponse:
    """The admin's autocomplete, refused for a model of patient data (no onaboard admin form asks it for one)."""
    _term, model_admin, _field, _to_field = AutocompleteJsonView(admin_site=admin.site).process_request(request)
    if isinstance(model_admin, PatientDataAdmin):
        raise PermissionDenied
    return _site_autocomplete(request)


admin.site.autocomplete_view = _autocomplete  # type: ignore[method-assign]
