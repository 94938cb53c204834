"""The clinic's front pages (onaboard/web/clinic/views.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.clinic.selectors import PathwayState
from tests.web.clinic.diaries import chronic_rows, store
from tests.web.factories import PatientFactory

pytestmark = pytest.mark.django_db

WORKLIST = reverse("clinic:worklist")
PAGE_QUERIES = 8


@pytest.fixture
def today() -> date:
    """The pages judge on the clinic's today, so diaries for them end on it."""
    return timezone.localdate()


@pytest.mark.parametrize(("role", "target"), [("clinician", WORKLIST), ("billing", WORKLIST), ("admin", WORKLIST)])
def test_staff_land_on_the_worklist(client, world, role, target):
    """Clinic staff signing in land on the worklist."""
    client.force_login(world.users[role])
    response = client.get(reverse("clinic:home"))
    assert response.status_code == 302
    assert response["Location"] == target


@pytest.mark.parametrize("role", ["clinician", "nurse", "billing", "admin"])
def test_staff_see_their_clinics_patients_only(client, world, role):
    """The worklist names the clinic's patients and never another clinic's."""
    client.force_login(world.users[role])
    response = client.get(WORKLIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" in body
    assert "Far, Fay" not in body


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_patients_and_trainees_are_refused_the_worklist(client, world, role):
    """The worklist is for clinic staff: patients and trainees get 403, with the same request staff succeed with."""
    client.force_login(world.users[role])
    assert client.get(WORKLIST).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    """Without a session the worklist redirects to the sign-in page."""
    response = client.get(WORKLIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_clinicians_see_the_reason_and_link_to_the_patient_page(client, world, today):
    """A clinician's row shows the engine's summary and links to the clinical patient page."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    assert "BOTOX label (Indications): each of the 3 periods" in body
    assert reverse("patients:detail", args=[world.same_clinic_patient.external_id]) in body


def test_billing_staff_see_state_names_but_no_reasons(client, world, today):
    """Billing staff see the state name and link to the billing page, but never the clinical reason."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    assert str(PathwayState.ELIGIBLE.label) in body
    assert "BOTOX label" not in body
    assert "ICHD-3" not in body
    assert reverse("patients:billing", args=[world.same_clinic_patient.external_id]) in body
    assert reverse("patients:new") not in body


def test_the_search_and_state_filter_come_from_the_query_string(client, world, today):
    """?q= narrows the list by name and ?state= to one state."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["nurse"])
    body = client.get(WORKLIST, {"q": "Same"}).content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" not in body
    body = client.get(WORKLIST, {"state": PathwayState.DIARY_RUNNING}).content.decode()
    assert "Own, Pat" in body
    assert "Same, Sam" not in body


def test_an_htmx_search_returns_only_the_groups(client, world):
    """The live search (htmx) gets the list fragment, not the whole page."""
    client.force_login(world.users["clinician"])
    response = client.get(WORKLIST, {"q": "Same"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Same, Sam" in body
    assert "<html" not in body
    assert 'id="worklist-q"' not in body


def test_going_back_to_a_searched_worklist_gets_the_whole_page(client, world):
    """htmx restoring a pushed search URL from the server (its history cache no longer holds it) gets the whole
    page, header and search box included, not the groups alone; the two answers vary on HX-Request."""
    client.force_login(world.users["clinician"])
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    body = client.get(WORKLIST, {"q": "Same"}, headers=restore).content.decode()
    assert 'id="worklist-q"' in body
    assert "Same, Sam" in body
    for headers in ({}, {"HX-Request": "true"}):
        assert "HX-Request" in client.get(WORKLIST, {"q": "Same"}, headers=headers)["Vary"]
    page = client.get(WORKLIST).content.decode()
    assert 'hx-history="false"' in page  # htmx keeps no copy of the patients' names in the browser's storage


def test_no_match_says_so(client, world):
    """A search without a match says that nobody matches it."""
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST, {"q": "Zebedee"}).content.decode()
    assert "No patient matches" in body


def test_the_worklist_page_costs_the_same_queries_for_a_few_patients_as_for_many(
    client, world, today, django_assert_num_queries
):
    """Once the states are cached, the page lists 2 patients or 14 with the same eight queries (session, user,
    authenticator, patients, pending approvals, two fingerprints, the audit entry): no row reads anything on its
    own, though the patients are loaded with only the columns the page shows."""
    client.force_login(world.users["clinician"])
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(WORKLIST).status_code == 200
    for number in range(12):
        patient = PatientFactory(clinic=world.clinic, family_name=f"Many{number:02d}")
        store(patient, chronic_rows(today=today), today=today)
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES):
        body = client.get(WORKLIST).content.decode()
    assert "Many11" in body
