"""Many patients' approvals in one query (onaboard/web/coverage/selectors.py ``approval_states``): the worklist's
read of what ``approval_state`` says of one patient."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onaboard.web.coverage.models import AuthorisationStatus, PriorAuthorisation
from onaboard.web.coverage.selectors import approval_answers, approval_state, approval_states
from tests.web.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _request(patient, today, *, days_ago, status=AuthorisationStatus.APPROVED, start=None, end=None, stage="initial"):
    """A request made ``days_ago`` days before ``today``; approved ones run from ``start`` to ``end`` (days from
    today), answered two days after the request."""
    approved = status == AuthorisationStatus.APPROVED
    return PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.719",
        stage=stage,
        requested_on=today - timedelta(days=days_ago),
        status=status,
        decided_on=today - timedelta(days=days_ago - 2) if status != AuthorisationStatus.REQUESTED else None,
        approved_from=today + timedelta(days=start) if approved and start is not None else None,
        approved_until=today + timedelta(days=end) if approved and end is not None else None,
    )


def _patients(today):
    """One patient for each approval story: none, pending, denied, in force, renewal due, renewal pending, ended,
    upcoming."""
    stories = [PatientFactory() for _ in range(8)]
    _, pending, denied, in_force, due, renewing, ended, upcoming = stories
    _request(pending, today, days_ago=3, status=AuthorisationStatus.REQUESTED)
    _request(denied, today, days_ago=9, status=AuthorisationStatus.DENIED)
    _request(in_force, today, days_ago=20, start=-15, end=150)
    _request(due, today, days_ago=170, start=-160, end=10)
    _request(renewing, today, days_ago=170, start=-160, end=10)
    _request(renewing, today, days_ago=2, status=AuthorisationStatus.REQUESTED, stage="continuation")
    _request(ended, today, days_ago=200, start=-190, end=-1)
    _request(upcoming, today, days_ago=4, start=12, end=190)
    return stories


def test_many_patients_approvals_are_what_approval_state_says_of_each(world, today):
    """Each patient's state from the batch is ``approval_state``'s for that patient (without the week-24 fields,
    which read the sessions), and its answers are ``approval_answers``'s."""
    stories = _patients(today)
    ids = [patient.pk for patient in stories]
    batch = approval_states(ids, today=today)
    for patient in stories:
        alone = approval_state(patient, today)
        assert batch.states[patient.pk] == replace(
            alone, week24_ends=None, week24_letter_from=None, week24_after_approval=False
        )
    assert batch.answers == approval_answers(ids)
    assert batch.states[stories[0].pk].current is None
    assert batch.states[stories[5].pk].renewal_pending


def test_many_patients_approvals_cost_one_query(world, today):
    """The batch reads every patient's requests in one query, for two patients as for eight."""
    stories = _patients(today)
    with CaptureQueriesContext(connection) as few:
        approval_states([patient.pk for patient in stories[:2]], today=today)
    with CaptureQueriesContext(connection) as many:
        approval_states([patient.pk for patient in stories], today=today)
    assert len(few) == len(many) == 1
