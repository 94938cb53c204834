"""Every add, change and delete made through Django's admin goes into the audit trail.

Django's admin writes its own history (``LogEntry``) through ``LogEntry.objects.log_actions`` for every object it
adds, changes or deletes, including bulk deletes (which ``bulk_create`` their entries, so no ``post_save`` signal
would see them). ``install`` wraps that one method, so every ModelAdmin of every app is covered without each having
to opt in; the audit event is written in the same transaction as the admin's own entry. Deletions are logged by
the admin before the objects go, so the event can still name them.

The event names the object by its public id where it has one (else its key), the patient it belongs to (for an
account, the patient whose portal login it is: a password set, Active unticked), and the
changed field names from the admin's change message, never the values or the object's text (which can hold a
patient's name). An event the operator (an administrator of no clinic) made names the clinic the object is of
(``AuditEvent.clinic``), so that clinic's administrator reads in their trail what the operator did to their
accounts, tokens, authenticators and clinic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntryManager
from django.contrib.auth import get_user_model
from django.utils.text import capfirst

from onaboard.web.accounts.selectors import portal_patient_ids
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import AuditEntry, audit_records

ADMIN_ACTIONS = {ADDITION: Action.CREATE, CHANGE: Action.UPDATE, DELETION: Action.DELETE}
VERBS = {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}


ACCOUNT = "accounts.User"
CLINIC = "accounts.Clinic"
OWNER_FIELDS = ("user", "owner", "trainee")
"""The field naming the account a record is of (a token's, an authenticator's, a calendar feed's, a trainee's)."""


def _patient_id(obj: Any, portal_patients: Mapping[Any, Any]) -> Any:
    """The public id of the patient ``obj`` is, belongs to (through a ``patient`` foreign key), or, for an account,
    whose portal login it is (``portal_patients``, by the account's key), if any."""
    if obj._meta.label == "patients.Patient":
        return obj.external_id
    if obj._meta.label == ACCOUNT:
        return portal_patients.get(obj.pk)
    patient = getattr(obj, "patient", None) if any(f.name == "patient" for f in obj._meta.fields) else None
    return getattr(patient, "external_id", None)


def _clinic_ids(objects: list[Any]) -> list[Any]:
    """For each object, the key of the clinic it is of: the clinic it names (an account, a patient, a live session),
    else the clinic of the account it is of (``OWNER_FIELDS``); None for an object of no clinic. A clinic's own entry
    names the clinic only if it has accounts (an administrator to read it): an event naming a clinic keeps it from
    being deleted (``AuditEvent.clinic``), and one added by mistake, with no accounts yet, is deleted. Two queries
    at most, however many objects."""
    user_model = get_user_model()
    refs: list[tuple[str, Any]] = []  # how the key leads to the clinic ("clinic", "own", "account"), the key
    for obj in objects:
        fields = {field.name: field for field in obj._meta.fields}
        clinic = fields.get("clinic")
        owner = next((fields[name] for name in OWNER_FIELDS if name in fields), None)
        if obj._meta.label == CLINIC:
            refs.append(("own", obj.pk))
        elif clinic is not None and clinic.is_relation and clinic.related_model._meta.label == CLINIC:
            refs.append(("clinic", getattr(obj, clinic.attname)))
        elif owner is not None and owner.related_model is user_model:
            refs.append(("account", getattr(obj, owner.attname)))
        else:
            refs.append(("clinic", None))
    accounts = {key for how, key in refs if how == "account" and key is not None}
    clinic_of = dict(user_model.objects.filter(pk__in=accounts).values_list("pk", "clinic_id")) if accounts else {}
    own = {key for how, key in refs if how == "own"}
    staffed = set(user_model.objects.filter(clinic_id__in=own).values_list("clinic_id", flat=True)) if own else set()
    return [
        clinic_of.get(key) if how == "account" else (key if how == "clinic" or key in staffed else None)
        for how, key in refs
    ]


def _changed_fields(change_message: Any) -> str:
    """The field names in the admin's change message (a JSON list like ``[{"changed": {"fields": [...]}}]``)."""
    if isinstance(change_message, str):
        try:
            change_message = json.loads(change_message) if change_message else []
        except ValueError:
            return ""
    names: list[str] = []
    for part in change_message or []:
        for detail in part.values() if isinstance(part, dict) else []:
            names.extend(str(name) for name in (detail or {}).get("fields", []))
    return ", ".join(dict.fromkeys(names))


def _role_given(obj: Any, action_flag: int, fields: str) -> str:
    """For an account added, or whose role changed: the role it now has (which pages it opens; the one change that
    gives an account the clinical records), which the field names alone do not say. A role is not a person's text,
    so the trail may hold it."""
    if obj._meta.label != ACCOUNT:
        return ""
    role = capfirst(str(obj._meta.get_field("role").verbose_name))  # as the admin's change message names it
    if action_flag == ADDITION or (action_flag == CHANGE and role in fields.split(", ")):
        return f"; role now {obj.role or 'none'}"
    return ""


def admin_actions_audit(*, user_id: Any, objects: Iterable[Any], action_flag: int, change_message: Any) -> None:
    """One audit event per object the admin added, changed or is about to delete."""
    user = get_user_model().objects.filter(pk=user_id).first()
    fields = _changed_fields(change_message)
    objects = list(objects)
    portal_patients = portal_patient_ids(obj for obj in objects if obj._meta.label == ACCOUNT)
    # The operator is of no clinic: the event names the object's, or its clinic's administrator would not read it.
    operator = getattr(user, "clinic_id", None) is None
    clinics = _clinic_ids(objects) if operator else [None] * len(objects)
    entries = []
    for obj, clinic_id in zip(objects, clinics, strict=True):
        label = obj._meta.label_lower
        detail = (
            f"admin: {VERBS[action_flag]} {label}"
            + (f" ({fields})" if fields else "")
            + _role_given(obj, action_flag, fields)
        )
        object_id = getattr(obj, "external_id", None) or obj.pk
        entries.append(
            AuditEntry(
                action=ADMIN_ACTIONS[action_flag],
                object_type=label,
                object_id=object_id,
                patient_id=_patient_id(obj, portal_patients),
                detail=detail,
                clinic_id=clinic_id,
            )
        )
    audit_records(user=user, entries=entries)


_original_log_actions = LogEntryManager.log_actions


def _log_actions(
    self: LogEntryManager, user_id: Any, queryset: Any, action_flag: int, change_message: Any = "", **kwargs: Any
) -> Any:
    objects = list(queryset)
    result = _original_log_actions(self, user_id, objects, action_flag, change_message, **kwargs)
    admin_actions_audit(user_id=user_id, objects=objects, action_flag=action_flag, change_message=change_message)
    return result


def install() -> None:
    """Route the admin's history through the audit trail as well (called once, from AuditConfig.ready)."""
    if LogEntryManager.log_actions is not _log_actions:
        LogEntryManager.log_actions = _log_actions  # type: ignore[method-assign]
