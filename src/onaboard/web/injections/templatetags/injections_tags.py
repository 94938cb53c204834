"""Template tags behind the partials other pages include (``injections/_sessions.html``, ``_side_effects.html``).

Each takes the patient and the signed-in user and returns only what that user may see; the including page has
already reached the patient through ``patients/access.py`` and audited the read.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from onaboard.web.accounts.models import Role
from onaboard.web.injections import selectors
from onaboard.web.injections.sitemap import MapSite, plan_map_sites
from onaboard.web.outcomes.selectors import stopped_decision
from onaboard.web.patients.access import Capability, can
from onaboard.web.patients.models import Patient

register = template.Library()


@register.simple_tag
def patient_sessions(patient: Patient, user: Any) -> dict[str, Any]:
    """The patient's sessions and 12-week schedule for a user with the clinical or the billing view, and the
    clinician's decision to stop when it is the latest (``outcomes.selectors.stopped_decision``): the card shows it
    instead of the engine's due date. Sessions entered in error are listed apart, under the table."""
    clinical = can(user, Capability.VIEW_CLINICAL)
    if not (clinical or can(user, Capability.VIEW_BILLING)):
        return {"visible": False}
    today = timezone.localdate()
    booking = selectors.open_booking(patient)
    return {
        "visible": True,
        "clinical": clinical,
        "can_record": can(user, Capability.RECORD_SESSION),
        "sessions": list(selectors.sessions_for(patient)),
        "in_error": list(selectors.sessions_in_error(patient)),
        "booking": booking,
        "held": selectors.booking_held(booking, today=today),
        "schedule": selectors.patient_schedule(patient, today=today),
        "stopped": stopped_decision(patient, today),
    }


@register.simple_tag
def patient_side_effects(patient: Patient, user: Any) -> dict[str, Any]:
    """The patient's side effects for a user with the clinical view; nothing for anyone else."""
    if not can(user, Capability.VIEW_CLINICAL):
        return {"visible": False}
    return {
        "visible": True,
        "side_effects": list(selectors.side_effects_for(patient)),
        "can_review": can(user, Capability.EDIT_CLINICAL),
        "can_report": can(user, Capability.KEEP_DIARY),
        "own": getattr(user, "role", "") == Role.PATIENT,
    }


@register.filter
def map_sites_of(plan: Any) -> list[MapSite]:
    """``{% include "injections/_site_map.html" with map_sites=plan|map_sites_of %}`` for an engine plan."""
    return plan_map_sites(plan)
