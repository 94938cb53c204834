"""API operations of the analytics app: the clinic's cohort report as JSON (the page's numbers)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from onaboard.cohort.backends import CohortSourceError
from onaboard.cohort.report import report_json
from onaboard.web.analytics.selectors import NOT_FOR_ROLE, clinic_cohort_report
from onaboard.web.analytics.views import failed_checks_for
from onaboard.web.patients.api import AUTH_ERRORS, caller
from onaboard.web.patients.schemas import ErrorOut

router = Router(tags=["analytics"])


class ChecksFailedOut(Schema):
    """The clinic's records fail the cohort report's input checks: ``problems`` names each one."""

    detail: str
    problems: list[str]


@router.get(
    "/analytics/cohort",
    response={200: dict[str, Any], **AUTH_ERRORS, 403: ErrorOut, 409: ChecksFailedOut},
    summary="The clinic's cohort report",
)
def cohort_report_detail(request: HttpRequest) -> Any:
    """The caller's clinic's cohort report (``onaboard cohort report --json``'s document, over the clinic's own
    patients): responders at week 24 with 95 % intervals, change per period, time to response, adverse events
    against the label, medication overuse, stopping reasons. 403 except for clinicians and nurses; 409 when the
    clinic's records fail the report's input checks, naming each problem."""
    try:
        report = clinic_cohort_report(user=caller(request), today=timezone.localdate())
    except PermissionDenied:
        return Status(403, {"detail": str(NOT_FOR_ROLE)})
    except CohortSourceError as error:
        detail, problems = failed_checks_for(caller(request), error.problems)
        return Status(409, {"detail": detail, "problems": problems})
    return report_json(report)
