"""The clinic's front pages: where each role lands, and the staff worklist."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, gettext_noop

from onaboard.web.accounts.models import STAFF_ROLES, Role
from onaboard.web.clinic.selectors import SEARCH_MAX_LENGTH, ApprovalFilter, ApprovalStatus, Worklist
from onaboard.web.clinic.selectors import worklist as worklist_of
from onaboard.web.patients.access import Capability, can, patients_visible_to

SEARCH_SHORTENED = gettext_noop("The search was shortened to its first {count} characters.")
PORTAL_UNAVAILABLE_TITLE = gettext_noop("Your portal is not open")
PORTAL_UNAVAILABLE = gettext_noop(
    "Your patient portal is not set up yet, or it has been closed, so there is nothing to show here. "
    "Ask your clinic about it."
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Patients land on today's diary (one whose portal is not open, on a page saying so); staff on the worklist;
    trainees on their course."""
    role = request.user.role
    if role == Role.PATIENT:
        if patients_visible_to(request.user).exists():
            return redirect("diary:today")
        return _portal_unavailable(request)
    if role == Role.TRAINEE:
        return redirect("training:course")
    return redirect("clinic:worklist")


def _portal_unavailable(request: HttpRequest) -> HttpResponse:
    """A patient's account with no open record (none linked yet, or its portal closed) is told so, not sent to the
    portal, whose every page would be "not found" for them."""
    context = {
        "title": gettext(PORTAL_UNAVAILABLE_TITLE),
        "message": gettext(PORTAL_UNAVAILABLE),
        "nav_role": "",  # the portal's links would all lead to "not found"; signing out stays in the header
    }
    return render(request, "clinic/portal_unavailable.html", context)


def _kept(*params: tuple[str, str]) -> str:
    """The query string of the ``params`` that have a value, in their order."""
    return urlencode([(name, value) for name, value in params if value], quote_via=quote)


def _filter_links(listing: Worklist) -> dict[str, str]:
    """What each filter chip's link keeps of the page's other filter and search: a state chip the approval filter
    and the search, an approval chip the state filter and the search; and the search alone, in every group (the
    way out when the filters leave none of the patients it finds)."""
    return {
        "keep_approval": _kept(("approval", listing.approval or ""), ("q", listing.query)),
        "keep_state": _kept(("state", listing.state or ""), ("q", listing.query)),
        "search_only": _kept(("q", listing.query)),
    }


def _approval_name(approval: str | None) -> str:
    """The approval filter as its chip names it: "needs attention", or the status's label; empty for none."""
    if not approval:
        return ""
    if approval == ApprovalFilter.NEEDS_ATTENTION:
        return gettext("needs attention")
    return str(ApprovalStatus(approval).label)


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    """Clinic staff's patients by pathway state, each with where their prior authorisation stands, searchable by
    name or record number and filterable by state and by approval status (``needs_attention``: the approvals
    billing staff act on)."""
    if request.user.role not in STAFF_ROLES:
        raise PermissionDenied
    # The live search swaps in the groups alone. Going back to a searched URL that htmx no longer holds makes it ask
    # again, as htmx, for the whole page (a history restore), and a browser must not serve one answer for the other.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    query = request.GET.get("q", "")
    if len(query) > SEARCH_MAX_LENGTH:  # the field's maxlength stops a browser; a typed address is cut, and told so
        query = query[:SEARCH_MAX_LENGTH]
        if not partial:  # the groups alone have no place for the message
            messages.warning(request, gettext(SEARCH_SHORTENED).format(count=SEARCH_MAX_LENGTH))
    listing = worklist_of(
        user=request.user,
        today=timezone.localdate(),
        query=query,
        state=request.GET.get("state", ""),
        approval=request.GET.get("approval", ""),
    )
    template = "clinic/_worklist_groups.html" if partial else "clinic/worklist.html"
    editor = can(request.user, Capability.EDIT_CLINICAL)
    context = {
        "worklist": listing,
        "can_register": editor,
        "can_review": editor,
        "search_max_length": SEARCH_MAX_LENGTH,
        "links": _filter_links(listing),
        "approval_name": _approval_name(listing.approval),
    }
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
