"""The staff patient pages (onaboard/web/patients/views.py)."""

from __future__ import annotations

import datetime as dt
import html
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.coverage.models import AuthorisationStatus, PriorAuthorisation
from onaboard.web.injections.models import InjectionSession
from onaboard.web.patients.forms import DATE_IN_FUTURE, LOADED_UNREADABLE, RECORD_NUMBER_TAKEN, STOP_BEFORE_START
from onaboard.web.patients.models import OtherToxinTreatment, Patient, PreventiveTrial
from onaboard.web.patients.services import STALE_TRIAL, STALE_VERSION, STOP_DATE_NEEDED
from tests.web.clinic.diaries import chronic_rows, store
from tests.web.posted import posted

pytestmark = pytest.mark.django_db


def _url(name: str, patient: Patient, *more: object) -> str:
    return reverse(f"patients:{name}", args=[patient.external_id, *more])


# --- The clinician's page -------------------------------------------------------------------------------------------


def test_the_patient_page_shows_every_verdict_with_its_reasons(client, world, treated):
    """The clinician's page shows the pathway, eligibility, outcomes and schedule, each with the engine's reasons."""
    client.force_login(world.users["clinician"])
    response = client.get(_url("detail", treated.patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "on treatment" in body
    assert "ICHD-3 1.3 A: each of the 3 periods has &gt;= 15 headache days (18, 18, 18)" in body
    assert "ICHD-3 8.2: period 1" in body
    assert "simple analgesic" in body
    assert "simple_analgesic" not in body  # the command line's code, in words on the page
    assert "BOTOX label (Indications): each of the 3 periods has &gt;= 15 days" in body
    assert "the day before the first injection" in body
    assert "NICE TA260 1.2: response is judged at week 24 (period 6): not reached yet" in body
    assert "BOTOX label, chronic migraine: retreat every 12 weeks (84 days)" in body
    assert 'role="img"' in body
    assert "HIT-6 78 -&gt; 60: drop of 18 points (&gt;= 5: responder)" in body


def test_after_a_stop_the_patient_page_names_no_due_date(client, world, treated):
    """Once a clinician's decision to stop is the latest, the outcomes' 12-week schedule says treatment stopped
    instead of the engine's due date and its status, as the sessions card does."""
    from tests.web.factories import TreatmentDecisionFactory

    client.force_login(world.users["clinician"])
    before = strip_tags(client.get(_url("detail", treated.patient)).content.decode())
    assert "not yet due:" in before
    TreatmentDecisionFactory(patient=treated.patient, decided_on=treated.today, decided_by=world.users["clinician"])
    body = client.get(_url("detail", treated.patient)).content.decode()
    text = " ".join(html.unescape(strip_tags(body)).split())
    assert "12-week schedule: cycle 2 · treatment stopped: no session is due" in text
    assert "not yet due:" not in text
    assert "retreat every 12 weeks" not in text
    assert 'data-schedule="stopped"' in body


def test_the_patient_page_shows_each_safety_finding_with_its_label_source(client, world, treated):
    """A contraindication and the other-toxin warning show with the label section behind each."""
    client.force_login(world.users["nurse"])
    body = client.get(_url("detail", treated.patient)).content.decode()
    assert "contraindication: infection at the proposed injection site(s)" in body
    assert "BOTOX US PI 4 Contraindications" in body
    assert "warning: other botulinum toxin: Dysport 300 U" in body
    assert "BOTOX US PI 7 Drug Interactions: Other Botulinum Neurotoxin Products" in body
    assert "contraindicated" in body


def test_the_patient_page_lists_history_and_offers_the_actions(client, world, treated):
    """Preventives, other toxins, side effects and sessions are listed; recording a session and a diary day are
    one click away."""
    client.force_login(world.users["clinician"])
    body = client.get(_url("detail", treated.patient)).content.decode()
    assert "topiramate" in body
    assert "not tolerated" in body
    assert "cervical dystonia" in body
    assert "Neck pain" in body
    assert reverse("injections:session_new", args=[treated.patient.external_id]) in body
    assert reverse("diary:patient_day", args=[treated.patient.external_id, treated.today]) in body
    assert _url("preventive_edit", treated.patient, treated.trial.external_id) in body


def test_a_booked_session_is_recorded_from_the_booking(client, world, treated):
    """With a session booked, the record button opens that booking instead of a new session."""
    booking = InjectionSession.objects.create(patient=treated.patient, date=treated.today + timedelta(days=3))
    client.force_login(world.users["clinician"])
    body = client.get(_url("detail", treated.patient)).content.decode()
    assert reverse("injections:session_record", args=[booking.external_id]) in body


def test_a_patient_without_diary_or_sessions_still_has_a_page(client, world):
    """A newly registered patient's page renders, with the diary running and every verdict saying why."""
    client.force_login(world.users["clinician"])
    response = client.get(_url("detail", world.same_clinic_patient))
    assert response.status_code == 200
    body = response.content.decode()
    assert "diary running" in body
    assert "No 28-day period to show yet." in body


def _decision_url(patient: Patient) -> str:
    return reverse("outcomes:treatment_decisions", args=[patient.external_id])


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_a_treated_patients_page_links_to_the_continue_or_stop_page(client, world, treated, role):
    """Once a session is recorded, clinical staff who may read the continue-or-stop page reach it from the pathway
    on the patient page."""
    client.force_login(world.users[role])
    body = client.get(_url("detail", treated.patient)).content.decode()
    assert f'<a class="button secondary" href="{_decision_url(treated.patient)}">Continue or stop treatment</a>' in body


def test_before_treatment_the_patient_page_has_no_continue_or_stop_link(client, world, today):
    """A patient with only a session booked (none recorded) has nothing to continue or stop: no link."""
    patient = world.same_clinic_patient
    InjectionSession.objects.create(patient=patient, date=today + timedelta(days=3))
    client.force_login(world.users["clinician"])
    body = client.get(_url("detail", patient)).content.decode()
    assert "booked" in body
    assert _decision_url(patient) not in body
    assert "Continue or stop" not in body


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_staff_get_no_continue_or_stop_link(client, world, treated, role):
    """Staff without the clinical view land on the billing view of a treated patient, which has no link to the
    continue-or-stop page (they may not read it)."""
    client.force_login(world.users[role])
    response = client.get(_url("detail", treated.patient), follow=True)
    assert response.redirect_chain == [(_url("billing", treated.patient), 302)]
    body = response.content.decode()
    assert _decision_url(treated.patient) not in body
    assert "Continue or stop" not in body


def test_reading_the_patient_page_is_audited(client, world, treated):
    """Opening the clinician's page records a read of that patient."""
    client.force_login(world.users["clinician"])
    client.get(_url("detail", treated.patient))
    event = AuditEvent.objects.filter(action=Action.READ, object_type="patient").latest("id")
    assert event.patient_id == treated.patient.external_id
    assert event.detail == "clinical page"


@pytest.mark.parametrize("role", ["clinician", "nurse", "billing", "admin"])
def test_another_clinics_patient_is_not_found(client, world, role):
    """Staff asking for another clinic's patient get 404 on every patient page, as for an unknown id."""
    client.force_login(world.users[role])
    for name in ("detail", "billing", "edit", "safety_edit", "other_toxin_new", "preventive_new"):
        assert client.get(_url(name, world.other_clinic_patient)).status_code == 404


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_patients_and_trainees_cannot_open_staff_patient_pages(client, world, role):
    """A patient (even for their own record) and a trainee get 404 from the staff pages."""
    client.force_login(world.users[role])
    for name in ("detail", "billing", "edit", "safety_edit"):
        assert client.get(_url(name, world.own_patient)).status_code == 404


# --- Billing --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_staff_are_sent_to_the_billing_view(client, world, treated, role):
    """Staff without the clinical view opening the patient page land on its billing view."""
    client.force_login(world.users[role])
    response = client.get(_url("detail", treated.patient))
    assert response.status_code == 302
    assert response["Location"] == _url("billing", treated.patient)


def test_the_billing_view_has_billing_facts_and_no_clinical_content(client, world, treated):
    """Billing sees demographics, units, vials, lot and claim lines, and no verdict, safety finding or side effect."""
    InjectionSession.objects.create(patient=treated.patient, date=treated.today + timedelta(days=5))
    client.force_login(world.users["billing"])
    body = client.get(_url("billing", treated.patient)).content.decode()
    assert treated.patient.record_number in body
    assert "64615" in body
    assert "J0585-JW \N{MULTIPLICATION SIGN} 45" in body
    assert "C9999C3" in body
    for clinical in ("ICHD-3", "NICE", "Safety screen", "infection", "Neck pain", "topiramate", "Dysport", "HIT-6"):
        assert clinical not in body, clinical


def test_the_billing_view_warns_where_a_sessions_stored_figures_disagree_with_its_claim_lines(client, world, treated):
    """A session stored with 2 vials opened beside sites giving one 200 U vial: its row says to check the record
    before a claim, naming the figure stored and the one from the sites; a session whose figures agree says nothing."""
    first, second = treated.sessions
    InjectionSession.objects.filter(pk=first.pk).update(vials_used=2)
    client.force_login(world.users["billing"])
    body = html.unescape(client.get(_url("billing", treated.patient)).content.decode())
    assert f'id="stored-disagreements-{first.external_id}"' in body
    assert f'id="stored-disagreements-{second.external_id}"' not in body
    assert "Check the session's record before a claim" in body
    assert "vials opened: 2 stored, 1 from the sites" in body


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_staff_cannot_edit_the_clinical_record(client, world, role):
    """Editing needs the clinical capability: billing staff get 404 and nothing changes."""
    patient = world.same_clinic_patient
    client.force_login(world.users[role])
    response = client.post(_url("edit", patient), {"given_name": "Changed", "version": patient.version})
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.given_name == "Sam"


# --- Editing the record ---------------------------------------------------------------------------------------------


def _demographics(patient: Patient, **changes: object) -> dict[str, object]:
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "record_number": patient.record_number,
        "version": patient.version,
    }
    return {**data, **changes}


def test_saving_the_record_bumps_the_version_and_returns_to_the_page(client, world):
    """A valid edit is saved, the version goes up and the user is sent back to the patient page."""
    patient = world.same_clinic_patient
    client.force_login(world.users["nurse"])
    assert f'name="version" value="{patient.version}"' in client.get(_url("edit", patient)).content.decode()
    response = client.post(_url("edit", patient), _demographics(patient, family_name="Samson"))
    assert response.status_code == 302
    assert response["Location"] == _url("detail", patient)
    patient.refresh_from_db()
    assert (patient.family_name, patient.version) == ("Samson", 2)


def test_an_invalid_edit_shows_the_error_by_the_field_and_keeps_what_was_typed(client, world):
    """A birth date in the future is refused next to the field; the other typed values stay in the form."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    future = (patient.birth_date.replace(year=2999)).isoformat()
    response = client.post(_url("edit", patient), _demographics(patient, birth_date=future, given_name="Samuel"))
    assert response.status_code == 200
    body = response.content.decode()
    assert str(DATE_IN_FUTURE) in body
    assert 'value="Samuel"' in body
    patient.refresh_from_db()
    assert patient.given_name == "Sam"


def _text(response) -> str:
    """The page as text, tags stripped, whitespace collapsed."""
    return html.unescape(" ".join(strip_tags(response.content.decode()).split()))


def _two_people(client, world, url: str) -> tuple[dict[str, list[str]], Client]:
    """The nurse opens ``url`` (what her browser would post back, returned) and a clinician, in a client of
    their own (returned), opens it too."""
    client.force_login(world.users["nurse"])
    stale = posted(client.get(url).content)
    other = Client()
    other.force_login(world.users["clinician"])
    return stale, other


def _given_name_saved_over_a_new_family_name(client, world, url):
    """The clinician saves the family name Samson while the nurse has the record open; the nurse then saves her
    form with the given name Samuel: the refused answer (200)."""
    stale, other = _two_people(client, world, url)
    assert other.post(url, {**posted(other.get(url).content), "family_name": "Samson"}).status_code == 302
    response = client.post(url, {**stale, "given_name": "Samuel"})
    assert response.status_code == 200
    return response


def test_a_stale_form_is_refused_with_a_conflict_message(client, world):
    """When someone saved since the form was loaded, nothing is saved; the form shown again holds what is stored
    with the user's own change on top, at the stored version, and the box names what the other person changed."""
    patient = world.same_clinic_patient
    url = _url("edit", patient)
    response = _given_name_saved_over_a_new_family_name(client, world, url)
    assert str(STALE_VERSION) in _text(response)
    assert "Family name: Samson" in _text(response)
    again = posted(response.content)
    assert (again["given_name"], again["family_name"], again["version"]) == (["Samuel"], ["Samson"], ["2"])
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name, patient.version) == ("Sam", "Samson", 2)


