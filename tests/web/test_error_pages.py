"""The error pages (web/templates/400.html, 403.html, 403_csrf.html, 404.html, 500.html): in the site's style, in
words a clinic's staff and patients understand, never Django's bare defaults."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from onaboard.web.analytics.selectors import NOT_FOR_ROLE


def test_a_refused_page_says_why_in_the_sites_layout(client, world):
    """A billing clerk opening the cohort page gets 403 with the page's own reason, the site's navigation and a way
    back, not a bare "403 Forbidden"."""
    client.force_login(world.users["billing"])
    response = client.get(reverse("analytics:cohort"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Not allowed</h1>" in html
    assert escape(str(NOT_FOR_ROLE)) in html
    assert 'aria-label="Main"' in html
    assert f'href="{reverse("clinic:home")}"' in html


def test_a_refusal_without_a_reason_says_so_in_general_words(client, world):
    """A page refused without a reason of its own says the account may not open it."""
    client.force_login(world.users["patient"])
    response = client.get(reverse("clinic:worklist"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your account may not open this page." in html
    assert "If you think you should see this page, ask your clinic." in html
    assert "ask your clinic&#x27;s administrator for the right role" not in html


def test_an_unknown_address_gets_the_sites_not_found_page(client, world):
    """An address nothing answers gets 404 in the site's layout, without saying whether a record exists."""
    client.force_login(world.users["clinician"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert "There is no page at this address, or it is not one your account can see." in html


def test_a_form_sent_without_its_csrf_token_says_nothing_was_saved(world):
    """A form posted without its CSRF token is refused with a page saying nothing was saved and what to do."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["patient"])
    response = client.post(reverse("diary:today"), {})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Form expired</h1>" in html
    assert "Go back, reload the page, and send the form again." in html


def test_the_server_error_page_renders_with_no_context_at_all():
    """The 500 page renders from nothing (Django gives it no request and no context) and tells what to do."""
    html = render_to_string("500.html")
    assert "<h1>Something went wrong</h1>" in html
    assert "What you were doing may not have been saved" in html
    assert "{%" not in html
