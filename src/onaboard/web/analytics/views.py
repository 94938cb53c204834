"""The clinic's cohort page and its downloads: the registry's cohort report over the caller's clinic."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from onaboard.cohort.backends import CohortSourceError
from onaboard.reports.cohort import render_html, report_sections
from onaboard.web.analytics.selectors import clinic_cohort_report, clinic_decisions
from onaboard.web.common.pdf import html_to_pdf, pdf_response
from onaboard.web.patients.access import Capability, can

CHECKS_FAILED = _(
    "The cohort report could not be computed: some of the clinic's records fail the report's input checks. Correct "
    "the records named below (the patient's page), then open the report again; nothing else is affected."
)
"""The page (and the API's ``detail``) when the clinic's records fail a check of ``onaboard.cohort`` (409)."""


def failed_checks_for(user: object, problems: list[str]) -> tuple[str, list[str]]:
    """What a user is told of the cohort report's failed input checks: the message and each problem, each naming a
    patient's id with clinical values (a side effect's date, a diary day's hours), to clinical staff, the only ones
    who see the report (``ANALYTICS_ROLES``); anyone else, none of them (a guard: the report refuses them first)."""
    return str(CHECKS_FAILED), problems if can(user, Capability.VIEW_CLINICAL) else []


def _names_failed_checks(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """``view``, answering 409 with a page listing every problem when the clinic's own records fail one of the
    report's input checks (``CohortSourceError``: a side effect dated before the patient's first session, say),
    instead of a server error."""

    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except CohortSourceError as error:
            message, problems = failed_checks_for(request.user, error.problems)
            context = {"message": message, "problems": problems}
            return render(request, "analytics/cohort_unavailable.html", context, status=409)

    return checked


def _filename(request: HttpRequest, extension: str) -> str:
    return f"cohort-{slugify(request.user.clinic.name)}-{timezone.localdate().isoformat()}.{extension}"


@login_required
@_names_failed_checks
def cohort_report(request: HttpRequest) -> HttpResponse:
    """The cohort report of the caller's clinic with its plots (403 outside ``ANALYTICS_ROLES``)."""
    today = timezone.localdate()
    report = clinic_cohort_report(user=request.user, today=today)
    decisions = clinic_decisions(user=request.user, today=today)
    context = {"report": report, "sections": report_sections(report), "decisions": decisions}
    return render(request, "analytics/cohort_report.html", context)


@login_required
@_names_failed_checks
def cohort_report_html(request: HttpRequest) -> HttpResponse:
    """The same report as one self-contained HTML file, for download."""
    report = clinic_cohort_report(user=request.user, today=timezone.localdate())
    response = HttpResponse(render_html(report), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(request, "html")}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@_names_failed_checks
def cohort_report_pdf(request: HttpRequest) -> HttpResponse:
    """The same report as a PDF, printed from the same HTML."""
    report = clinic_cohort_report(user=request.user, today=timezone.localdate())
    return pdf_response(html_to_pdf(render_html(report)), _filename(request, "pdf"))
