"""What the app's answers tell browsers and proxies to keep (onaboard/web/common/security.py NoStoreMiddleware)."""

from __future__ import annotations

from django.urls import reverse

from onaboard.web.common.security import PRIVATE_NO_STORE


def test_pages_and_api_answers_are_not_kept_in_the_browsers_cache(client, world):
    """The worklist, a patient's record, the API and the sign-in page answer private, no-store, so the Back button
    on a shared clinic computer cannot bring a record back after signing out."""
    client.force_login(world.users["clinician"])
    record = reverse("patients:detail", args=[world.own_patient.external_id])
    for path in (reverse("clinic:worklist"), record, "/api/patients"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == PRIVATE_NO_STORE, path
    client.logout()
    assert "no-store" in client.get(reverse("accounts:login"))["Cache-Control"]  # never_cache: its own, stricter


def test_a_views_own_cache_header_is_kept(client, world):
    """A view that sets Cache-Control itself (the cohort report download: no-store) keeps its own header."""
    client.force_login(world.users["clinician"])
    response = client.get(reverse("analytics:cohort_html"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
