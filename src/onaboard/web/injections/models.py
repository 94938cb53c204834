"""Injection sessions, the sites injected, and side effects attributed to them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import Muscle, Side
from onaboard.interop.tables import TEXT_LIMITS
from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient


class SessionStatus(models.TextChoices):
    BOOKED = "booked", _("booked")
    RECORDED = "recorded", _("recorded")
    CANCELLED = "cancelled", _("cancelled")
    IN_ERROR = "in_error", _("entered in error")


ACTIVE_STATUSES = (SessionStatus.BOOKED, SessionStatus.RECORDED)
"""A session that holds its day (``one_session_per_patient_per_day``) and counts: booked or recorded. A cancelled
booking and a recorded session marked entered in error do neither."""

ERROR_REASON_MAX_LENGTH = 1000
"""The longest reason for marking a recorded session entered in error (the form, the API and the service alike)."""


class InjectionSession(BaseModel):
    """One treatment session: booked ahead, then recorded with its sites, product and vials.

    A patient has at most one open booking (``one_open_booking_per_patient``): the next session's. Recording books
    the next one only when none is open, and every writer keeps to it under the patient's lock
    (``services.patient_locked``); the constraint holds it for any writer that does not. Migration 0004 cancelled
    all but one of the open bookings a patient had before it (its docstring says which one was kept)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="injection_sessions")
    date = models.DateField(_("date"))
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.BOOKED)
    vial_units = models.PositiveIntegerField(_("vial size (U)"), default=200)
    vials_used = models.PositiveIntegerField(_("vials used"), null=True, blank=True)
    total_units = models.PositiveIntegerField(_("units given"), null=True, blank=True)
    discarded_units = models.PositiveIntegerField(_("units discarded"), null=True, blank=True)
    product_lot = models.CharField(_("lot"), max_length=TEXT_LIMITS["lot"], blank=True)
    product_expiry = models.DateField(_("expiry"), null=True, blank=True)
    injector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    override_reason = models.TextField(_("reason for overriding a check"), blank=True)
    overridden_checks = models.CharField(max_length=200, blank=True)
    check_reasons = models.TextField(_("checks at recording"), blank=True, db_default="")
    """The engine's reasons for every pre-recording check (12-week interval, cumulative dose, safety screen) as
    the person recording saw them, one per line: what an override was weighed against."""
    complications = models.TextField(_("complications"), blank=True)
    error_reason = models.TextField(
        _("why it was entered in error"),
        blank=True,
        db_default="",  # the previous version's inserts, during a rolling upgrade, do not name it
        validators=[MaxLengthValidator(ERROR_REASON_MAX_LENGTH)],
    )
    error_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error_marked_at = models.DateTimeField(null=True, blank=True)
    """Who marked a recorded session entered in error, when and why (``services.injection_session_mark_in_error``):
    the row and its sites are kept as they were recorded, and every rule reading the treatment history (the
    interval, the cumulative dose, the outcomes, billing, the exports) leaves it out, as it does a cancelled booking."""
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("patient", "date")
        constraints = [
            models.UniqueConstraint(
                fields=("patient", "date"),
                condition=~models.Q(status__in=("cancelled", "in_error")),
                name="one_session_per_patient_per_day",
            ),
            models.UniqueConstraint(
                fields=("patient",),
                condition=models.Q(status="booked"),
                name="one_open_booking_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"session {self.date} ({self.status})"


class InjectionSiteRecord(models.Model):
    """One injection given: muscle, side, units, and where on the map it was placed (0-1000 SVG units)."""

    session = models.ForeignKey(InjectionSession, on_delete=models.CASCADE, related_name="sites")
    muscle = models.CharField(max_length=24, choices=[(m.value, m.value) for m in Muscle])
    side = models.CharField(max_length=8, choices=[(s.value, s.value) for s in Side])
    units = models.PositiveIntegerField()
    follow_the_pain = models.BooleanField(default=False)
    view = models.CharField(max_length=5, choices=[("front", "front"), ("back", "back")], default="front")
    x = models.PositiveIntegerField(null=True, blank=True)
    y = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("session", "id")


class Severity(models.TextChoices):
    MILD = "mild", _("mild")
    MODERATE = "moderate", _("moderate")
    SEVERE = "severe", _("severe")

    @classmethod
    def rank(cls, value: str) -> int:
        """How serious a grade is: mild 0, moderate 1, severe 2 (the choices' order)."""
        return list(cls).index(cls(value))


class SideEffectKind(models.TextChoices):
    """The side effects a clinic tracks after BOTOX for chronic migraine (clinical-facts §2.1). An allergic reaction
    and the seven after it (possible distant spread of toxin effect) need care now: ``URGENT_SIDE_EFFECTS``."""

    NECK_PAIN = "neck_pain", _("neck pain")
    NECK_WEAKNESS = "neck_weakness", _("neck weakness or stiffness")
    EYELID_PTOSIS = "eyelid_ptosis", _("drooping eyelid")
    BROW_PTOSIS = "brow_ptosis", _("drooping brow or facial weakness")
    INJECTION_SITE_PAIN = "injection_site_pain", _("pain or bruising where injected")
    HEADACHE_FLARE = "headache_flare", _("headache or migraine flare")
    MYALGIA = "myalgia", _("muscle aches")
    MUSCLE_SPASM = "muscle_spasm", _("muscle spasm")
    HYPERSENSITIVITY = "hypersensitivity", _("allergic reaction")
    DYSPHAGIA = "dysphagia", _("trouble swallowing")
    BREATHING = "breathing_difficulty", _("trouble breathing")
    DIPLOPIA = "diplopia", _("double vision")
    GENERALISED_WEAKNESS = "generalised_weakness", _("weakness all over or loss of strength")
    DYSPHONIA = "dysphonia", _("hoarseness or a change of voice")
    DYSARTHRIA = "dysarthria", _("trouble speaking")
    URINARY_INCONTINENCE = "urinary_incontinence", _("loss of bladder control")
    OTHER = "other", _("something else")


DISTANT_SPREAD_SIDE_EFFECTS = frozenset(
    {
        SideEffectKind.DYSPHAGIA,
        SideEffectKind.BREATHING,
        SideEffectKind.DIPLOPIA,
        SideEffectKind.GENERALISED_WEAKNESS,
        SideEffectKind.DYSPHONIA,
        SideEffectKind.DYSARTHRIA,
        SideEffectKind.URINARY_INCONTINENCE,
    }
)
"""Possible distant spread of toxin effect: the BOTOX US Prescribing Information's boxed warning "Distant Spread of
Toxin Effect" (/work/shared/domain/clinical-facts.md §2) lists asthenia, generalized muscle weakness, diplopia,
ptosis, dysphagia, dysphonia, dysarthria, urinary incontinence and breathing difficulties (swallowing and breathing
difficulties can be life threatening). Each has a kind a patient can report (asthenia with generalised weakness, in
the patient's words "weakness all over or loss of strength") but ptosis: after the forehead injections a drooping
eyelid is a common local reaction (eyelid ptosis 3.6 % on BOTOX in the pooled PREEMPT double-blind phase,
clinical-facts.md §2.1), so ``EYELID_PTOSIS`` is one to tell the clinic of, not an urgent kind; as a sign of spread it
comes with the others listed."""

URGENT_SIDE_EFFECTS = DISTANT_SPREAD_SIDE_EFFECTS | {SideEffectKind.HYPERSENSITIVITY}
"""The kinds for which the patient is told to seek care now and the clinic escalates (training module 05: swallowing
or breathing difficulty, trouble speaking, a change of voice, double vision, generalised weakness, loss of bladder
control and allergic reactions):

- possible distant spread of toxin effect (``DISTANT_SPREAD_SIDE_EFFECTS``, the boxed warning);
- an allergic reaction: BOTOX US Prescribing Information, Warnings and Precautions, "Hypersensitivity Reactions":
  serious and/or immediate hypersensitivity reactions have been reported (anaphylaxis, serum sickness, urticaria,
  soft-tissue oedema, dyspnoea); if one occurs, further injection is stopped and appropriate medical therapy is
  started immediately. Contraindication 4 (known hypersensitivity to any botulinum toxin product) is the screen
  before the next session (``onaboard.clinical.safety``)."""


DESCRIPTION_MAX_LENGTH = 2000
"""The longest side-effect description a patient or a clinician may write (the report form and the API alike)."""


class SideEffect(BaseModel):
    """A side effect a patient reported or a clinician recorded, graded and attributed by a clinician."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="side_effects")
    session = models.ForeignKey(
        InjectionSession, null=True, blank=True, on_delete=models.PROTECT, related_name="side_effects"
    )
    kind = models.CharField(_("what"), max_length=24, choices=SideEffectKind.choices)
    description = models.TextField(_("details"), blank=True, validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)])
    onset = models.DateField(_("started on"))
    severity = models.CharField(_("how bad"), max_length=8, choices=Severity.choices)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    clinician_grade = models.CharField(_("clinician's grade"), max_length=8, choices=Severity.choices, blank=True)
    related_to_treatment = models.BooleanField(_("related to treatment"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    submission = models.UUIDField(null=True, blank=True, editable=False)
    """The token of the report form that sent it (a fresh one each time the form is opened), so the same form sent
    twice (a double tap) stores one report; none for a report from the API or an import."""

    class Meta:
        ordering = ("-onset", "-created")
        constraints = [
            models.UniqueConstraint(
                fields=("patient", "submission"),
                condition=models.Q(submission__isnull=False),
                name="one_side_effect_per_submission",
            ),
        ]

    @property
    def urgent(self) -> bool:
        """The patient is told to seek care now: an allergic reaction or possible distant spread."""
        return self.kind in URGENT_SIDE_EFFECTS

    @property
    def distant_spread(self) -> bool:
        """Possible distant spread of toxin effect (the boxed warning), which the urgent advice names as such."""
        return self.kind in DISTANT_SPREAD_SIDE_EFFECTS


REVIEW_REASON_MAX_LENGTH = 1000
"""The longest reason for changing an earlier review (the form and the service alike): a few sentences."""


class SideEffectReview(BaseModel):
    """One review of a side effect, kept. The side effect holds the latest (what the pages, the session screen and
    the letters read); each review stays here, so a later one never hides who graded it what before, and a review
    that lowers the grade or withdraws "related to treatment" carries its reason (``services.side_effect_review``)."""

    side_effect = models.ForeignKey(SideEffect, on_delete=models.CASCADE, related_name="reviews")
    grade = models.CharField(_("grade"), max_length=8, choices=Severity.choices)
    related_to_treatment = models.BooleanField(_("related to treatment"), null=True, blank=True)
    session = models.ForeignKey(
        InjectionSession, null=True, blank=True, on_delete=models.PROTECT, related_name="side_effect_reviews"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    reason = models.TextField(blank=True, validators=[MaxLengthValidator(REVIEW_REASON_MAX_LENGTH)])

    class Meta:
        ordering = ("side_effect", "reviewed_at", "pk")
