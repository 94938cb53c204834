"""Two trainees asking for the last place at the same moment: the session lock serves them one after the other."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from onaboard.web.accounts.models import Clinic, Role
from onaboard.web.training import services
from onaboard.web.training.models import Enrolment, LiveSession
from tests.web.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_place_goes_to_one_trainee_and_the_other_waits():
    """Enrolments racing for one place end with exactly one enrolled and one waitlisted (PostgreSQL row locks)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) are exercised on PostgreSQL; SQLite serialises writers itself")
    clinic = Clinic.objects.create(name="Race Clinic")
    trainer = UserFactory(username="race-trainer", role=Role.CLINICIAN, clinic=clinic)
    session = LiveSession.objects.create(
        clinic=clinic, trainer=trainer, title="Race", starts_at=timezone.now() + dt.timedelta(days=3), capacity=1
    )
    trainees = [UserFactory(username=f"racer{i}", role=Role.TRAINEE, clinic=clinic) for i in range(4)]
    barrier = threading.Barrier(len(trainees))
    errors: list[BaseException] = []

    def enrol(trainee):
        try:
            barrier.wait()
            services.enrolment_create(session=session, trainee=trainee)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=enrol, args=(trainee,)) for trainee in trainees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(Enrolment.objects.filter(session=session).values_list("status", flat=True))
    assert statuses == ["enrolled", "waitlisted", "waitlisted", "waitlisted"]
