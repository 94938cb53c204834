"""The clinic's front pages (onaboard/web/clinic/views.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from onaboard.clinical import DUE_WINDOW_DAYS, RETREATMENT_INTERVAL_DAYS
from onaboard.web.accounts.models import ApiToken, Role
from onaboard.web.clinic import selectors as clinic_selectors
from onaboard.web.clinic import views as clinic_views
from onaboard.web.clinic.selectors import SEARCH_MAX_LENGTH, ApprovalStatus, PathwayState
from onaboard.web.clinic.views import SEARCH_SHORTENED
from onaboard.web.coverage.models import AuthorisationStatus, PatientInsurance, PriorAuthorisation
from onaboard.web.injections import selectors as injections_selectors
from onaboard.web.injections.models import SessionStatus, Severity, SideEffect, SideEffectKind
from onaboard.web.outcomes.models import Decision, TreatmentDecision
from tests.web.clinic.diaries import chronic_rows, course_rows, store
from tests.web.factories import InjectionSessionFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

WORKLIST = reverse("clinic:worklist")
PAGE_QUERIES = 9


def _report(patient, kind, *, today, reviewed=False):
    """A side effect of ``kind`` the patient reported today (onset today), reviewed or not."""
    return SideEffect.objects.create(
        patient=patient,
        kind=kind,
        onset=today,
        severity=Severity.SEVERE,
        reviewed_at=timezone.now() if reviewed else None,
    )


@pytest.fixture
def today() -> date:
    """The pages judge on the clinic's today, so diaries for them end on it."""
    return timezone.localdate()


@pytest.mark.parametrize(("role", "target"), [("clinician", WORKLIST), ("billing", WORKLIST), ("admin", WORKLIST)])
def test_staff_land_on_the_worklist(client, world, role, target):
    """Clinic staff signing in land on the worklist."""
    client.force_login(world.users[role])
    response = client.get(reverse("clinic:home"))
    assert response.status_code == 302
    assert response["Location"] == target


