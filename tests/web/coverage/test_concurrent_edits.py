"""Two people editing one patient's insurance or prior-authorisation request: a save from a form loaded before
someone else's save is refused with what is stored now, and saves arriving together never fail with a 500."""

from __future__ import annotations

import html
import threading
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils.html import strip_tags

from onaboard.web.coverage import services
from onaboard.web.coverage.models import PatientInsurance, PriorAuthorisation
from onaboard.web.coverage.services import (
    STALE_AUTHORISATION,
    STALE_INSURANCE,
    InsuranceConflictError,
    patient_insurance_save,
)
from tests.web.posted import posted

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page as text, tags stripped, whitespace collapsed."""
    return html.unescape(" ".join(strip_tags(response.content.decode()).split()))


def _loaded(client, url) -> dict[str, str]:
    """The form on ``url`` as the page shows it: every field's value, the hidden version among them."""
    form = client.get(url).context["form"]
    posted = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "on" if value else ""
        elif name in ("medication_overuse_managed", "prescriber_attests_benefit"):
            value = {True: "true", False: "false"}.get(value, "unknown")
        posted[name] = str(value)
    return {name: value for name, value in posted.items() if value != ""}


def _requested(patient, today, world) -> PriorAuthorisation:
    return PriorAuthorisation.objects.create(
        patient=patient,
        stage="initial",
        policy_id="us-commercial-a",
        diagnosis_code="G43.709",
        requested_on=today - timedelta(days=5),
        recorded_by=world.users["billing"],
    )


def test_a_stale_prior_authorisation_form_does_not_undo_the_payers_answer(client, world, eligible, today):
    """Billing records the payer's approval while a clinician has the request open; the clinician's save of the old
    form (only a note added) is refused, listing the stored status and reference, and nothing is lost; the form
    shown again holds the payer's answer with the note, and saving it keeps both (it used to put the request back
    to "requested")."""
    request = _requested(eligible, today, world)
    edit = reverse("coverage:authorisation_edit", args=[eligible.external_id, request.external_id])
    client.force_login(world.users["clinician"])
    stale = posted(client.get(edit).content)
    assert stale["version"] == ["1"]
    billing = Client()
    billing.force_login(world.users["billing"])
    answer = {
        **posted(billing.get(edit).content),
        "status": "approved",
        "decided_on": today.isoformat(),
        "approved_from": today.isoformat(),
        "approved_until": (today + timedelta(days=180)).isoformat(),
        "reference": "PA-APPROVED-1",
    }
    assert billing.post(edit, answer).status_code == 302
    response = client.post(edit, {**stale, "note": "spoke to the patient"})
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.status, request.reference, request.decided_on, request.note) == (
        "approved",
        "PA-APPROVED-1",
        today,
        "",
    )
    page = _text(response)
    assert str(STALE_AUTHORISATION) in page
    assert "Status: approved" in page
    assert "Payer's reference: PA-APPROVED-1" in page
    again = posted(response.content)
    assert (again["note"], again["status"], again["version"]) == (["spoke to the patient"], ["approved"], ["2"])
    assert client.post(edit, again).status_code == 302
    request.refresh_from_db()
    assert (request.status, request.reference, request.decided_on, request.note, request.version) == (
        "approved",
        "PA-APPROVED-1",
        today,
        "spoke to the patient",
        3,
    )


