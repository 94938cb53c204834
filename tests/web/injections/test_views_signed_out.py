"""The session screen's live totals once the session has ended: the totals box is told so, not given the sign-in
page (accounts/middleware.py answers scripted requests of an ended session with 401)."""

from __future__ import annotations

import html

from django.urls import reverse

from onaboard.web.accounts.middleware import SIGN_IN_AGAIN, SIGNED_OUT_SCRIPTED
from onaboard.web.accounts.views import SESSION_EXPIRED_UNSAVED
from onaboard.web.injections.models import InjectionSession
from tests.web.accounts.test_session_expiry import _age_session, _sign_in
from tests.web.injections.test_views import new_url, screen_data

LOGIN = reverse("accounts:login")


def test_the_live_totals_of_an_ended_session_say_nothing_was_saved_and_link_to_sign_in(client, world, patient):
    """The totals the screen's script asks for once the session has ended are a 401 with a short note for the
    totals box (signed out, nothing saved, a link to sign in and come back to the screen), not the sign-in page;
    nothing is recorded, and the sign-in page still says why the session ended."""
    _sign_in(client, "nurse")
    _age_session(client, idle=31 * 60)
    screen = new_url(patient)
    response = client.post(
        screen,
        screen_data(action="preview"),
        headers={"HX-Request": "true", "Referer": f"http://testserver{screen}"},
    )
    assert response.status_code == 401
    note = html.unescape(response.content.decode())
    assert "<html" not in note
    assert str(SIGNED_OUT_SCRIPTED) in note
    sign_in = f"{LOGIN}?next={screen}"
    assert response["HX-Redirect"] == sign_in
    assert f'<a href="{sign_in}">{SIGN_IN_AGAIN}</a>' in note
    assert not InjectionSession.objects.exists()
    assert html.escape(str(SESSION_EXPIRED_UNSAVED["idle"])) in client.get(sign_in).content.decode()