@pytest.mark.parametrize("role", ["clinician", "nurse", "billing", "admin"])
def test_staff_see_their_clinics_patients_only(client, world, role):
    """The worklist names the clinic's patients and never another clinic's."""
    client.force_login(world.users[role])
    response = client.get(WORKLIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" in body
    assert "Far, Fay" not in body


@pytest.mark.parametrize("role", ["patient", "trainee"])
def test_patients_and_trainees_are_refused_the_worklist(client, world, role):
    """The worklist is for clinic staff: patients and trainees get 403, with the same request staff succeed with."""
    client.force_login(world.users[role])
    assert client.get(WORKLIST).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    """Without a session the worklist redirects to the sign-in page."""
    response = client.get(WORKLIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_clinicians_see_the_reason_and_link_to_the_patient_page(client, world, today):
    """A clinician's row shows the engine's summary and links to the clinical patient page."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    assert "BOTOX label (Indications): each of the 3 periods" in body
    assert reverse("patients:detail", args=[world.same_clinic_patient.external_id]) in body


def test_billing_staff_see_state_names_but_no_reasons(client, world, today):
    """Billing staff see the state name and link to the billing page, but never the clinical reason."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    assert str(PathwayState.ELIGIBLE.label) in body
    assert "BOTOX label" not in body
    assert "ICHD-3" not in body
    assert reverse("patients:billing", args=[world.same_clinic_patient.external_id]) in body
    assert reverse("patients:new") not in body


def test_the_search_and_state_filter_come_from_the_query_string(client, world, today):
    """?q= narrows the list by name and ?state= to one state."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["nurse"])
    body = client.get(WORKLIST, {"q": "Same"}).content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" not in body
    body = client.get(WORKLIST, {"state": PathwayState.DIARY_RUNNING}).content.decode()
    assert "Own, Pat" in body
    assert "Same, Sam" not in body


def test_an_htmx_search_returns_only_the_groups(client, world):
    """The live search (htmx) gets the list fragment, not the whole page."""
    client.force_login(world.users["clinician"])
    response = client.get(WORKLIST, {"q": "Same"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Same, Sam" in body
    assert "<html" not in body
    assert 'id="worklist-q"' not in body


def test_going_back_to_a_searched_worklist_gets_the_whole_page(client, world):
    """htmx restoring a pushed search URL from the server (its history cache no longer holds it) gets the whole
    page, header and search box included, not the groups alone; the two answers vary on HX-Request."""
    client.force_login(world.users["clinician"])
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    body = client.get(WORKLIST, {"q": "Same"}, headers=restore).content.decode()
    assert 'id="worklist-q"' in body
    assert "Same, Sam" in body
    for headers in ({}, {"HX-Request": "true"}):
        assert "HX-Request" in client.get(WORKLIST, {"q": "Same"}, headers=headers)["Vary"]
    page = client.get(WORKLIST).content.decode()
    assert 'hx-history="false"' in page  # htmx keeps no copy of the patients' names in the browser's storage


def test_a_search_longer_than_the_field_takes_is_cut_to_it_and_says_so(client, world):
    """The search box takes 100 characters; a longer ?q= is cut to its first 100 and the page says so, while the
    live search (whose box cannot hold more) cuts it without a message."""
    client.force_login(world.users["clinician"])
    long_search = "Same " * 20 + "Zebedee" * 100
    response = client.get(WORKLIST, {"q": long_search})
    body = response.content.decode()
    assert f'maxlength="{SEARCH_MAX_LENGTH}"' in body
    assert gettext(SEARCH_SHORTENED).format(count=SEARCH_MAX_LENGTH) in body
    assert "Same, Sam" in body
    assert response.context["worklist"].query == ("Same " * 20).strip()
    partial = client.get(WORKLIST, {"q": long_search}, headers={"HX-Request": "true"})
    assert "Same, Sam" in partial.content.decode()
    assert list(get_messages(partial.wsgi_request)) == []


def test_a_nul_character_in_the_search_is_ignored(client, world):
    """?q= holding a NUL character (a server error on PostgreSQL) searches without it."""
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST, {"q": "Sa\x00me"}).content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" not in body


def test_no_match_says_so(client, world):
    """A search without a match says that nobody matches it."""
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST, {"q": "Zebedee"}).content.decode()
    assert "No patient matches" in body


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["page", "live search"])
def test_a_match_outside_the_state_filter_is_not_called_no_match(client, world, headers):
    """A search whose patient is in another group than the state filter's says nobody matching it is in that group,
    named as its chip names it, and links to the same search in all groups; a search matching nobody at all still
    says so."""
    client.force_login(world.users["clinician"])
    overdue = {"state": PathwayState.OVERDUE.value}
    body = client.get(WORKLIST, {"q": "Same", **overdue}, headers=headers).content.decode()
    assert f"No patient matching “Same” is in the group “{PathwayState.OVERDUE.label}”." in body
    assert '<a href="?q=Same">See the 1 patient matching “Same” in all groups</a>' in body
    assert "No patient matches" not in body
    everywhere = client.get(WORKLIST, {"q": "Same"}, headers=headers).content.decode()
    assert "Same, Sam" in everywhere
    nobody = client.get(WORKLIST, {"q": "Zebedee", **overdue}, headers=headers).content.decode()
    assert "No patient matches “Zebedee”." in nobody
    assert "in all groups" not in nobody


def test_a_match_outside_the_approval_filter_names_the_filter_and_links_to_all_groups(client, world):
    """With the approval filter, alone or beside a state filter, a search whose patients are all outside it names
    the filter as its chip does and links to the same search, both filters dropped."""
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST, {"q": "a", "approval": "needs_attention"}).content.decode()
    assert "No patient matching “a” has prior authorisation “needs attention”." in body
    assert '<a href="?q=a">See the 2 patients matching “a” in all groups</a>' in body
    state = PathwayState.DIARY_RUNNING
    both = {"q": "a", "state": state.value, "approval": ApprovalStatus.IN_FORCE.value}
    body = client.get(WORKLIST, both).content.decode()
    assert (
        f"No patient matching “a” is in the group “{state.label}” with prior authorisation "
        f"“{ApprovalStatus.IN_FORCE.label}”."
    ) in body
    assert '<a href="?q=a">See the 2 patients matching “a” in all groups</a>' in body


def test_the_worklist_page_costs_the_same_queries_for_a_few_patients_as_for_many(
    client, world, today, django_assert_num_queries
):
    """Once the states are cached, the page lists 2 patients, or 14 and 12 side effects to review, with the same
    nine queries (session, user, authenticator, patients, pending approvals, two fingerprints, the side effects to
    review with their patients, the audit entry): no row reads anything on its own, though the patients are loaded
    with only the columns the page shows."""
    client.force_login(world.users["clinician"])
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES):
        assert client.get(WORKLIST).status_code == 200
    for number in range(12):
        patient = PatientFactory(clinic=world.clinic, family_name=f"Many{number:02d}")
        store(patient, chronic_rows(today=today), today=today)
        _report(patient, SideEffectKind.DYSPHAGIA if number % 2 else SideEffectKind.NECK_PAIN, today=today)
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES):
        body = client.get(WORKLIST).content.decode()
    assert "Many11" in body
    for effect in SideEffect.objects.all():
        assert reverse("injections:side_effect_review", args=[effect.external_id]) in body


# --- Side effects to review -------------------------------------------------------------------------------------

SECTION = 'id="side-effects-to-review"'


def test_clinicians_see_side_effects_to_review_urgent_first_with_a_link_to_the_review(client, world, today):
    """The page lists the unreviewed reports above the patients, the urgent one first with its badge, kind,
    patient, record number, severity and dates, each linking to its review page; the summary counts them."""
    mild = _report(world.own_patient, SideEffectKind.MYALGIA, today=today)
    urgent = _report(world.same_clinic_patient, SideEffectKind.BREATHING, today=today - timedelta(days=1))
    _report(world.same_clinic_patient, SideEffectKind.EYELID_PTOSIS, today=today, reviewed=True)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    section = body[body.index(SECTION) : body.index("</section>", body.index(SECTION))]
    assert section.index("Trouble breathing") < section.index("Muscle aches")
    assert section.count('class="badge bad"') == 1
    assert "Drooping eyelid" not in section
    assert world.same_clinic_patient.record_number in section
    assert "Same, Sam" in section
    assert 'data-label="How bad">severe</td>' in section
    for effect in (urgent, mild):
        assert reverse("injections:side_effect_review", args=[effect.external_id]) in section
    assert "2 side effects to review" in body
    assert body.index(SECTION) < body.index('id="worklist-groups"')


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_billing_staff_see_no_side_effect_to_review(client, world, today, role):
    """Billing staff and administrators see neither the section, the count nor the report a clinician of the same
    clinic sees, urgent as it is."""
    _report(world.same_clinic_patient, SideEffectKind.DYSPHAGIA, today=today)
    client.force_login(world.users["clinician"])
    assert SECTION in client.get(WORKLIST).content.decode()
    client.force_login(world.users[role])
    body = client.get(WORKLIST).content.decode()
    assert "Same, Sam" in body
    assert SECTION not in body
    assert "to review" not in body
    assert "Trouble swallowing" not in body


def test_another_clinics_side_effect_is_not_on_the_page(client, world, today):
    """A report of another clinic's patient is on that clinic's nurse's page and not on this clinic's, which with
    none of its own shows no section."""
    _report(world.other_clinic_patient, SideEffectKind.DIPLOPIA, today=today)
    client.force_login(UserFactory(role=Role.NURSE, clinic=world.other_clinic))
    assert "Double vision" in client.get(WORKLIST).content.decode()
    client.force_login(world.users["nurse"])
    body = client.get(WORKLIST).content.decode()
    assert SECTION not in body
    assert "Far, Fay" not in body
    assert "Double vision" not in body


def test_once_every_report_is_reviewed_the_page_says_nothing_of_them(client, world, today):
    """When the last waiting report has been reviewed the section and the count are gone: the quiet empty state."""
    _report(world.own_patient, SideEffectKind.DYSPHAGIA, today=today, reviewed=True)
    waiting = _report(world.own_patient, SideEffectKind.NECK_PAIN, today=today)
    client.force_login(world.users["clinician"])
    assert "1 side effect to review" in client.get(WORKLIST).content.decode()
    SideEffect.objects.filter(pk=waiting.pk).update(reviewed_at=timezone.now())
    body = client.get(WORKLIST).content.decode()
    assert SECTION not in body
    assert "to review" not in body


def test_a_new_report_shows_on_the_next_load_of_the_cached_page(client, world, today):
    """The groups' HTML is cached, but a side effect reported after a load is on the very next one."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["nurse"])
    assert SECTION not in client.get(WORKLIST).content.decode()
    effect = _report(world.same_clinic_patient, SideEffectKind.GENERALISED_WEAKNESS, today=today)
    body = client.get(WORKLIST).content.decode()
    assert SECTION in body
    assert reverse("injections:side_effect_review", args=[effect.external_id]) in body
    assert "1 side effect to review" in body


def test_the_live_search_keeps_the_count_of_side_effects_to_review(client, world, today):
    """The htmx search's fragment still counts the side effects (linking to the section), whatever it matches."""
    _report(world.own_patient, SideEffectKind.DYSPHAGIA, today=today)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST, {"q": "Same"}, headers={"HX-Request": "true"}).content.decode()
    assert "Own, Pat" not in body
    assert 'href="#side-effects-to-review"' in body
    assert "1 side effect to review" in body


def test_a_backlog_of_side_effects_lists_the_first_and_counts_them_all(client, world, today, monkeypatch):
    """Past the list's limit the section says how many it shows of how many, and the badge counts every report."""
    real = injections_selectors.side_effects_to_review
    monkeypatch.setattr(clinic_selectors, "side_effects_to_review", lambda user: real(user, limit=2))
    for kind in (SideEffectKind.NECK_PAIN, SideEffectKind.MYALGIA, SideEffectKind.DYSPHAGIA):
        _report(world.own_patient, kind, today=today)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    assert "3 reports" in body
    assert "3 side effects to review" in body
    assert "The first 2 of 3, urgent ones first" in body


def test_a_patient_without_an_open_record_is_told_their_portal_is_not_open(client, world):
    """A patient's account with no record linked, or whose record's portal is closed, lands on a page (200, in the
    site's layout, signing out offered) saying the portal is not open and to ask the clinic, not on "not found";
    the same account with an open record lands on today's diary."""
    home = reverse("clinic:home")
    linked = world.users["patient"]
    unlinked = UserFactory(username="new.patient", role=Role.PATIENT, clinic=world.clinic)
    client.force_login(linked)
    assert client.get(home)["Location"] == reverse("diary:today")
    world.own_patient.portal_closed = timezone.now()
    world.own_patient.save(update_fields=["portal_closed"])
    for user in (linked, unlinked):
        client.force_login(user)
        response = client.get(home)
        assert response.status_code == 200, user.username
        body = response.content.decode()
        assert gettext(clinic_views.PORTAL_UNAVAILABLE_TITLE) in body
        assert gettext(clinic_views.PORTAL_UNAVAILABLE) in body
        assert reverse("accounts:logout") in body
        assert reverse("diary:today") not in body  # no portal links that would all be "not found"


# --- Prior authorisation ----------------------------------------------------------------------------------------


def _authorisation(patient, *, today, requested, status=AuthorisationStatus.APPROVED, start=None, end=None, **extra):
    """A request made ``requested`` days before ``today``; an approved one runs from ``start`` to ``end`` (days from
    today)."""
    approved = status == AuthorisationStatus.APPROVED
    return PriorAuthorisation.objects.create(
        patient=patient,
        policy_id="us-commercial-a",
        diagnosis_code="G43.709",
        requested_on=today - timedelta(days=requested),
        status=status,
        approved_from=today + timedelta(days=start) if approved and start is not None else None,
        approved_until=today + timedelta(days=end) if approved and end is not None else None,
        **extra,
    )


NOWRAP = ' style="white-space:nowrap"'
"""A day and its words are kept on one line (a phone's stacked row would break the date)."""


def _row_of(body: str, name: str) -> str:
    start = body.index(name)
    return body[start : body.index("</tr>", start)]


@pytest.mark.parametrize("role", ["billing", "clinician"])
def test_each_row_shows_where_its_approval_stands(client, world, today, role):
    """Billing staff and clinicians see each patient's approval beside the clinical state: a request pending since
    its day, an approval in force until its last day, an ended one on its last day, and none."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    _authorisation(world.same_clinic_patient, today=today, requested=10, start=-5, end=170)
    _authorisation(world.own_patient, today=today, requested=3, status=AuthorisationStatus.REQUESTED)
    client.force_login(world.users[role])
    body = client.get(WORKLIST).content.decode()
    assert 'scope="col">Prior authorisation</th>' in body
    same, own = _row_of(body, "Same, Sam"), _row_of(body, "Own, Pat")
    end = (today + timedelta(days=170)).strftime("%-d %b %Y")
    assert 'data-label="Prior authorisation"' in same
    assert f'<span class="badge ok">in force</span> <span class="small"{NOWRAP}>until {end}</span>' in same
    asked = (today - timedelta(days=3)).strftime("%-d %b %Y")
    assert f'<span class="badge warn">request pending</span> <span class="small"{NOWRAP}>since {asked}</span>' in own
    PriorAuthorisation.objects.filter(patient=world.same_clinic_patient).update(
        approved_from=today - timedelta(days=100), approved_until=today - timedelta(days=1)
    )
    body = client.get(WORKLIST).content.decode()
    yesterday = (today - timedelta(days=1)).strftime("%-d %b %Y")
    assert f'<span class="badge bad">ended</span> <span class="small"{NOWRAP}>on {yesterday}</span>' in _row_of(
        body, "Same, Sam"
    )


def test_a_row_names_a_booking_no_approval_covers(client, world, today):
    """Beside an approval in force until a day before the session booked ahead, the row says no approval covers the
    booking on its day, and the "needs attention" chip counts the patient."""
    patient = world.same_clinic_patient
    PatientInsurance.objects.create(patient=patient, policy_id="us-commercial-a", terms_as_of=today)
    InjectionSessionFactory(patient=patient, date=today - timedelta(days=60), status=SessionStatus.RECORDED)
    _authorisation(patient, today=today, requested=80, start=-70, end=40)
    booked = today + timedelta(days=44)
    InjectionSessionFactory(patient=patient, date=booked, status=SessionStatus.BOOKED)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    day = booked.strftime("%-d %b %Y")
    row = _row_of(body, "Same, Sam")
    assert '<span class="badge ok">in force</span>' in row
    assert f'<span class="badge warn booking-uncovered">no approval covers the booking on {day}</span>' in row
    assert 'class="badge chip warn">needs attention (1)</a>' in body


def test_the_approval_filter_lists_the_approvals_needing_attention_and_keeps_the_other_filters(client, world, today):
    """?approval=needs_attention lists the patients whose approval needs attention; its chip says how many, the
    state chips and the search keep it, and the search form carries it."""
    _authorisation(world.own_patient, today=today, requested=3, status=AuthorisationStatus.DENIED)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    assert 'href="?approval=needs_attention"' in body
    assert "needs attention (1)" in body
    body = client.get(WORKLIST, {"approval": "needs_attention", "q": "a"}).content.decode()
    assert "Own, Pat" in body
    assert "Same, Sam" not in body
    assert '<input type="hidden" name="approval" value="needs_attention">' in body
    assert f'href="?state={PathwayState.DIARY_RUNNING.value}&amp;approval=needs_attention&amp;q=a"' in body
    assert 'href="?approval=needs_attention&amp;q=a" class="badge chip warn" aria-current="true"' in body
    body = client.get(WORKLIST, {"approval": ApprovalStatus.NONE.value}).content.decode()
    assert "Same, Sam" in body
    assert "Own, Pat" not in body


def test_a_row_whose_request_is_required_and_not_made_shows_it_without_a_day(client, world, today):
    """An eligible patient whose payer asks for prior authorisation and who has no request shows "required, not
    requested" as a badge with no day beside it, under "needs attention" and its own filter chip."""
    store(world.same_clinic_patient, chronic_rows(today=today), today=today)
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="us-commercial-a", terms_as_of=today)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    same = _row_of(body, "Same, Sam")
    assert '<span class="badge warn">required, not requested</span></td>' in same
    assert "needs attention (1)" in body
    assert f'href="?approval={ApprovalStatus.REQUIRED.value}" class="badge chip warn"' in body
    assert "required, not requested (1)" in body