def test_a_stale_insurance_form_does_not_revert_the_member_id(client, world, treated):
    """Billing corrects the member id while an administrator has the insurance open; the administrator's save of
    the deductible from the old form is refused, naming the stored member id, which stays; saving the form shown
    again stores the deductible and keeps the corrected member id (it used to put the old one back)."""
    patient = treated.patient
    url = reverse("coverage:insurance_edit", args=[patient.external_id])
    client.force_login(world.users["admin"])
    stale = posted(client.get(url).content)
    assert stale["version"] == ["1"]
    billing = Client()
    billing.force_login(world.users["billing"])
    assert billing.post(url, {**posted(billing.get(url).content), "member_id": "EHP-9999"}).status_code == 302
    response = client.post(url, {**stale, "deductible_remaining": "250"})
    assert response.status_code == 200
    insurance = PatientInsurance.objects.get(patient=patient)
    assert (insurance.member_id, insurance.deductible_remaining, insurance.version) == (
        "EHP-9999",
        Decimal("500.00"),
        2,
    )
    page = _text(response)
    assert str(STALE_INSURANCE) in page
    assert "Member id: EHP-9999" in page
    again = posted(response.content)
    assert (again["member_id"], again["deductible_remaining"]) == (["EHP-9999"], ["250"])
    assert client.post(url, again).status_code == 302
    insurance.refresh_from_db()
    assert (insurance.member_id, insurance.deductible_remaining, insurance.version) == (
        "EHP-9999",
        Decimal("250.00"),
        3,
    )


def test_a_first_insurance_form_after_someone_recorded_the_insurance_is_refused(client, world, eligible, today):
    """Two people open the insurance of a patient who has none: the first save records it, the second (its form
    loaded when there was no row) is refused with what is stored instead of overwriting it."""
    url = reverse("coverage:insurance_edit", args=[eligible.external_id])
    client.force_login(world.users["billing"])
    blank = _loaded(client, url)
    assert blank["version"] == "0"
    first = {**blank, "policy_id": "us-commercial-a", "member_id": "A-1"}
    second = {**blank, "policy_id": "us-commercial-b", "member_id": "B-2"}
    assert client.post(url, first).status_code == 302
    response = client.post(url, second)
    assert response.status_code == 200
    assert str(STALE_INSURANCE) in _text(response)
    assert list(PatientInsurance.objects.filter(patient=eligible).values_list("member_id", flat=True)) == ["A-1"]


def _terms(today, member_id: str) -> dict:
    return {"policy_id": "us-commercial-a", "member_id": member_id, "terms_as_of": today}


def test_a_first_save_that_finds_a_row_created_meanwhile_is_not_an_integrity_error(world, eligible, today):
    """A first save whose look-up missed a row created meanwhile (simulated: the look-up patched to find nothing)
    meets the one-insurance-per-patient constraint: it reads the stored row instead of failing, refusing a form
    loaded without one and updating when no version is given."""
    patient_insurance_save(user=world.users["billing"], patient=eligible, data=_terms(today, "A-1"))
    with mock.patch.object(services, "_stored_insurance", return_value=None):
        with pytest.raises(InsuranceConflictError) as refused:
            patient_insurance_save(
                user=world.users["admin"],
                patient=eligible,
                data=_terms(today, "B-2"),
                expected_version=services.NO_INSURANCE_YET,
            )
        assert refused.value.current.member_id == "A-1"
        saved = patient_insurance_save(user=world.users["admin"], patient=eligible, data=_terms(today, "C-3"))
    assert (saved.member_id, saved.version) == ("C-3", 2)
    assert PatientInsurance.objects.filter(patient=eligible).count() == 1


@pytest.mark.django_db(transaction=True)
def test_first_insurance_saves_arriving_together_store_one_row(world, eligible, today):
    """Four first saves at the same moment (no insurance row to lock yet) end with one row, one save recorded and
    the others refused as stale: no IntegrityError (PostgreSQL row locks on the patient)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) are exercised on PostgreSQL; SQLite serialises writers itself")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def save(k: int) -> None:
        try:
            barrier.wait()
            patient_insurance_save(
                user=world.users["billing"],
                patient=eligible,
                data=_terms(today, f"M-{k}"),
                expected_version=services.NO_INSURANCE_YET,
            )
            outcomes.append("saved")
        except InsuranceConflictError:
            outcomes.append("stale")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []  # an IntegrityError (coverage_patientinsurance_patient_id_key) would be here
    assert sorted(outcomes) == ["saved", "stale", "stale", "stale"]
    assert PatientInsurance.objects.filter(patient=eligible).count() == 1
