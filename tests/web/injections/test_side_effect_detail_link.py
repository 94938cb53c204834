"""The side-effect page's way on: the clinical staff reading a report reach the patient page from it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.injections import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(world, treated):
    """A mild neck pain the patient with a portal account reported today, after their recorded session."""
    return services.side_effect_report(
        user=world.users["patient"],
        patient=world.own_patient,
        kind="neck_pain",
        onset=timezone.localdate(),
        severity="mild",
    )


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_reach_the_patient_page_from_a_side_effect(client, world, report, role):
    """A clinician or nurse reading a report gets a link to the patient's page beside their name and record number,
    so the page is no dead end for one who may not review it."""
    client.force_login(world.users[role])
    page = client.get(reverse("injections:side_effect_detail", args=[report.external_id])).content.decode()
    patient_page = reverse("patients:detail", args=[world.own_patient.external_id])
    assert f'<a href="{patient_page}">Patient page</a>' in page


def test_the_patient_who_reported_it_gets_no_staff_link(client, world, report):
    """The patient reading their own report (the same page, the same report) is shown no link to the staff's
    patient page, which would only answer "not found"."""
    client.force_login(world.users["patient"])
    response = client.get(reverse("injections:side_effect_detail", args=[report.external_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your report was sent" in page
    assert reverse("patients:detail", args=[world.own_patient.external_id]) not in page
    assert "Patient page" not in page
