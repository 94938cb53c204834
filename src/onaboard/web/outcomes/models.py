"""Questionnaire responses (HIT-6, MIDAS) as scored by the engine, and clinicians' decisions to continue or stop
treatment."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import NiceTa260, NiceVerdict
from onaboard.web.common.models import BaseModel
from onaboard.web.patients.models import Patient


class Instrument(models.TextChoices):
    HIT6 = "hit6", "HIT-6"
    MIDAS = "midas", "MIDAS"


class QuestionnaireResponse(BaseModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="questionnaires")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    date = models.DateField(_("date"))
    answers = models.JSONField()
    total = models.PositiveIntegerField()
    category = models.CharField(max_length=32)
    """The HIT-6 impact band or the MIDAS grade, as the engine named it."""

    class Meta:
        ordering = ("patient", "-date")
        constraints = [
            models.UniqueConstraint(fields=("patient", "instrument", "date"), name="one_questionnaire_per_day")
        ]


class Superseded(models.TextChoices):
    """Why an answer is no longer the one standing for its day."""

    REPLACED = "replaced", _("replaced by another answer for its day")
    REMOVED = "removed", _("removed as entered in error")


class SupersededQuestionnaireResponse(BaseModel):
    """An answer as it was before it was replaced (a second answer for its day, a correction) or removed as entered
    in error (``services.questionnaire_response_record`` and ``questionnaire_response_remove``). The pages, the
    letters and the exports read only the answer standing now; what they said before stays on the record. Kept
    here, with the clinical record, not in the audit trail (which administrators read): the trail's event names
    this row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="superseded_questionnaires")
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    date = models.DateField(_("date"))
    answers = models.JSONField()
    total = models.PositiveIntegerField()
    category = models.CharField(max_length=32)
    response_id = models.UUIDField()
    """The answer's public id, as the audit trail named it while it stood."""
    why = models.CharField(max_length=8, choices=Superseded.choices)
    superseded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("patient", "-date", "-created")


class Decision(models.TextChoices):
    """What the clinician decided about botulinum toxin treatment."""

    CONTINUE = "continue", _("continue treatment")
    STOP = "stop", _("stop treatment")


DECISION_REASON_MAX_LENGTH = 1000
"""The longest reason a clinician may give for a decision (the form and the service alike): a few sentences, as a
clinic letter would give them, not a whole consultation note."""


class TreatmentDecision(BaseModel):
    """A clinician's decision to continue or stop treatment, with the reason, kept with the engine's NICE TA260
    verdict and reasons of that day, so the record says what it followed or overrode.

    The engine suggests, the clinician decides: the latest decision is read by the pathway
    (``clinic.selectors.pathway_state``): a stop is "treatment stopped"; a continue answers the stop suggestion it
    saw. Decisions are never changed or deleted; a new one supersedes the last."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_decisions")
    decided_on = models.DateField(_("decided on"))
    """The clinic's local day it was recorded (never after it)."""
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    reason = models.TextField(_("reason"), validators=[MaxLengthValidator(DECISION_REASON_MAX_LENGTH)])
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nice_verdict = models.CharField(_("NICE TA260 verdict then"), max_length=24)
    """The engine's NICE TA260 verdict (``onaboard.clinical.NiceTa260``) on ``decided_on``."""
    nice_reasons = models.TextField(_("NICE TA260 reasons then"), blank=True)
    """The engine's reasons for that verdict, one a line, as they were worded that day."""
    nice_reverted_to_episodic = models.BooleanField(
        _("NICE TA260: changed to episodic migraine then"), default=False, db_default=False
    )
    """The engine's ``NiceVerdict.reverted_to_episodic`` on ``decided_on``: NICE TA260's return to episodic migraine
    held, even when the verdict itself waited for a complete baseline (``not_yet_assessable``). With
    ``nice_verdict`` it says whether a stop was suggested that day (``saw_stop``)."""
    submission = models.UUIDField(null=True, blank=True, editable=False)
    """The token of the form that sent it (a fresh one each time the form is opened), so the same form sent twice
    (a double click) records one decision."""

    class Meta:
        ordering = ("-decided_on", "-created", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("patient", "submission"),
                condition=models.Q(submission__isnull=False),
                name="one_treatment_decision_per_submission",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="treatment_decision_has_a_reason"),
        ]

    @property
    def nice_reason_lines(self) -> list[str]:
        return [line for line in self.nice_reasons.splitlines() if line]

    @property
    def saw_stop(self) -> bool:
        """A stop was suggested on ``decided_on`` (the engine's ``NiceVerdict.stop_suggested`` over the verdict stored
        with the decision): a "continue" went against NICE TA260's stopping rule. False for a decision stored without
        the engine's verdict (an imported one)."""
        return self.stop_was_suggested(self.nice_verdict, self.nice_reverted_to_episodic)

    @staticmethod
    def stop_was_suggested(nice_verdict: str, reverted_to_episodic: bool) -> bool:
        """``saw_stop`` from a decision's stored columns, for a query that reads them as values (the cohort page's
        count of decisions against the rule); False for a verdict that is not the engine's (an imported decision
        stores none)."""
        try:
            verdict = NiceTa260(nice_verdict)
        except ValueError:
            return False
        return NiceVerdict(verdict, (), bool(reverted_to_episodic)).stop_suggested
