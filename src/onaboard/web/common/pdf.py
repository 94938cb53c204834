"""PDFs from the app's own Django templates, rendered by WeasyPrint.

A document is an HTML template like any page, rendered to PDF here. WeasyPrint may only load the app's own static
files (the stylesheet, fonts, images): any other address in a template is refused, so a document never reaches out
to the network nor reads a file outside the static folders.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PDF_CONTENT_TYPE = "application/pdf"


class UnsafeDocumentAddressError(ValueError):
    """A template asked WeasyPrint for something other than one of the app's static files."""


def _static_fetcher() -> Any:
    """WeasyPrint's URL fetcher, limited to data: URLs and files under STATIC_URL (found by the staticfiles finders).

    Anything else fails the whole rendering rather than leaving a silent hole in a clinical document.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    prefix = "file://" + settings.STATIC_URL

    class StaticFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if not url.startswith(prefix) or ".." in url:
                raise UnsafeDocumentAddressError(f"documents may only load the app's static files, not {url!r}")
            found = finders.find(url.removeprefix(prefix))
            if not found:
                raise UnsafeDocumentAddressError(f"no static file at {url!r}")
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=Path(found).read_bytes(), headers={"Content-Type": kind})

    return StaticFetcher(fail_on_errors=True)


def html_to_pdf(html: str) -> bytes:
    """The PDF of an HTML document whose static addresses (``{% static %}``) resolve to the app's files."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    try:
        return HTML(string=html, base_url="file:///", url_fetcher=_static_fetcher()).write_pdf()
    except FatalURLFetchingError as error:
        if isinstance(error.__cause__, UnsafeDocumentAddressError):
            raise error.__cause__ from None
        raise


def render_pdf(template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    """Render a Django template to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, context, request=request))


def pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    """An HTTP response carrying a PDF, offered for download (or shown inline) under ``filename``."""
    response = HttpResponse(pdf, content_type=PDF_CONTENT_TYPE)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # documents carry patient data
    return response
