"""Shared web fixtures: two clinics, one user per role, the patient's own record and two records they must not see."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from onaboard.web.accounts.models import Clinic, Role, User
from onaboard.web.patients.models import Patient
from tests.web.factories import ClinicFactory, PatientFactory, UserFactory


@dataclass
class World:
    clinic: Clinic
    other_clinic: Clinic
    users: dict[str, User]
    own_patient: Patient
    """The record of users['patient']."""
    same_clinic_patient: Patient
    """Another patient of the same clinic."""
    other_clinic_patient: Patient


@pytest.fixture
def world(db: None) -> World:
    clinic = ClinicFactory(name="North Headache Clinic")
    other = ClinicFactory(name="South Headache Clinic")
    users = {role.value: UserFactory(username=role.value, role=role, clinic=clinic) for role in Role}
    own = PatientFactory(clinic=clinic, user=users[Role.PATIENT], given_name="Pat", family_name="Own")
    same = PatientFactory(clinic=clinic, given_name="Sam", family_name="Same")
    far = PatientFactory(clinic=other, given_name="Fay", family_name="Far")
    return World(clinic, other, users, own, same, far)


@pytest.fixture
def superuser(world: World) -> User:
    """The admin user with the Django admin's staff and superuser flags."""
    admin = world.users["admin"]
    type(admin).objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    admin.refresh_from_db()
    return admin