def test_the_worklist_page_with_approvals_costs_the_same_queries_for_a_few_patients_as_for_many(
    client, world, today, django_assert_num_queries
):
    """Patients' approvals cost the page no query of their own: with requests on every patient, 2 patients or 14
    take the same queries as without."""
    _authorisation(world.own_patient, today=today, requested=3, status=AuthorisationStatus.REQUESTED)
    client.force_login(world.users["billing"])
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES - 1):  # billing staff have no side effects to review read
        client.get(WORKLIST)
    for number in range(12):
        patient = PatientFactory(clinic=world.clinic, family_name=f"Many{number:02d}")
        _authorisation(patient, today=today, requested=40, start=-30, end=number * 3)
    client.get(WORKLIST)
    with django_assert_num_queries(PAGE_QUERIES - 1):
        body = client.get(WORKLIST).content.decode()
    assert "Many11" in body


def test_the_prior_authorisation_form_names_the_worklists_own_words_for_a_pending_request(client, world):
    """The request form tells billing staff what the worklist shows while a request awaits the payer, in the
    worklist's own words (its status and filter), whatever the patient's clinical state."""
    client.force_login(world.users["billing"])
    page = client.get(reverse("coverage:authorisation_new", args=[world.same_clinic_patient.external_id]))
    text = page.content.decode()
    assert f"prior authorisation as “{ApprovalStatus.PENDING.label}”, under “needs attention”" in text
    assert "shows the patient as awaiting approval" not in text
    assert "needs attention (0)" in client.get(WORKLIST).content.decode()