def test_saving_the_record_again_after_a_conflict_keeps_both_peoples_changes(client, world):
    """A clinician corrects the family name while the nurse has the record open and corrects the given name: her
    save is refused, and saving the form shown again stores both corrections (it used to put the old family name
    back)."""
    patient = world.same_clinic_patient
    url = _url("edit", patient)
    response = _given_name_saved_over_a_new_family_name(client, world, url)
    assert client.post(url, posted(response.content)).status_code == 302
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name, patient.version) == ("Samuel", "Samson", 3)


def test_a_field_both_people_changed_is_named_and_the_second_value_saved_on_a_conscious_save(client, world):
    """Both change the family name: the box names the field with the stored value and the user's own, the form
    keeps the user's, and saving it again (a conscious choice) stores it."""
    patient = world.same_clinic_patient
    url = _url("edit", patient)
    stale, other = _two_people(client, world, url)
    assert other.post(url, {**posted(other.get(url).content), "family_name": "Samson"}).status_code == 302
    response = client.post(url, {**stale, "family_name": "Sampson"})
    assert response.status_code == 200
    assert "Family name: Samson (you changed it too, to Sampson: your value is in the form)" in _text(response)
    again = posted(response.content)
    assert again["family_name"] == ["Sampson"]
    assert client.post(url, again).status_code == 302
    patient.refresh_from_db()
    assert patient.family_name == "Sampson"


