"""The procedure note of a session recorded with checks overridden: which checks, what they found, the fixed sites
not given, and long words that wrap rather than run off the page (coverage/pdf/procedure.html, coverage/print.css)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from onaboard.clinical import Muscle, Side
from onaboard.web.coverage.documents import DocumentKind, document_pdf
from onaboard.web.injections import selectors, sitemap
from onaboard.web.injections.models import InjectionSiteRecord
from tests.pdfs import pdf_pages_png, pdf_text

LOT = "LOT" + "0123456789" * 3 + "ABCDEFG"
"""40 characters without a space: the longest lot the form takes."""
LONG_REASON = "AgreedWithThePatientAfterTheVasovagalEpisodeAndThePayersDenial" * 3
"""An override reason typed as one word without a space or a hyphen (pdftotext drops a hyphen that ends a line)."""
NOT_GIVEN_REASON = "PREEMPT: 1 fixed site not given (temporalis left 2): 150 U at 30 sites"
NO_APPROVAL = "no prior authorisation in force on the session's day"


@pytest.fixture
def overridden(treated):
    """The first session with temporalis left 2 not given, the site-dose and prior-authorisation checks overridden
    (their reasons stored as recording stores them) and a 40-character lot."""
    session = treated.sessions[0]
    spot = sitemap.FIXED_POSITIONS[Muscle.TEMPORALIS, Side.LEFT, 2]
    InjectionSiteRecord.objects.filter(session=session, muscle="temporalis", side="left", x=spot.x, y=spot.y).delete()
    session.product_lot = LOT
    session.overridden_checks = "site_dose,prior_authorisation"
    session.override_reason = LONG_REASON
    session.check_reasons = "\n".join(
        [
            "interval: the interval passed",
            f"site_dose: {NOT_GIVEN_REASON}",
            f"prior_authorisation: {NO_APPROVAL}",
        ]
    )
    session.save()
    return session


def _pdf(world, treated, session, role="clinician"):
    return document_pdf(
        DocumentKind.PROCEDURE,
        user=world.users[role],
        patient=treated.patient,
        today=treated.today,
        session_id=session.external_id,
    ).pdf


A4_POINTS = (595, 842)
"""An A4 page in PDF points (1/72 inch), pdftotext's pixels at its default 72 dpi."""


def _text_on_the_page(pdf: bytes, folder) -> str:
    """The PDF's text within each page's A4 box: what runs off the page's edge is left out, as a printer leaves it."""
    path = folder / "document.pdf"
    path.write_bytes(pdf)
    width, height = A4_POINTS
    crop = ["-x", "0", "-y", "0", "-W", str(width), "-H", str(height)]
    tool = shutil.which("pdftotext")
    assert tool is not None
    return subprocess.run([tool, *crop, str(path), "-"], capture_output=True, text=True, check=True).stdout


def _squeezed(text: str) -> str:
    """The text with every space and line break taken out, so a word wrapped anywhere reads whole again."""
    return "".join(text.split())


def test_the_procedure_note_names_the_checks_overridden_with_their_stored_reasons(world, treated, overridden):
    """A clinician's procedure note names each check overridden by its title with the reasons stored for it at
    recording (not the checks that passed), the reason for overriding, and the fixed site not given."""
    text = " ".join(pdf_text(_pdf(world, treated, overridden)).split())
    assert "Pre-session checks overridden:" in text
    squeezed = _squeezed(text)
    site_dose = selectors.check_title(selectors.CheckCode.SITE_DOSE)
    assert _squeezed(f"{site_dose[0].upper()}{site_dose[1:]}: {NOT_GIVEN_REASON}") in squeezed
    assert _squeezed(f"Prior authorisation: {NO_APPROVAL}") in squeezed
    assert "the interval passed" not in text
    assert _squeezed(LONG_REASON) in squeezed
    assert "Fixed site not given: temporalis left 2." in text


def test_billing_staff_see_the_site_not_given_and_the_approval_override_but_not_the_clinical_ones(
    world, treated, overridden
):
    """The fixed site not given is part of the sites a claim rests on, and so is the prior authorisation overridden:
    the billing copy names that check by its title with whether an approval covers the session's day as the record
    stands (here the initial approval), not the reasons stored with the session; the site-dose check overridden and
    the reason typed for overriding are clinical notes, left out."""
    text = " ".join(pdf_text(_pdf(world, treated, overridden, role="billing")).split())
    squeezed = _squeezed(text)
    assert "Fixed site not given: temporalis left 2." in text
    assert "Check overridden when the session was recorded, which the claim may turn on:" in text
    assert _squeezed("Prior authorisation: approval in force on") in squeezed
    assert NO_APPROVAL not in text
    site_dose = selectors.check_title(selectors.CheckCode.SITE_DOSE)
    assert _squeezed(site_dose[1:]) not in squeezed
    assert NOT_GIVEN_REASON not in text
    assert _squeezed(LONG_REASON) not in squeezed


def test_long_words_wrap_inside_the_page(world, treated, overridden, tmp_path):
    """A 40-character lot and an override reason written as one long word wrap inside the page: every character
    of them is in the text within the page's edges, and every page renders."""
    pdf = _pdf(world, treated, overridden)
    squeezed = _squeezed(_text_on_the_page(pdf, tmp_path))
    assert LOT in squeezed
    assert _squeezed(LONG_REASON) in squeezed
    assert pdf_pages_png(pdf, tmp_path)


def test_the_procedure_note_names_the_warnings_in_force_when_it_was_recorded(world, treated, overridden):
    """A warning in force when the session was recorded (here chronic migraine not met before a first session) is
    stored with the session and the clinician's procedure note names it, apart from the checks overridden; billing's
    copy does not."""
    overridden.check_reasons += "\nchronic_migraine: ICHD-3 1.3 A: period 1 has 3 headache days (< 15)"
    overridden.save()
    text = " ".join(pdf_text(_pdf(world, treated, overridden)).split())
    assert "Warnings in force when the session was recorded (they did not block it):" in text
    title = str(selectors.WARNING_TITLES[selectors.WarningCode.CHRONIC_MIGRAINE])
    assert _squeezed(f"{title[0].upper()}{title[1:]}: ICHD-3 1.3 A: period 1 has 3 headache days (< 15)") in (
        _squeezed(text)
    )
    billing = " ".join(pdf_text(_pdf(world, treated, overridden, role="billing")).split())
    assert "headache days (< 15)" not in billing
