"""The clinic's front pages: where each role lands, and the clinicians' worklist."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onaboard.web.accounts.models import Role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Patients land on today's diary; staff on the worklist; trainees on their course."""
    role = request.user.role
    if role == Role.PATIENT:
        return redirect("diary:today")
    if role == Role.TRAINEE:
        return render(request, "clinic/trainee_home.html")
    return redirect("clinic:worklist")


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/worklist.html", {"rows": []})