def test_saving_safety_answers_again_after_a_conflict_keeps_the_other_persons_answer(client, world):
    """A clinician answers "pregnant: yes" while the nurse has the safety screen open and answers only the
    swallowing question: saving her form again after the conflict keeps the pregnancy answer (the page draws its
    radios itself, so it carries the loaded answers as hidden inputs of its own)."""
    patient = world.same_clinic_patient
    url = _url("safety_edit", patient)
    stale, other = _two_people(client, world, url)
    assert "initial-pregnant" in stale
    assert other.post(url, {**posted(other.get(url).content), "pregnant": "yes"}).status_code == 302
    response = client.post(url, {**stale, "dysphagia": "no"})
    assert response.status_code == 200
    assert "Pregnant: yes" in _text(response)
    assert client.post(url, posted(response.content)).status_code == 302
    patient.refresh_from_db()
    assert (patient.pregnant, patient.dysphagia) == (True, False)


def test_a_taken_record_number_is_refused(client, world):
    """Two patients of a clinic cannot share a record number."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    taken = world.own_patient.record_number
    response = client.post(_url("edit", patient), _demographics(patient, record_number=taken))
    assert response.status_code == 200
    assert str(RECORD_NUMBER_TAKEN) in response.content.decode()


def test_a_record_number_taken_after_the_form_checked_it_is_refused_on_the_form(client, world, monkeypatch):
    """Another patient saved with the record number after this edit's form found it free (two edits at the same
    moment): the database's constraint refuses the save, and the page says so at the field instead of answering
    500; nothing of the edit is saved. Simulated by giving the other patient the number just before the service
    writes."""
    from onaboard.web.patients import services, views

    patient = world.same_clinic_patient
    other = world.own_patient
    wanted = "MRN-RACED-1"

    def taken_meanwhile(**kwargs: object) -> Patient:
        Patient.objects.filter(pk=other.pk).update(record_number=wanted)
        return services.patient_update(**kwargs)

    monkeypatch.setattr(views, "patient_update", taken_meanwhile)
    client.force_login(world.users["clinician"])
    response = client.post(_url("edit", patient), _demographics(patient, given_name="Samuel", record_number=wanted))
    assert response.status_code == 200
    assert str(RECORD_NUMBER_TAKEN) in response.content.decode()
    assert response.context["form"].errors["record_number"] == [str(RECORD_NUMBER_TAKEN)]
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.given_name, stored.record_number, stored.version) == ("Sam", patient.record_number, 1)


def test_safety_answers_are_saved_as_yes_no_or_not_asked(client, world):
    """Each safety question takes yes, no or not asked; the page then shows the engine's finding."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    data = {"version": patient.version, "other_toxin_asked": "yes", "pregnant": "yes", "dysphagia": "no"}
    response = client.post(_url("safety_edit", patient), data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.pregnant, patient.dysphagia, patient.breastfeeding) == (True, False, None)
    assert patient.other_toxin_asked
    body = client.get(_url("detail", patient)).content.decode()
    assert "warning: pregnant" in body
    assert "unknown: not asked or unanswered: breastfeeding" in body


