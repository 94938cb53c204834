"""factory_boy factories for the web app's models (synthetic people only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from onaboard.web.accounts.models import Clinic, Role, User
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.outcomes.models import Decision, TreatmentDecision
from onaboard.web.patients.models import Patient

PASSWORD = "correct horse battery staple"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Headache Clinic {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.CLINICIAN
    clinic = factory.SubFactory(ClinicFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    clinic = factory.SubFactory(ClinicFactory)
    record_number = factory.Sequence(lambda n: f"MRN{n:05d}")
    given_name = factory.Sequence(lambda n: f"Alex{n}")
    family_name = "Synthetic"
    birth_date = date(1984, 5, 17)


class DiaryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiaryEntry

    patient = factory.SubFactory(PatientFactory)
    date = factory.Sequence(lambda n: date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + n))
    headache_hours = Decimal(0)


class InjectionSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InjectionSession

    patient = factory.SubFactory(PatientFactory)
    date = date(2026, 3, 2)
    status = SessionStatus.BOOKED


class TreatmentDecisionFactory(factory.django.DjangoModelFactory):
    """A clinician's decision, stored as it stands (no service, no NICE TA260 verdict computed): to stop by
    default, by a clinician of the patient's clinic."""

    class Meta:
        model = TreatmentDecision

    patient = factory.SubFactory(PatientFactory)
    decided_on = date(2026, 3, 2)
    decision = Decision.STOP
    reason = "Decided with the patient"
    decided_by = factory.SubFactory(UserFactory, clinic=factory.SelfAttribute("..patient.clinic"))
    nice_verdict = "stop"
