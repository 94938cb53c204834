"""Patients in Django's admin: administrators link a portal login or close the portal; the clinical record is edited
on the clinic's own pages (with optimistic locking and the audit trail), so it is read-only here. Nothing is deleted.
Only the user's own clinic's patients are listed, and every list and page is audited as a read (``PatientDataAdmin``).
A portal login is a patient account of the patient's own clinic that no other patient uses: the choice offers only
those, and the form refuses any other (a staff login linked here would be locked out when the portal is closed, and
another clinic's patient account would see this clinic's patient).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onaboard.web.accounts.admin import own_clinic
from onaboard.web.accounts.models import Role, User
from onaboard.web.accounts.services import portal_login_end
from onaboard.web.audit.admin_reads import PatientDataAdmin
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.patients.models import Patient

ADMIN_EDITABLE = ("user", "portal_closed")
"""The fields the admin's form may change (every other field of ``PatientAdmin.fields`` is read-only there), and so
the only ones ``PatientAdmin.save_model`` writes on a change."""

NOT_A_PORTAL_LOGIN = _(
    "A portal login must be a patient account of this patient's clinic that no other patient uses. "
    "Create a patient account first (role Patient, this clinic), or leave the field empty."
)


PORTAL_CLOSED_IN_FUTURE = _(
    "The portal is closed now, not on a later day: leave Portal closed empty until then (a later date closed it at "
    "once all the same)."
)
PORTAL_CLOSED_HELP = _(
    "Setting a date closes the portal as Close portal account does: the login is made inactive and its API tokens "
    "are revoked. Clearing it opens the portal again only once Active is ticked on the login too."
)


def portal_login_candidates(patient: Patient) -> QuerySet[User]:
    """The accounts that may be ``patient``'s portal login: patient accounts of the patient's clinic linked to no
    other patient (the one linked now included)."""
    return (
        User.objects.filter(role=Role.PATIENT, clinic_id=patient.clinic_id)
        .filter(Q(patient__isnull=True) | Q(patient__pk=patient.pk))
        .order_by("username")
    )


class PatientAdminForm(ModelForm):
    """The patient's admin form: the portal login is chosen among ``portal_login_candidates`` only; a login linked
    before that breaks the rule is shown, and refused on saving until it is unlinked or replaced."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("user")
        if field is not None:  # the login linked now is listed even if it breaks the rule, so the page shows it
            linked = Q(pk=self.instance.user_id) if self.instance.user_id is not None else Q(pk__in=[])
            candidates = portal_login_candidates(self.instance).values("pk")
            field.queryset = User.objects.filter(Q(pk__in=candidates) | linked).order_by("username")
            field.error_messages["invalid_choice"] = NOT_A_PORTAL_LOGIN
            # No "+" or pencil beside it: Users' add form there made accounts without the Patient role or this clinic.
            for name in ("can_add_related", "can_change_related", "can_delete_related"):
                setattr(field.widget, name, False)
        closed = self.fields.get("portal_closed")
        if closed is not None:
            closed.help_text = PORTAL_CLOSED_HELP

    def clean_portal_closed(self) -> Any:
        closed = self.cleaned_data.get("portal_closed")
        if closed is not None and closed > timezone.now() and closed != self.initial.get("portal_closed"):
            raise ValidationError(PORTAL_CLOSED_IN_FUTURE, code="future")
        return closed

    def clean_user(self) -> User | None:
        user: User | None = self.cleaned_data.get("user")
        if user is not None and not portal_login_candidates(self.instance).filter(pk=user.pk).exists():
            raise ValidationError(NOT_A_PORTAL_LOGIN, code="invalid_choice")
        return user


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    patient_field = ""
    form = PatientAdminForm
    list_display = ("record_number", "family_name", "given_name", "birth_date", "clinic", "user", "portal_closed")
    list_select_related = ("clinic", "user")  # nullable: the changelist's own select_related() skips it
    list_filter = ("clinic",)
    search_fields = ("record_number", "family_name", "given_name")
    fields = (
        "clinic",
        "record_number",
        "given_name",
        "family_name",
        "birth_date",
        "sex",
        "user",
        "portal_closed",
        "version",
    )
    # A list of the candidates, not raw_id_fields: its lookup pop-up listed every account, staff included.

    def get_list_filter(self, request: HttpRequest) -> Any:
        """No clinic filter for an administrator of a clinic: it would list every clinic's name, to pick one."""
        filters = super().get_list_filter(request)
        return filters if own_clinic(request) is None else [name for name in filters if name != "clinic"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(name for name in self.fields if name not in ADMIN_EDITABLE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Patient, form: ModelForm, change: bool) -> None:
        """Save the portal fields, bump the record's version and audit the change. Setting **Portal closed** where it
        was empty closes the portal as the patient's page does: the patient login is made inactive and its API tokens
        revoked (``portal_login_end``), in the admin's transaction. Clearing it does not open the login again: the
        administrator ticks **Active** on the login as well (docs/deploy.md), a second deliberate step.

        A change writes only the fields the form may change (``ADMIN_EDITABLE``) and ``modified``: ``obj`` holds every
        column as read when the POST began, and saving them all would put back what a clinical save (``patient_update``:
        demographics, safety answers) stored in the meantime."""
        if change:
            obj.save(update_fields=[*ADMIN_EDITABLE, "modified"])
        else:
            super().save_model(request, obj, form, change)
        Patient.objects.filter(pk=obj.pk).update(version=F("version") + 1)
        detail = "admin: changed " + (", ".join(form.changed_data) or "nothing")
        if (
            "portal_closed" in form.changed_data
            and obj.portal_closed is not None
            and form.initial.get("portal_closed") is None
        ):
            login = User.objects.filter(pk=obj.user_id).first()
            if login is not None and login.role == Role.PATIENT:
                revoked = portal_login_end(login, revoked_by=request.user)
                detail += f"; portal login {login.username} made inactive, {revoked} API token(s) revoked"
        audit_record(
            user=request.user,
            action=Action.UPDATE,
            object_type="patient",
            object_id=obj.external_id,
            patient_id=obj.external_id,
            detail=detail,
        )