def test_the_screen_asks_about_cardiovascular_disease(client, world):
    """Pre-existing cardiovascular disease is a question of the screen (clinical-facts.md 2, Dysphagia / breathing):
    a stored record without the answer lists it as not asked; answered yes, the page shows the label's caution."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    assert (
        "unknown: not asked or unanswered: cardiovascular disease"
        in client.get(_url("detail", patient)).content.decode()
    )
    data = {"version": patient.version, "other_toxin_asked": "yes", "cardiovascular_disease": "yes"}
    assert client.post(_url("safety_edit", patient), data).status_code == 302
    patient.refresh_from_db()
    assert patient.cardiovascular_disease is True
    assert "warning: pre-existing cardiovascular disease" in client.get(_url("detail", patient)).content.decode()


def test_the_safety_form_shows_the_stored_answers(client, world):
    """The safety form opens with each stored answer checked: "no" where answered no, "not asked" where unknown."""
    patient = world.same_clinic_patient
    patient.pregnant = False
    patient.save()
    client.force_login(world.users["nurse"])
    body = client.get(_url("safety_edit", patient)).content.decode()
    assert '<input type="radio" name="pregnant" value="no" id="id_pregnant_1" checked>' in body
    assert '<input type="radio" name="dysphagia" value="" id="id_dysphagia_2" checked>' in body


def test_another_toxin_treatment_is_added(client, world, today):
    """A treatment outside the sessions is recorded and answers the "asked about other toxins" question."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    data = {"date": today.isoformat(), "product": "Xeomin", "units": "50", "indication": "blepharospasm"}
    response = client.post(_url("other_toxin_new", patient), data)
    assert response.status_code == 302
    assert OtherToxinTreatment.objects.get(patient=patient).product == "Xeomin"
    patient.refresh_from_db()
    assert patient.other_toxin_asked