def test_a_patient_whose_policy_asks_no_prior_authorisation_shows_not_needed(client, world, today):
    """A NICE TA260 patient's approval reads "not needed", with no day, and is counted under it, not under needs
    attention."""
    PatientInsurance.objects.create(patient=world.same_clinic_patient, policy_id="nice-ta260", terms_as_of=today)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    assert '<span class="muted">not needed</span></td>' in _row_of(body, "Same, Sam")
    assert "not needed (1)" in body
    assert "needs attention (0)" in body


# --- Continue or stop ----------------------------------------------------------------------------------------------


def _stopped_after_two_cycles(world, today):
    """``world.same_clinic_patient`` after two cycles with 18 headache days at week 24 against 20 (NICE TA260 says
    stop), stopped by the clinician today."""
    day0 = today - timedelta(days=170)
    patient = world.same_clinic_patient
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18), today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    TreatmentDecision.objects.create(
        patient=patient,
        decided_on=today,
        decision=Decision.STOP,
        reason="no benefit",
        decided_by=world.users["clinician"],
        nice_verdict="stop",
    )
    return patient


def test_a_stopped_patient_is_listed_last_linked_to_the_decision_and_filtered_by_the_api(client, world, today):
    """A patient a clinician stopped is in the last group, "treatment stopped", whose row links to the continue-or-
    stop page; the API lists them under treatment_stopped, its state filter and pathway saying the same."""
    patient = _stopped_after_two_cycles(world, today)
    store(world.own_patient, chronic_rows(today=today), today=today)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    assert body.rindex('id="state-') == body.index('id="state-treatment_stopped"')
    assert body.index('id="state-eligible"') < body.index('id="state-treatment_stopped"')
    assert reverse("outcomes:treatment_decisions", args=[patient.external_id]) in body
    _token, raw = ApiToken.issue(world.users["nurse"], "decision tests")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    listed = api.get("/api/worklist", {"state": "treatment_stopped"}).json()
    assert [group["state"] for group in listed["groups"]] == ["treatment_stopped"]
    assert listed["counts"]["treatment_stopped"] == 1
    pathway = api.get(f"/api/patients/{patient.external_id}/pathway").json()
    assert pathway["state"] == "treatment_stopped"
    assert pathway["summary"].startswith("Treatment stopped on ")
    outcomes = api.get(f"/api/patients/{patient.external_id}/outcomes").json()
    assert outcomes["nice_ta260"]["verdict"] == "stop"


