"""PDF rendering from templates: text survives, the stylesheet loads, foreign addresses are refused."""

from __future__ import annotations

import pytest
from django.template import engines

from onaboard.web.common.pdf import UnsafeDocumentAddressError, html_to_pdf, pdf_response
from tests.pdfs import blank_fraction, pdf_pages_png, pdf_text


def test_a_template_with_the_app_stylesheet_renders_to_a_pdf_with_its_text(tmp_path):
    """A template that links the app's stylesheet becomes a one-page PDF whose text can be extracted."""
    html = (
        engines["django"]
        .from_string(
            "{% load static %}<html><head><link rel='stylesheet' href='{% static \"onaboard/onaboard.css\" %}'>"
            "</head><body><h1>Procedure note</h1><p>155 U over 31 sites</p></body></html>"
        )
        .render({})
    )
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Procedure note" in text
    assert "155 U over 31 sites" in text
    [page] = pdf_pages_png(pdf, tmp_path)
    assert 0.5 < blank_fraction(page) < 1.0


@pytest.mark.parametrize(
    "address", ["http://example.org/tracker.png", "file:///etc/passwd", "/static/../../etc/passwd"]
)
def test_a_document_may_not_load_anything_but_static_files(address):
    """Any address outside the static files fails the rendering instead of fetching it."""
    with pytest.raises(UnsafeDocumentAddressError):
        html_to_pdf(f"<html><body><img src='{address}'></body></html>")


def test_the_response_offers_the_pdf_for_download_and_is_not_cached():
    """The PDF response is an attachment with its file name and is never cached."""
    response = pdf_response(b"%PDF-1.7", "note.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="note.pdf"'
    assert response["Cache-Control"] == "no-store"