def test_a_future_toxin_treatment_is_refused(client, world, today):
    """A treatment dated after today is refused next to the date."""
    client.force_login(world.users["clinician"])
    data = {"date": (today + timedelta(days=1)).isoformat(), "product": "Xeomin", "units": "50"}
    response = client.post(_url("other_toxin_new", world.same_clinic_patient), data)
    assert response.status_code == 200
    assert str(DATE_IN_FUTURE) in response.content.decode()
    assert not OtherToxinTreatment.objects.exists()


def _trial(**changes: object) -> dict[str, object]:
    data = {
        "drug": "propranolol",
        "drug_class": "beta_blocker",
        "dose": "80 mg daily",
        "start": "2024-01-10",
        "stop": "2024-05-01",
        "stop_reason": "ineffective",
    }
    return {**data, **changes}


def test_a_preventive_medicine_is_added(client, world):
    """A preventive tried is added with its dates and why it stopped."""
    patient = world.same_clinic_patient
    client.force_login(world.users["nurse"])
    assert client.post(_url("preventive_new", patient), _trial()).status_code == 302
    trial = PreventiveTrial.objects.get(patient=patient)
    assert (trial.drug, trial.stop_reason) == ("propranolol", "ineffective")


def test_a_stop_before_the_start_is_refused(client, world):
    """A stop date before the start date is refused next to the stop date and nothing is saved."""
    client.force_login(world.users["nurse"])
    response = client.post(_url("preventive_new", world.same_clinic_patient), _trial(stop="2023-12-31"))
    assert response.status_code == 200
    assert str(STOP_BEFORE_START) in response.content.decode()
    assert not PreventiveTrial.objects.exists()


def test_a_medicine_marked_ineffective_without_a_stop_date_is_refused_at_the_stop_date(client, world):
    """The reported case: erenumab started 2025-06-01, "Why stopped" ineffective and the stop date left empty (the
    field's help: empty while still taken) was saved, then counted as a failed trial and as a current medicine at
    once. It is refused next to the stop date, and nothing is saved."""
    client.force_login(world.users["clinician"])
    data = _trial(drug="erenumab", drug_class="cgrp_monoclonal_antibody", start="2025-06-01", stop="")
    response = client.post(_url("preventive_new", world.same_clinic_patient), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"stop": [str(STOP_DATE_NEEDED)]}
    assert str(STOP_DATE_NEEDED) in _text(response)
    assert not PreventiveTrial.objects.exists()


def test_a_preventive_medicine_is_corrected(client, world, treated):
    """Editing a preventive saves the change."""
    client.force_login(world.users["clinician"])
    url = _url("preventive_edit", treated.patient, treated.trial.external_id)
    assert client.get(url).status_code == 200
    response = client.post(url, _trial(drug="topiramate", dose="25 mg twice daily", drug_class="anticonvulsant"))
    assert response.status_code == 302
    treated.trial.refresh_from_db()
    assert treated.trial.dose == "25 mg twice daily"


def test_a_stale_preventive_form_does_not_undo_someone_elses_stop_reason(client, world, treated):
    """The reviewer's case: a clinician sets why a medicine the patient was still taking stopped (not tolerated)
    while the nurse, her form open, changes only the dose. Her save is refused, nothing of it saved; the form shown
    again holds the stored stop reason with her dose, and saving it keeps both (it used to put "still taking"
    back)."""
    trial = treated.trial
    PreventiveTrial.objects.filter(pk=trial.pk).update(stop=None, stop_reason="ongoing")
    url = _url("preventive_edit", treated.patient, trial.external_id)
    stale, other = _two_people(client, world, url)
    stopped = {"stop_reason": "not_tolerated", "stop": treated.trial.start.isoformat()}
    assert other.post(url, {**posted(other.get(url).content), **stopped}).status_code == 302
    response = client.post(url, {**stale, "dose": "100 mg at night"})
    assert response.status_code == 200
    assert str(STALE_TRIAL) in _text(response)
    assert "Why stopped: not tolerated" in _text(response)
    trial.refresh_from_db()
    assert (trial.stop_reason, trial.dose) == ("not_tolerated", "50 mg twice daily")
    again = posted(response.content)
    assert (again["stop_reason"], again["dose"]) == (["not_tolerated"], ["100 mg at night"])
    assert client.post(url, again).status_code == 302
    trial.refresh_from_db()
    assert (trial.stop_reason, trial.dose) == ("not_tolerated", "100 mg at night")