def test_a_stopped_patients_ended_approval_is_not_billings_to_chase(client, world, today):
    """The approval of a patient a clinician stopped, ended since, reads "not needed: treatment stopped" in the
    muted words of "not needed" (no badge, no stray date), on the page and in the API, outside "needs attention"."""
    patient = world.same_clinic_patient
    _authorisation(patient, today=today, requested=200, start=-190, end=-1)
    _stopped_after_two_cycles(world, today)
    client.force_login(world.users["billing"])
    body = client.get(WORKLIST).content.decode()
    assert '<span class="muted">not needed: treatment stopped</span></td>' in _row_of(body, "Same, Sam")
    assert "needs attention (0)" in body
    _token, raw = ApiToken.issue(world.users["billing"], "approval tests")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    rows = [row for group in api.get("/api/worklist").json()["groups"] for row in group["rows"]]
    (approval,) = [row["approval"] for row in rows if row["patient"]["family_name"] == "Same"]
    assert approval == {
        "status": "stopped",
        "label": "not needed: treatment stopped",
        "date": None,
        "approved_until": None,
        "booking_uncovered": None,
        "needs_attention": False,
    }


def test_a_week_24_assessment_row_links_to_the_decision(client, world, today):
    """Week 24 complete and not acted on (exactly 30 % fewer headache days: NICE TA260 says continue) is when a
    decision is asked for: the row links to the continue-or-stop page, as a stop suggested does."""
    day0 = today - timedelta(days=170)
    patient = world.same_clinic_patient
    store(patient, course_rows(day0, 20, 16, 16, 16, 16, 16, 14), today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    assert 'id="state-week24_due"' in body
    assert reverse("outcomes:treatment_decisions", args=[patient.external_id]) in body


def test_a_row_names_a_missed_booking_in_the_booked_column_and_says_what_to_do(client, world, today):
    """An eligible patient whose booking of two days ago is still open shows it in the Booked column, flagged, for
    billing staff too; the clinician's row also says to record, move or cancel it, billing staff's says no reason."""
    patient = world.same_clinic_patient
    store(patient, chronic_rows(today=today), today=today)
    missed = today - timedelta(days=2)
    InjectionSessionFactory(patient=patient, date=missed, status=SessionStatus.BOOKED)
    day = missed.strftime("%-d %b %Y")
    cell = f'<td data-label="Booked"><span class="badge warn booking-missed">booking of {day} missed</span></td>'
    said = clinic_selectors.BOOKING_MISSED.format(date=missed.isoformat())
    client.force_login(world.users["clinician"])
    row = _row_of(client.get(WORKLIST).content.decode(), "Same, Sam")
    assert cell in row
    assert said in row
    client.force_login(world.users["billing"])
    row = _row_of(client.get(WORKLIST).content.decode(), "Same, Sam")
    assert cell in row
    assert said not in row


def test_a_booking_before_the_12_week_date_is_flagged_beside_its_day(client, world, today):
    """A next session booked less than the engine's interval after the last one is listed under "booked" with a
    warn badge beside its day, and the clinician's row says why; one booked on the due date has no badge."""
    patient = world.same_clinic_patient
    day0 = today - timedelta(days=30)
    store(patient, course_rows(day0, 20), today=today)
    InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)
    early = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS - 1)
    booking = InjectionSessionFactory(patient=patient, date=early, status=SessionStatus.BOOKED)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    row = _row_of(body, "Same, Sam")
    badge = '<span class="badge warn schedule-flag">booked before the due date</span>'
    assert 'id="state-booked"' in body
    assert f'<td data-label="Booked">{early.strftime("%-d %b %Y")} {badge}</td>' in row
    assert f"before the earliest due date {(day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)).isoformat()}" in row
    booking.date = day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    booking.save()  # a save, as moving a booking does, changes the line's cache key
    assert "schedule-flag" not in _row_of(client.get(WORKLIST).content.decode(), "Same, Sam")


def test_a_week_24_row_whose_next_session_is_overdue_is_flagged_beside_next_due(client, world, today):
    """Week 24 not acted on and the next session past its window: the row stays under "week-24 assessment due", with
    an "overdue" warn badge beside its next due day and "and overdue since" in the clinician's summary."""
    patient = world.same_clinic_patient
    last = today - timedelta(days=RETREATMENT_INTERVAL_DAYS + DUE_WINDOW_DAYS + 1)
    day0 = last - timedelta(days=RETREATMENT_INTERVAL_DAYS)
    store(patient, course_rows(day0, 20, 16, 16, 16, 16, 16, 14), today=today)
    for day in (day0, last):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    client.force_login(world.users["clinician"])
    body = client.get(WORKLIST).content.decode()
    row = _row_of(body, "Same, Sam")
    due = last + timedelta(days=RETREATMENT_INTERVAL_DAYS)
    assert 'id="state-week24_due"' in body
    assert (
        f'<time datetime="{due.isoformat()}">{due.strftime("%-d %b %Y")}</time> '
        '<span class="badge warn schedule-flag">overdue</span></td>'
    ) in row
    assert f"and overdue since {today.isoformat()}" in row
