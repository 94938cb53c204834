"""The four PDF documents: their text (extracted), one PNG render each (not blank), and what each must say."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onaboard.web.coverage.documents import NO_TREATMENT, DocumentKind, document_pdf
from onaboard.web.coverage.selectors import CoverageUnavailableError
from tests.pdfs import blank_fraction, pdf_pages_png, pdf_text


def _text(world, patient, today, kind, **kwargs) -> tuple[bytes, str]:
    made = document_pdf(kind, user=world.users["clinician"], patient=patient, today=today, **kwargs)
    assert made.pdf.startswith(b"%PDF-")
    return made.pdf, " ".join(pdf_text(made.pdf).split())


def test_the_prior_authorisation_letter_carries_diagnosis_diary_preventives_safety_plan_and_criteria(world, treated):
    """The prior-auth letter names the patient, the ICD-10-CM code, the baseline periods, the failed preventives,
    the safety screen, the 155 U / 31-site plan with J0585 and 64615, and every criterion of the policy."""
    _, text = _text(world, treated.patient, treated.today, DocumentKind.PRIOR_AUTH)
    patient = treated.patient
    assert patient.family_name in text
    assert patient.record_number in text
    assert "G43.719" in text
    assert "Headache diary: the baseline periods" in text
    assert "topiramate" in text
    assert "propranolol" in text
    assert "amitriptyline" in text
    assert "Safety screen" in text
    assert "155 U in 31 intramuscular sites" in text
    assert "J0585" in text
    assert "64615" in text
    assert "J0585-JW" in text
    assert "Example Health Plan" in text
    for word in ("met", "Evidence", "Criterion"):
        assert word in text


def test_the_continuation_letter_compares_baseline_with_week_24_and_lists_scores_and_side_effects(world, treated):
    """The continuation letter gives baseline and week-24 headache days with the percentage change, the HIT-6 and
    MIDAS change, and the side effects reported."""
    _, text = _text(world, treated.patient, treated.today, DocumentKind.CONTINUATION)
    assert "baseline against week 24" in text
    assert "at week 24: a change of -55.6 %" in text  # 18 headache days at baseline, 8 at week 24
    assert "HIT-6" in text
    assert "MIDAS" in text
    assert "neck pain" in text


def test_the_procedure_note_lists_sites_lot_vials_discarded_units_codes_injector_and_complications(world, treated):
    """The procedure note of the first session shows sites and units, lot and expiry, vials, 45 U discarded with
    JW, the codes, who injected and the complications."""
    session = treated.sessions[0]
    _, text = _text(world, treated.patient, treated.today, DocumentKind.PROCEDURE, session_id=session.external_id)
    assert "Procedure note" in text
    assert "corrugator" in text.lower()
    assert "trapezius" in text.lower()
    assert session.product_lot in text
    assert "Vials opened 1" in text
    assert "45 U (billed with modifier JW)" in text
    assert "J0585-JW 45" in text.replace(" onabotulinumtoxinA, 1 unit: discarded from the single-dose vial", "")
    assert "64615" in text
    assert world.users["nurse"].username in text or world.users["nurse"].get_full_name() in text
    assert "Brief vasovagal episode" in text


def test_billing_staff_print_the_procedure_note_without_its_clinical_notes(world, treated):
    """Billing staff may print the procedure note for a claim (sites, units, lot, codes), but the complications,
    the side effects reported after the session and a check override are clinical notes, left out as everywhere
    else billing staff look; a clinician's copy holds them."""
    session = treated.sessions[0]
    session.override_reason = "Interval override agreed with the patient"
    session.save()
    made = document_pdf(
        DocumentKind.PROCEDURE,
        user=world.users["billing"],
        patient=treated.patient,
        today=treated.today,
        session_id=session.external_id,
    )
    text = " ".join(pdf_text(made.pdf).split())
    assert session.product_lot in text
    assert "64615" in text
    for clinical in ("Brief vasovagal episode", "Interval override agreed", "Side effects reported after"):
        assert clinical not in text
    assert "this copy was printed by staff who do not see them" in text
    _, full = _text(world, treated.patient, treated.today, DocumentKind.PROCEDURE, session_id=session.external_id)
    assert "Brief vasovagal episode" in full
    assert "Interval override agreed" in full


def test_the_patient_summary_speaks_plainly_of_what_was_done_what_to_expect_side_effects_and_the_next_date(
    world, treated
):
    """The after-care sheet says what was done, that relief may start from week 4 and is judged at week 24, which
    side effects to report (urgent ones apart) and how, and the next date."""
    last = treated.sessions[-1]
    _, text = _text(world, treated.patient, treated.today, DocumentKind.PATIENT_SUMMARY)
    assert "155 units of BOTOX" in text
    assert "from about week 4" in text
    assert "judged at week 24" in text
    assert "trouble swallowing" in text
    assert "trouble breathing" in text
    assert "To report a side effect, call the clinic." in text
    assert "every 12 weeks" in text
    next_day = last.date + timedelta(days=84)
    assert f"{next_day.day} {next_day:%B %Y}" in text


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_each_document_renders_to_pages_that_are_not_blank(world, treated, kind, tmp_path):
    """Each document rendered to PNG has pages with ink on them (a broken template would give blank pages)."""
    pdf, _ = _text(world, treated.patient, treated.today, kind)
    pages = pdf_pages_png(pdf, tmp_path)
    assert pages
    for page in pages:
        assert 0.5 < blank_fraction(page) < 0.995


def test_a_continuation_letter_needs_a_recorded_session(world, eligible, today):
    """Before any session the continuation letter is refused with the reason."""
    with pytest.raises(CoverageUnavailableError, match=NO_TREATMENT):
        document_pdf(DocumentKind.CONTINUATION, user=world.users["clinician"], patient=eligible, today=today)


def test_rendering_a_document_is_audited_as_an_export(world, treated):
    """Each rendering records an export event naming the document and the patient."""
    from onaboard.web.audit.models import AuditEvent

    document_pdf(DocumentKind.PROCEDURE, user=world.users["billing"], patient=treated.patient, today=treated.today)
    event = AuditEvent.objects.filter(object_type="document").latest("id")
    assert event.action == "export"
    assert event.patient_id == treated.patient.external_id
    assert event.detail.startswith("web procedure session ")