def test_a_fresh_preventive_form_is_saved_without_a_conflict(client, world, treated):
    """A save from a form nobody saved over since it was loaded goes through at once."""
    url = _url("preventive_edit", treated.patient, treated.trial.external_id)
    client.force_login(world.users["nurse"])
    assert client.post(url, {**posted(client.get(url).content), "dose": "25 mg"}).status_code == 302
    treated.trial.refresh_from_db()
    assert treated.trial.dose == "25 mg"


def test_a_preventive_saved_in_the_hour_the_clocks_go_back_can_be_saved_again(client, world, treated, settings):
    """A medicine last saved at 00:30 UTC on 25 October 2026, in the repeated 01:00-02:00 hour of London's autumn
    change, is saved again from its edit form: the form carries that time with its UTC offset (a naive local time
    read back is ambiguous, and every save was refused with no field marked)."""
    settings.TIME_ZONE = "Europe/London"
    trial = treated.trial
    autumn = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    PreventiveTrial.objects.filter(pk=trial.pk).update(modified=autumn)
    url = _url("preventive_edit", treated.patient, trial.external_id)
    client.force_login(world.users["nurse"])
    form = posted(client.get(url).content)
    response = client.post(url, {**form, "dose": "25 mg"})
    assert response.status_code == 302, _text(response)
    assert dt.datetime.fromisoformat(form["loaded"][0]) == autumn
    trial.refresh_from_db()
    assert trial.dose == "25 mg"


def test_an_unreadable_loaded_time_is_refused_at_the_top_of_the_form(client, world, treated):
    """A preventive form whose loaded time is not an aware ISO time (here a naive one) is refused with a message
    saying so, not with "correct the fields" and no field marked; nothing is saved."""
    url = _url("preventive_edit", treated.patient, treated.trial.external_id)
    client.force_login(world.users["nurse"])
    form = posted(client.get(url).content)
    response = client.post(url, {**form, "dose": "25 mg", "loaded": "2026-10-25 01:30:00"})
    assert response.status_code == 200
    assert str(LOADED_UNREADABLE) in _text(response)
    treated.trial.refresh_from_db()
    assert treated.trial.dose == "50 mg twice daily"


def test_another_patients_preventive_cannot_be_edited_through_this_patient(client, world, treated):
    """A preventive id of a different patient under this patient's address is not found."""
    client.force_login(world.users["clinician"])
    url = _url("preventive_edit", world.own_patient, treated.trial.external_id)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("whose", ["same_clinic", "other_clinic"])
def test_another_patients_preventive_id_is_refused_in_the_audit_trail_naming_that_patient(
    client, world, treated, whose
):
    """Opening or saving the preventive form of a patient the clinician may see with the trial id of another patient
    (of the same clinic or another) is the same 404, and each refusal is a DENIED event naming the patient whose
    trial it is, as a refused session or side-effect id is; nothing is changed."""
    owner = treated.patient if whose == "same_clinic" else world.other_clinic_patient
    trial = (
        treated.trial
        if whose == "same_clinic"
        else PreventiveTrial.objects.create(
            patient=owner,
            drug="topiramate",
            drug_class="anticonvulsant",
            dose="50 mg",
            start=dt.date(2023, 1, 1),
            stop_reason="ongoing",
        )
    )
    client.force_login(world.users["clinician"])
    url = _url("preventive_edit", world.own_patient, trial.external_id)
    assert client.get(url).status_code == 404
    assert client.post(url, _trial(stop="2023-12-31")).status_code == 404
    refusals = AuditEvent.objects.filter(action=Action.DENIED, object_type="preventive_trial")
    assert [(e.object_id, e.patient_id, e.username) for e in refusals] == [
        (str(trial.external_id), owner.external_id, "clinician")
    ] * 2
    assert not AuditEvent.objects.filter(action=Action.READ, object_type="preventive_trial").exists()
    assert PreventiveTrial.objects.get(pk=trial.pk).stop == trial.stop


# --- Registering ----------------------------------------------------------------------------------------------------


