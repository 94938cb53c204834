"""The audit trail: every read and change of a patient's data, append-only."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = "the audit trail is append-only: events are never changed or deleted"


class Action(models.TextChoices):
    READ = "read", _("read")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    EXPORT = "export", _("export")
    LOGIN = "login", _("login")
    LOGIN_FAILED = "login_failed", _("failed login")
    LOGOUT = "logout", _("logout")
    DENIED = "denied", _("access denied")


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError(APPEND_ONLY)

    def delete(self) -> NoReturn:
        raise PermissionError(APPEND_ONLY)


class AuditEvent(models.Model):
    """Who did what to which record, when and from where. Rows are only ever inserted.

    ``detail`` says what was done, never what the record holds. The trail is read in the admin by the clinic's
    administrators, who are shown no clinical notes (``patients/access.py``, ``ROLE_CAPABILITIES``), so a detail holds
    only what they may see anyway: the action in a few words ("overrode interval", "side effect reported",
    "reviewed"), the names of the fields changed, check codes, dates of sessions and days, counts, public ids, and the
    billing and pathway facts their own pages show (a session's units, vials and lot, a worklist state, a coverage
    status). Never clinical content: no diary or questionnaire answers, scores or bands, safety answers, side effects'
    kinds, severities or grades, relatedness, drugs or products tried and their doses, nor a reason or note a clinician
    typed. That stays in the record, behind the record's own access rules; the event's ids lead to it.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    """PROTECT: deleting an account would rewrite its events (SET_NULL did); accounts are deactivated instead."""
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=400, blank=True)
    detail = models.CharField(max_length=400, blank=True)
    """What was done, in words holding no clinical content (see the class's docstring)."""
    clinic = models.ForeignKey(
        "accounts.Clinic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    """The clinic an event no user of a clinic made is about: the clinic of the account someone failed to sign in to,
    or that ``manage.py`` created or issued a token for. Its administrator reads such events (``audit/admin.py``);
    None where the acting user's clinic or the patient's says whose the event is (nearly every event). No index and
    no database constraint: adding either to the trail, the largest table, would hold its lock while every row is
    read (the column itself is added at once); clinics are never deleted while anything names them (PROTECT)."""

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(APPEND_ONLY)
