"""Training records: module reading, quiz, site-trainer and case attempts, live sessions with their enrolments and
waitlist, supervised injections and certificates.

Training data is not patient data: nothing here points at a clinic patient. Cases are synthetic and are stored as
their seed (``onaboard.training.cases.generate_case`` rebuilds them); a quiz attempt stores its seed the same way.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from onaboard.training.cases import CASE_VERSION, FIRST_VISIT_STEPS, Step
from onaboard.training.quiz import QUIZ_VERSION
from onaboard.web.accounts.models import Clinic
from onaboard.web.common.models import BaseModel

VERIFICATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits a person can read back without confusing 0/O or 1/I."""
VERIFICATION_LENGTH = 12


def new_verification_code() -> str:
    """A random code of 12 characters from ``VERIFICATION_ALPHABET``, shown as XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(VERIFICATION_ALPHABET) for _ in range(VERIFICATION_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, VERIFICATION_LENGTH, 4))


def new_seed() -> int:
    return secrets.randbelow(2**31 - 1) + 1


class ModuleRead(BaseModel):
    """A trainee opened a module's text (first and latest time)."""

    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="modules_read")
    module_id = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("trainee", "module_id"), name="one_read_per_module")]


class QuizAttempt(BaseModel):
    """One attempt at a module's quiz: its seed (the questions are regenerated from it) and, once submitted, the
    answers and the mark."""

    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    module_id = models.CharField(max_length=80)
    seed = models.PositiveIntegerField(default=new_seed)
    submitted = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    correct = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    distinct_questions = models.BooleanField(default=True)
    """Drawn with no question asked twice (``generate_quiz``). Attempts made before that rule are ``False`` and are
    drawn as they were, so their stored answers are marked against the questions they were shown."""
    quiz_version = models.PositiveSmallIntegerField(default=QUIZ_VERSION)
    """The question generators the attempt was drawn with (``onaboard.training.quiz.QUIZ_VERSION``); attempts made
    before version 2 are 1, and each attempt is drawn again with the version it keeps (2 for those made before
    version 3, 3 for those made before version 4), so it is shown what it was shown."""

    class Meta:
        ordering = ("-created",)
        indexes = [models.Index(fields=("trainee", "module_id"))]


class SiteTrainerAttempt(BaseModel):
    """One attempt at placing the sites: the case's follow-the-pain request, the placements and the mark."""

    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_attempts")
    seed = models.PositiveIntegerField(default=new_seed)
    follow_the_pain = models.JSONField(default=dict, blank=True)
    """{"temporalis-left": 1, ...}: extra sites this attempt asks for (empty: the 31 fixed sites only)."""
    placements = models.JSONField(default=list, blank=True)
    submitted = models.DateTimeField(null=True, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    possible = models.PositiveIntegerField(null=True, blank=True)
    passed = models.BooleanField(default=False)

    class Meta:
        ordering = ("-created",)


class CaseAttempt(BaseModel):
    """One graded case: the seed of its synthetic patient, the decisions per step and the result."""

    class Stage(models.TextChoices):
        FIRST_VISIT = "first_visit", _("first visit")
        WEEK24 = "week24", _("week-24 review")
        DONE = "done", _("graded")

    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_attempts")
    seed = models.PositiveIntegerField(default=new_seed)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.FIRST_VISIT)
    decisions = models.JSONField(default=dict, blank=True)
    correct_steps = models.PositiveIntegerField(default=0)
    passed = models.BooleanField(default=False)
    case_version = models.PositiveSmallIntegerField(default=CASE_VERSION)
    """The draws the case was made with (``onaboard.training.cases.CASE_VERSION``); attempts made before version 2
    are 1 and are drawn as they were, so their decisions are marked against the patient they were shown."""

    class Meta:
        ordering = ("-created",)

    @property
    def steps_graded(self) -> int:
        """How many steps ``correct_steps`` is out of: four with a week-24 review, three for a case that ended at
        the first visit (its patient not treated)."""
        return len(Step) if Step.WEEK24.value in self.decisions else len(FIRST_VISIT_STEPS)


MIN_SESSION_MINUTES = 15
"""The shortest live session a trainer may schedule (a teaching choice: a quarter of an hour)."""
MAX_SESSION_MINUTES = 24 * 60
"""The longest live session a trainer may schedule: a day (a longer course is scheduled as several sessions)."""
SESSION_TOO_SHORT = _("A session lasts at least %(limit_value)s minutes.")
SESSION_TOO_LONG = _(
    "A session lasts at most %(limit_value)s minutes (a day); schedule a longer course as several sessions."
)


class LiveSession(BaseModel):
    """A live course a trainer runs: when, where (a place or a link), how many places."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="training_sessions")
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_taught")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"),
        default=120,
        validators=[
            MinValueValidator(MIN_SESSION_MINUTES, message=SESSION_TOO_SHORT),
            MaxValueValidator(MAX_SESSION_MINUTES, message=SESSION_TOO_LONG),
        ],
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    link = models.URLField(_("link"), blank=True)
    capacity = models.PositiveIntegerField(_("places"))
    notes = models.TextField(_("notes"), blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ("starts_at",)
        constraints = [models.CheckConstraint(condition=models.Q(capacity__gte=1), name="live_session_has_places")]

    def __str__(self) -> str:
        return self.title


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("enrolled")
    WAITLISTED = "waitlisted", _("waitlisted")
    CANCELLED = "cancelled", _("cancelled")


class Enrolment(BaseModel):
    """A trainee's place (or place in the queue) on a live session, and whether they came."""

    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="enrolments")
    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments")
    status = models.CharField(max_length=12, choices=EnrolmentStatus.choices)
    queued_at = models.DateTimeField()
    """When the trainee joined the session or its waitlist: the waitlist is served in this order."""
    attended = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ("queued_at", "id")
        constraints = [models.UniqueConstraint(fields=("session", "trainee"), name="one_enrolment_per_trainee")]


class SupervisedInjection(BaseModel):
    """A supervised injection session done by a trainee, signed off by a clinician. No patient is named: the log
    counts competence, it is not a clinical record."""

    trainee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervised_log", verbose_name=_("trainee")
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervised", verbose_name=_("supervisor")
    )
    session = models.ForeignKey(
        LiveSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("session"),
    )
    date = models.DateField(_("date"))
    follow_the_pain = models.BooleanField(_("follow-the-pain sites given"), default=False)
    notes = models.TextField(_("notes (no patient names or numbers)"), blank=True)

    class Meta:
        ordering = ("-date", "-created")


class Certificate(BaseModel):
    """A certificate of training and the code that the public verification page checks."""

    trainee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    holder_name = models.CharField(max_length=300)
    issued_by = models.CharField(max_length=200, blank=True)
    """The name of the holder's clinic when the certificate was issued (empty: issued to someone without a clinic).
    Kept as text, like ``holder_name``, so the verification page and the PDF still name the clinic that issued it
    after the holder moves or the clinic is renamed."""
    issued_on = models.DateField()
    code = models.CharField(max_length=14, unique=True, default=new_verification_code)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ("-issued_on",)
        constraints = [
            models.UniqueConstraint(
                fields=("trainee",), condition=models.Q(revoked=False), name="one_valid_certificate_per_trainee"
            )
        ]