def test_a_clinician_registers_a_new_patient_of_their_clinic(client, world):
    """A new patient is created in the clinician's clinic and opens on their page."""
    client.force_login(world.users["clinician"])
    data = {
        "given_name": "Nova",
        "family_name": "Newcomb",
        "birth_date": "1990-02-03",
        "sex": "female",
        "record_number": "MRN-NEW-1",
    }
    response = client.post(reverse("patients:new"), data)
    patient = Patient.objects.get(record_number="MRN-NEW-1")
    assert patient.clinic == world.clinic
    assert response["Location"] == _url("detail", patient)


def test_a_record_number_registered_at_the_same_moment_is_refused_on_the_form(client, world, monkeypatch):
    """Two registrations of the same record number arriving together (a double click on Save) both pass the form's
    check, which cannot see the other's uncommitted row; the database's constraint refuses the second, and the page
    says so at the field instead of answering 500. Simulated by hiding the first row from both checks."""
    from onaboard.web.patients import forms

    client.force_login(world.users["clinician"])
    taken = world.own_patient.record_number
    monkeypatch.setattr(forms, "record_number_taken", lambda **kwargs: False)
    monkeypatch.setattr(Patient, "validate_constraints", lambda self, exclude=None: None)
    data = {"given_name": "Nova", "family_name": "Newcomb", "birth_date": "1990-02-03", "sex": "female"}
    response = client.post(reverse("patients:new"), {**data, "record_number": taken})
    assert response.status_code == 200
    assert str(RECORD_NUMBER_TAKEN) in response.content.decode()
    assert Patient.objects.filter(record_number=taken).count() == 1


@pytest.mark.parametrize("role", ["billing", "admin", "patient", "trainee"])
def test_only_clinical_staff_register_patients(client, world, role):
    """Registering a patient needs the clinical edit capability: others get 403."""
    client.force_login(world.users[role])
    assert client.get(reverse("patients:new")).status_code == 403


def test_a_first_session_on_the_birth_date_still_opens_the_pages(client, world):
    """The details form allows a birth date on the first session's day (the session screen allows that day), and
    the eligibility behind the treatment is then assessed on the birth date instead of failing the day before it
    (the patient page and the coverage page were a 500)."""
    from django.utils import timezone

    from onaboard.web.clinic.demo import record_preempt_session

    patient = world.same_clinic_patient
    today = timezone.localdate()
    session = record_preempt_session(patient, today - timedelta(days=10), injector=world.users["nurse"], today=today)
    Patient.objects.filter(pk=patient.pk).update(birth_date=session.date)
    client.force_login(world.users["clinician"])
    assert client.get(reverse("patients:detail", args=[patient.external_id])).status_code == 200
    assert client.get(reverse("coverage:patient", args=[patient.external_id])).status_code == 200


def test_no_response_is_shown_against_an_incomplete_baseline(client, world):
    """No diary before the first injection: the page gives week 24's headache days but no responder flags, and no
    change per period, since NICE cannot measure the reduction either (it said 'not a responder' beside 'not yet
    assessable')."""
    from django.utils import timezone

    from onaboard.web.clinic.demo import record_preempt_session
    from tests.builders import period_rows
    from tests.web.clinic.diaries import store

    patient = world.same_clinic_patient
    today = timezone.localdate()
    day0 = today - timedelta(days=175)
    rows = [row for k in range(6) for row in period_rows("P", day0 + timedelta(days=28 * k), headache=18)]
    store(patient, rows, today=today)
    for day in (day0, day0 + timedelta(days=84)):
        record_preempt_session(patient, day, injector=world.users["nurse"], today=today)
    client.force_login(world.users["clinician"])
    page = client.get(reverse("patients:detail", args=[patient.external_id])).content.decode()
    assert "the baseline is incomplete, so the response cannot be measured against it" in page
    assert "30 % responder" not in page


def test_the_page_says_when_and_by_whom_the_checklist_was_answered(client, world):
    """Saving the safety form dates the checklist today with the user's name, shown on the patient's page; before
    that the page says the day is not recorded."""
    patient = world.same_clinic_patient
    clinician = world.users["clinician"]
    client.force_login(clinician)
    patient.pregnant = False  # answered before the day was kept (an import, an older version)
    patient.save()
    assert "The day the checklist was answered is not recorded." in client.get(_url("detail", patient)).content.decode()
    data = {"version": patient.version, "other_toxin_asked": "yes", "pregnant": "no"}
    assert client.post(_url("safety_edit", patient), data).status_code == 302
    body = html.unescape(client.get(_url("detail", patient)).content.decode())
    day = timezone.localdate().strftime("%-d %b %Y")
    name = clinician.get_full_name() or clinician.username
    assert f"Checklist answered on {day} by {name}." in body


