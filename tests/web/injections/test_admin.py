"""Sessions and side effects in Django's admin (onaboard/web/injections/admin.py): what each role is shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.injections.models import InjectionSession, InjectionSiteRecord, SessionStatus, SideEffect
from tests.web.factories import InjectionSessionFactory

OVERRIDE = "Patient travelling abroad for three months"
CHECKS = "12-week interval: only 70 days since the last session"
COMPLICATIONS = "Bruising at the left temporalis"
DETAILS = "Left upper eyelid droops by the evening"
CLINICAL_TEXTS = (OVERRIDE, CHECKS, COMPLICATIONS)


@pytest.fixture
def session(world) -> InjectionSession:
    """A recorded session of a patient of the admin's clinic, with an override, its checks and a complication."""
    session = InjectionSessionFactory(
        patient=world.same_clinic_patient,
        status=SessionStatus.RECORDED,
        vials_used=1,
        total_units=155,
        discarded_units=45,
        product_lot="C1234AB",
        override_reason=OVERRIDE,
        overridden_checks="interval",
        check_reasons=CHECKS,
        complications=COMPLICATIONS,
    )
    InjectionSiteRecord.objects.create(session=session, muscle="procerus", side="midline", units=5)
    return session


@pytest.fixture
def side_effect(world, session) -> SideEffect:
    return SideEffect.objects.create(
        patient=world.same_clinic_patient,
        session=session,
        kind="eyelid_ptosis",
        description=DETAILS,
        onset=session.date + dt.timedelta(days=4),
        severity="moderate",
    )


@pytest.fixture
def clinician(world):
    """The clinician, given the Django admin too (a clinician may be the clinic's superuser)."""
    user = world.users["clinician"]
    type(user).objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    user.refresh_from_db()
    return user


def test_an_administrator_is_not_shown_side_effects(client, superuser, side_effect):
    """Side effects are clinical: the administrator role (demographics and billing only) finds neither their list
    nor a side effect's page in the admin, and the admin's index does not offer them."""
    client.force_login(superuser)
    assert client.get(reverse("admin:injections_sideeffect_changelist")).status_code == 403
    page = client.get(reverse("admin:injections_sideeffect_change", args=[side_effect.pk]))
    assert page.status_code == 403
    assert DETAILS not in page.content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:injections_sideeffect_changelist") not in index
    assert reverse("admin:injections_injectionsession_changelist") in index


def test_a_clinician_is_shown_a_side_effect_and_the_read_is_audited(client, clinician, side_effect):
    """A clinician with the admin sees the side effect's details, and opening it records a read of that patient."""
    client.force_login(clinician)
    page = client.get(reverse("admin:injections_sideeffect_change", args=[side_effect.pk]))
    assert page.status_code == 200
    assert DETAILS in page.content.decode()
    event = AuditEvent.objects.get(action=Action.READ, object_type="injections.sideeffect")
    assert (event.username, event.object_id) == ("clinician", str(side_effect.external_id))
    assert event.patient_id == side_effect.patient.external_id
    assert event.detail == "admin: viewed"


def test_an_administrator_sees_a_sessions_billing_facts_but_not_its_clinical_notes(client, superuser, session):
    """On a session's admin page the administrator sees what a claim needs (lot, units, vials, the sites the units
    were given at, as on the session page) and not the override reason, the checks weighed or the complications."""
    client.force_login(superuser)
    page = client.get(reverse("admin:injections_injectionsession_change", args=[session.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "C1234AB" in text
    assert "155" in text
    assert "Injection site records" in text
    assert "procerus" in text
    for clinical in (*CLINICAL_TEXTS, "overridden"):
        assert clinical not in text, clinical


def test_a_clinician_sees_a_sessions_clinical_notes(client, clinician, session):
    """The same page shows a clinician the override, its checks, the complications and the sites."""
    client.force_login(clinician)
    text = client.get(reverse("admin:injections_injectionsession_change", args=[session.pk])).content.decode()
    for clinical in (*CLINICAL_TEXTS, "procerus"):
        assert clinical in text, clinical


def test_an_administrator_cannot_filter_sessions_on_their_clinical_notes(client, superuser, clinician, session):
    """A filter on a clinical field in the address is refused for the administrator (it would reveal the notes a
    search at a time) and allowed for a clinician."""
    url = reverse("admin:injections_injectionsession_changelist")
    query = {"complications__icontains": "bruising"}
    client.force_login(superuser)
    assert client.get(url, query).status_code == 400
    assert client.get(url, {"product_lot": "C1234AB"}).status_code == 200
    client.force_login(clinician)
    assert client.get(url, query).status_code == 200


def test_listing_sessions_records_a_read_of_each_patient_listed(client, superuser, world, session):
    """The session list records one read per session shown, naming its patient, as the app's lists do."""
    other = InjectionSessionFactory(patient=world.own_patient)
    client.force_login(superuser)
    assert client.get(reverse("admin:injections_injectionsession_changelist")).status_code == 200
    events = AuditEvent.objects.filter(action=Action.READ, object_type="injections.injectionsession")
    assert {(e.object_id, e.patient_id, e.detail) for e in events} == {
        (str(session.external_id), world.same_clinic_patient.external_id, "admin: listed"),
        (str(other.external_id), world.own_patient.external_id, "admin: listed"),
    }


def test_the_side_effect_list_costs_the_same_queries_for_one_row_as_for_many(client, clinician, world, side_effect):
    """Each row's patient and session come with the list (they are nullable, which Django's changelist skips), so
    six rows cost what one does."""
    url = reverse("admin:injections_sideeffect_changelist")
    client.force_login(clinician)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for days in range(5):
        given = side_effect.onset - dt.timedelta(days=100 * (days + 1))
        SideEffect.objects.create(
            patient=world.own_patient,
            session=InjectionSessionFactory(patient=world.own_patient, status=SessionStatus.RECORDED, date=given),
            kind="neck_pain",
            onset=side_effect.onset + dt.timedelta(days=days),
            severity="mild",
        )
    with CaptureQueriesContext(connection) as six:
        assert client.get(url).status_code == 200
    assert len(six) == len(one)