@pytest.mark.parametrize(("next_url", "lands_on"), [("/sessions/", "/sessions/"), ("https://elsewhere.example/", None)])
def test_the_safety_form_returns_to_a_page_of_this_site_only(client, world, next_url, lands_on):
    """Opened from another page of the site (the session screen: ``?next=``), the safety form returns there once
    saved; a next address off the site is ignored (the patient's page instead)."""
    patient = world.same_clinic_patient
    client.force_login(world.users["clinician"])
    url = f"{_url('safety_edit', patient)}?{urlencode({'next': next_url})}"
    response = client.post(url, {"version": patient.version, "other_toxin_asked": "no"})
    assert response["Location"] == (lands_on or _url("detail", patient))


def test_the_safety_card_of_a_new_patient_says_nothing_is_answered_yet(client, world):
    """A patient with no safety question answered reads "Safety screen for an injection on <day>. Not answered
    yet.", not "Screened ..." with the answering day missing."""
    client.force_login(world.users["nurse"])
    body = html.unescape(client.get(_url("detail", world.same_clinic_patient)).content.decode())
    day = timezone.localdate().strftime("%-d %b %Y")
    assert f"Safety screen for an injection on {day}." in body
    assert "Not answered yet." in body
    assert "Screened for an injection" not in body
    assert "The day the checklist was answered is not recorded." not in body


# --- Portal login ---------------------------------------------------------------------------------------------------


def test_the_patient_page_names_the_portal_login(client, world):
    """A patient with a linked login shows its user name; one without says the administrator links one, and where."""
    client.force_login(world.users["nurse"])
    own = html.unescape(client.get(_url("detail", world.own_patient)).content.decode())
    assert f"Portal: the patient signs in as {world.users['patient'].username}." in own
    other = html.unescape(client.get(_url("detail", world.same_clinic_patient)).content.decode())
    assert (
        "Portal: no login linked. The clinic's administrator makes one (Admin, Users, Add user) and links it to "
        "this record (Admin, Patients, the patient, User)." in other
    )


def test_the_patient_page_says_a_closed_portal_is_closed(client, world):
    """A closed portal names the login and how the administrator opens it again."""
    patient = world.own_patient
    patient.portal_closed = timezone.now()
    patient.save()
    client.force_login(world.users["clinician"])
    body = html.unescape(client.get(_url("detail", patient)).content.decode())
    assert f"Portal: closed (login {world.users['patient'].username})." in body
    assert "signs in as" not in body


# --- Booking the first session --------------------------------------------------------------------------------------


def _book_first_link(patient: Patient) -> str:
    return reverse("injections:first_session_book", args=[patient.external_id])


@pytest.mark.parametrize("diary", ["none", "chronic", "chronic_awaiting", "chronic_denied"])
def test_an_untreated_patient_without_a_booking_has_a_book_first_session_button(client, world, today, diary):
    """Diary running, eligible, awaiting approval and approval denied each offer "Book the first session"."""
    patient = world.same_clinic_patient
    if diary != "none":
        store(patient, chronic_rows(today=today - timedelta(days=1)), today=today)
    if diary in ("chronic_awaiting", "chronic_denied"):
        denied = diary == "chronic_denied"
        PriorAuthorisation.objects.create(
            patient=patient,
            policy_id="botox-label",
            diagnosis_code="G43.709",
            requested_on=today - timedelta(days=5),
            status=AuthorisationStatus.DENIED if denied else AuthorisationStatus.REQUESTED,
            decided_on=today - timedelta(days=1) if denied else None,
        )
    client.force_login(world.users["nurse"])
    body = client.get(_url("detail", patient)).content.decode()
    state = {
        "none": "diary running",
        "chronic": "eligible",
        "chronic_awaiting": "awaiting approval",
        "chronic_denied": "approval denied",
    }
    assert f'">{state[diary]}</span>' in body
    assert _book_first_link(patient) in body
    assert "Book the first session" in body


def test_no_book_first_session_button_once_booked_or_treated(client, world, treated):
    """A booked first session, or a recorded one, leaves nothing to book as a first session; a treated patient with
    no booking open is offered the next session instead, and one with a booking open nothing."""
    patient = world.own_patient
    InjectionSession.objects.create(patient=patient, date=timezone.localdate() + timedelta(days=3))
    client.force_login(world.users["clinician"])
    assert _book_first_link(patient) not in client.get(_url("detail", patient)).content.decode()
    page = client.get(_url("detail", treated.patient)).content.decode()
    assert "Book the first session" not in page
    assert f'href="{_book_first_link(treated.patient)}">Book the next session</a>' in page
    InjectionSession.objects.create(patient=treated.patient, date=timezone.localdate() + timedelta(days=3))
    assert _book_first_link(treated.patient) not in client.get(_url("detail", treated.patient)).content.decode()
