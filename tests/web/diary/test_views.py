"""The diary pages (onaboard/web/diary/views.py): today's diary, earlier days, the history, staff entering a day."""

from __future__ import annotations

import html as html_module
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from onaboard.clinical import PERIOD_DAYS, RETREATMENT_INTERVAL_DAYS, CycleStatus, schedule_status
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic.demo import record_preempt_session
from onaboard.web.clinic.selectors import PathwayState, patient_pathway_state
from onaboard.web.diary import forms, views
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import SessionStatus
from onaboard.web.outcomes.models import Decision
from onaboard.web.outcomes.services import treatment_decision_record
from tests.web.clinic.diaries import course_rows, store
from tests.web.factories import DiaryEntryFactory, InjectionSessionFactory


def _day(**overrides: object) -> dict[str, object]:
    """A valid POST for a 6-hour severe day with migraine features, a triptan that helped."""
    data: dict[str, object] = {
        "date": timezone.localdate().isoformat(),
        "hours_quick": "6",
        "headache_hours": "",
        "intensity": "severe",
        "unilateral": "on",
        "pulsating": "on",
        "nausea": "on",
        "acute_medication": ["triptan"],
        "acute_relief": "on",
        "believed_migraine": "on",
        "notes": "started at work",
    }
    data.update(overrides)
    return data


@pytest.fixture
def patient_client(client, world):
    client.force_login(world.users["patient"])
    return client


# --- today ----------------------------------------------------------------------------------------------------------


def test_today_shows_an_empty_day_with_big_hour_choices(patient_client, world):
    """A patient's /portal/ shows today's form: hour buttons, the exact-hours field, pain chips and medicines."""
    response = patient_client.get(reverse("diary:today"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not recorded yet" in html
    for hours in forms.HOURS_QUICK_CHOICES:
        assert f'name="hours_quick" value="{hours}"' in html
    assert 'name="headache_hours"' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html
    assert "combination painkiller" in html
    assert AuditEvent.objects.filter(action=Action.READ, patient_id=world.own_patient.external_id).exists()


def test_today_is_the_clinics_calendar_day_in_its_time_zone(patient_client, world, settings):
    """At 21:00 in New York (01:00 the next day in UTC) a New York clinic's patient is offered that evening's day,
    and after midnight in London (still the day before in UTC) a London patient can save the new day."""
    from datetime import UTC, datetime
    from unittest import mock
    from zoneinfo import ZoneInfo

    def at(moment: datetime):
        return mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC))

    settings.TIME_ZONE = "America/New_York"
    with at(datetime(2026, 6, 30, 21, 0, tzinfo=ZoneInfo("America/New_York"))):
        html = patient_client.get(reverse("diary:today")).content.decode()
    assert 'value="2026-06-30"' in html
    settings.TIME_ZONE = "Europe/London"
    with at(datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/London"))):
        patient_client.post(reverse("diary:today"), _day(date="2026-07-01"))
    assert DiaryEntry.objects.filter(patient=world.own_patient, date="2026-07-01").exists()


def test_saving_today_stores_one_row_and_shows_it_saved(patient_client, world):
    """A valid day is saved, the page redirects to it, and it shows as saved with a message."""
    response = patient_client.post(reverse("diary:today"), _day())
    assert response.status_code == 302
    assert response.url == reverse("diary:today")
    entry = DiaryEntry.objects.get(patient=world.own_patient)
    assert (entry.headache_hours, entry.intensity, entry.acute_medication) == (Decimal(6), "severe", "triptan")
    assert entry.unilateral
    assert entry.nausea
    assert entry.acute_relief
    assert not entry.vomiting
    page = patient_client.get(response.url).content.decode()
    assert "Saved: your diary for" in page
    assert "This day is recorded" in page
    audit = AuditEvent.objects.get(action=Action.CREATE, object_type="diary_entry")
    assert audit.username == "patient"


def test_a_day_re_entered_replaces_the_first(patient_client, world):
    """Saving the same day twice keeps one row, with the second answers."""
    patient_client.post(reverse("diary:today"), _day())
    patient_client.post(
        reverse("diary:today"),
        _day(hours_quick="0", intensity="", unilateral="", pulsating="", nausea="", acute_medication=[]),
    )
    entry = DiaryEntry.objects.get(patient=world.own_patient)
    assert entry.headache_hours == 0
    assert entry.intensity == ""
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_type="diary_entry").count() == 1


def test_exact_hours_win_over_a_tapped_button(patient_client, world):
    """A typed number of hours is saved instead of the hour button tapped."""
    patient_client.post(reverse("diary:today"), _day(hours_quick="4", headache_hours="3.5"))
    assert DiaryEntry.objects.get(patient=world.own_patient).headache_hours == Decimal("3.5")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"hours_quick": "", "headache_hours": "25"}, forms.HOURS_NOT_VALID % {"value": "25"}),
        ({"hours_quick": "", "headache_hours": ""}, forms.CHOOSE_HOURS),
        ({"intensity": ""}, forms.CHOOSE_PAIN),
        ({"hours_quick": "0", "intensity": "", "acute_medication": []}, forms.NO_FEATURE_ON_HEADACHE_FREE_DAY),
    ],
    ids=["hours-over-24", "no-hours", "no-pain", "features-on-free-day"],
)
def test_the_engines_refusal_is_shown_in_plain_words(patient_client, world, overrides, message):
    """A day the engine refuses is not saved; the form comes back with what was typed and the plain message."""
    response = patient_client.post(reverse("diary:today"), _day(**overrides))
    assert response.status_code == 200
    html = response.content.decode()
    assert str(message) in html
    assert str(forms.CHECK_ANSWERS) in html
    assert "started at work" in html
    assert not DiaryEntry.objects.exists()


KEPT = "The earlier record of {day} is kept unchanged until these answers are saved."
NOTHING_YET = "Nothing is recorded for {day} yet."


@pytest.mark.parametrize("recorded", [True, False], ids=["earlier-record", "no-record"])
def test_a_refused_save_says_whether_the_day_keeps_its_earlier_record(patient_client, world, recorded):
    """A refused save says "Not saved" and whether the day posted (named: the page may be today's) still holds its
    earlier record, which is unchanged."""
    day = timezone.localdate() - timedelta(days=3)
    if recorded:
        DiaryEntryFactory(patient=world.own_patient, date=day, headache_hours=Decimal(2), intensity="mild")
    response = patient_client.post(
        reverse("diary:today"), _day(date=day.isoformat(), hours_quick="", headache_hours="")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Not saved" in html
    named = date_format(day, "l j F Y")
    assert (KEPT.format(day=named) in html, NOTHING_YET.format(day=named) in html) == (recorded, not recorded)
    assert [entry.headache_hours for entry in DiaryEntry.objects.all()] == ([Decimal(2)] if recorded else [])


def test_a_refused_save_of_a_day_picked_on_todays_page_is_that_days_page(patient_client, world):
    """Saving an earlier day picked on today's page, refused, comes back as that day's page in every part: its
    heading, the form posting to its address, its day before and after (it was "Today's diary" around today)."""
    day = timezone.localdate() - timedelta(days=10)
    response = patient_client.post(reverse("diary:today"), _day(date=day.isoformat(), intensity=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert str(forms.CHOOSE_PAIN) in html
    assert f"<h1>Diary for {date_format(day, 'l j F Y')}</h1>" in html
    assert "Today's diary" not in html
    assert f'action="{reverse("diary:today")}?date={day.isoformat()}"' in html
    assert f'href="{reverse("diary:edit", kwargs={"day": day - timedelta(days=1)})}"' in html
    assert f'href="{reverse("diary:edit", kwargs={"day": day + timedelta(days=1)})}"' in html
    assert not DiaryEntry.objects.exists()


def test_a_refused_save_of_a_day_after_today_stays_on_the_page_it_came_from(patient_client, world):
    """A day after today posted from today's page is refused next to the date, on today's page (not the future
    day's), with the day as typed kept in the field."""
    later = timezone.localdate() + timedelta(days=5)
    response = patient_client.post(reverse("diary:today"), _day(date=later.isoformat()))
    html = response.content.decode()
    assert f"<h1>Today, {date_format(timezone.localdate(), 'l j F Y')}</h1>" in html
    assert f'action="{reverse("diary:today")}"' in html
    assert f'value="{later.isoformat()}"' in html


def test_a_refused_save_shows_the_pain_answers_posted(patient_client, world):
    """Hours the server cannot read are refused with the worst pain and the pain features posted shown again
    as chosen, so fixing the hours saves them too."""
    day = timezone.localdate() - timedelta(days=3)
    response = patient_client.post(
        reverse("diary:edit", kwargs={"day": day}),
        _day(hours_quick="", headache_hours="7 1/2", unilateral="", photophobia="on"),
    )
    html = response.content.decode()
    assert str(forms.HOURS_NOT_VALID % {"value": "7 1/2"}) in html
    for name in ("pulsating", "nausea", "photophobia"):
        assert f'name="{name}" id="id_{name}" checked' in html
    assert 'name="unilateral" id="id_unilateral">' in html
    assert 'value="severe" id="id_intensity_2" checked' in html
    assert not DiaryEntry.objects.exists()


def test_a_day_after_today_is_refused(patient_client, world):
    """Tomorrow cannot be recorded: the engine refuses it and the page says so next to the date."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = patient_client.post(reverse("diary:today"), _day(date=tomorrow.isoformat()))
    assert response.status_code == 200
    assert "has not happened yet" in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_the_calendars_first_and_last_days_open_without_their_missing_neighbour(patient_client):
    """A typed URL for 0001-01-01 or ?date=9999-12-31 answers (no 'day before' on the first, no 'day after' on a
    day after today) instead of failing on a date the calendar does not have."""
    first = patient_client.get(reverse("diary:edit", kwargs={"day": date.min}))
    assert first.status_code == 200
    assert "Day before" not in first.content.decode()
    last = patient_client.get(reverse("diary:today"), {"date": date.max.isoformat()})
    assert last.status_code == 200
    assert "Day after" not in last.content.decode()


FUTURE = {"patient": 5, "patient-picker": 5, "patient-year-9999": None, "nurse": 5}
"""Who opens a day still to come, and how many days ahead (None: the calendar's last day, 9999-12-31)."""


@pytest.mark.parametrize("who", list(FUTURE))
def test_a_day_still_to_come_opens_as_a_notice_not_a_form(client, world, who):
    """A day after today (typed address, ?date= or year 9999; patient or staff) shows that it has not happened yet
    and a link to today, with no form to fill in only to be refused on saving."""
    today = timezone.localdate()
    later = date.max if FUTURE[who] is None else today + timedelta(days=FUTURE[who])
    client.force_login(world.users["nurse" if who == "nurse" else "patient"])
    if who == "nurse":
        patient_id = world.same_clinic_patient.external_id
        response = client.get(reverse("diary:patient_day", kwargs={"patient_id": patient_id, "day": later}))
        today_url = reverse("diary:patient_day", kwargs={"patient_id": patient_id, "day": today})
    elif who == "patient":
        response = client.get(reverse("diary:edit", kwargs={"day": later}))
        today_url = reverse("diary:today")
    else:
        response = client.get(reverse("diary:today"), {"date": later.isoformat()})
        today_url = reverse("diary:today")
    html = response.content.decode()
    assert response.status_code == 200
    assert str(forms.DAY_IN_FUTURE) % {"day": date_format(later, "l j F Y")} in html
    assert 'id="diary-form"' not in html
    assert 'name="headache_hours"' not in html
    assert "Day before" not in html
    assert "Day after" not in html
    assert f'<a class="button" href="{today_url}">Record today</a>' in html
    # The day picker of the page where the date is chosen stays, showing the day asked for, so another day can be
    # chosen from the notice (it vanished with the form, leaving only "Record today").
    picker = who in {"patient-picker", "patient-year-9999"}  # the page where the date is chosen (?date=)
    assert ('id="day-picker"' in html) is picker
    if picker:
        assert f'value="{later.isoformat()}" max="{today.isoformat()}"' in html


def test_today_and_earlier_days_still_open_as_a_form(patient_client):
    """Today and yesterday (the days the notice above must not catch) open with the form."""
    yesterday = timezone.localdate() - timedelta(days=1)
    for response in (
        patient_client.get(reverse("diary:today")),
        patient_client.get(reverse("diary:edit", kwargs={"day": yesterday})),
    ):
        assert 'id="diary-form"' in response.content.decode()


def test_an_earlier_day_saved_from_today_goes_to_that_day(patient_client, world):
    """Choosing yesterday in the date picker saves yesterday and shows that day's page."""
    yesterday = timezone.localdate() - timedelta(days=1)
    response = patient_client.post(reverse("diary:today"), _day(date=yesterday.isoformat()))
    assert response.url == reverse("diary:edit", kwargs={"day": yesterday})
    assert DiaryEntry.objects.get(patient=world.own_patient).date == yesterday


def test_the_date_picker_loads_the_chosen_days_answers(patient_client, world):
    """GET /portal/?date=D shows day D's stored answers (what the picker asks for with htmx)."""
    day = timezone.localdate() - timedelta(days=3)
    DiaryEntryFactory(patient=world.own_patient, date=day, headache_hours=Decimal("7.5"), intensity="mild")
    html = patient_client.get(reverse("diary:today"), {"date": day.isoformat()}).content.decode()
    assert 'value="7.5"' in html
    assert "This day is recorded" in html


def _tag(html: str, pattern: str) -> str:
    """The first element (its start tag up to its end tag) whose start tag matches ``pattern``."""
    found = re.search(pattern, html, flags=re.DOTALL)
    assert found, f"nothing matches {pattern!r}"
    return found.group(0)


def test_the_day_is_chosen_with_a_get_form_and_a_button_without_javascript(patient_client, world):
    """Today's page chooses its day with a form of its own: GET to /portal/ with the date and a "Show day" button
    (what works without JavaScript, and what htmx sends once the date is typed in full, never per keystroke: no
    ``hx-trigger="change"`` on the date). The diary form only carries the day shown, hidden; sending the day form
    opens that day's answers."""
    page = patient_client.get(reverse("diary:today")).content.decode()
    day_form = _tag(page, r'<form method="get" action="/portal/"[^>]*id="day-picker".*?</form>')
    assert re.search(r'<input type="date" name="date" id="id_date"', day_form)
    assert re.search(r'<button type="submit"[^>]*>Show day</button>', day_form)
    assert 'hx-trigger="change"' not in page
    diary_form = _tag(page, r'<form method="post"[^>]*id="diary-form".*?</form>')
    today = timezone.localdate().isoformat()
    assert f'<input type="hidden" name="date" value="{today}">' in diary_form
    assert 'type="date"' not in diary_form

    day = timezone.localdate() - timedelta(days=4)
    DiaryEntryFactory(patient=world.own_patient, date=day, headache_hours=Decimal(3), intensity="mild")
    shown = patient_client.get("/portal/", {"date": day.isoformat()}).content.decode()
    assert f"<h1>Diary for {date_format(day, 'l j F Y')}</h1>" in shown
    assert f'<input type="hidden" name="date" value="{day.isoformat()}">' in shown
    assert 'value="3"' in shown


def test_staff_opening_the_portal_go_to_their_own_pages(client, world):
    """A clinician at /portal/ is sent to the clinic's home page, not shown a diary."""
    client.force_login(world.users["clinician"])
    response = client.get(reverse("diary:today"))
    assert response.status_code == 302
    assert response.url == reverse("clinic:home")


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    """The portal needs a signed-in user."""
    response = client.get(reverse("diary:today"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


# --- an earlier day -------------------------------------------------------------------------------------------------


def test_an_earlier_day_shows_its_stored_answers(patient_client, world):
    """diary:edit shows the stored row: the hour button, worst pain and medicines checked."""
    day = timezone.localdate() - timedelta(days=5)
    DiaryEntryFactory(
        patient=world.own_patient, date=day, headache_hours=Decimal(4), intensity="moderate", acute_medication="gepant"
    )
    response = patient_client.get(reverse("diary:edit", kwargs={"day": day}))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="4" id="id_hours_quick_3" checked' in html
    assert 'value="moderate"' in html
    assert 'value="gepant"' in html
    assert html.count("checked") == 3


def test_fixing_an_earlier_day_saves_that_day_whatever_date_is_posted(patient_client, world):
    """The day in the address is the day saved, so a tampered date field cannot move the entry."""
    day = timezone.localdate() - timedelta(days=5)
    response = patient_client.post(reverse("diary:edit", kwargs={"day": day}), _day(date="2020-01-01"))
    assert response.status_code == 302
    assert list(DiaryEntry.objects.values_list("date", flat=True)) == [day]


@pytest.mark.parametrize("day", [date(1900, 1, 1), date.min], ids=["1900", "first-calendar-day"])
def test_a_day_before_the_birth_date_is_refused_in_plain_words(patient_client, world, day):
    """A day before the patient's birth date is not saved; the page names the day and the birth date."""
    response = patient_client.post(reverse("diary:edit", kwargs={"day": day}), _day(date=day.isoformat()))
    assert response.status_code == 200
    long = "l j F Y"
    plain = forms.DAY_BEFORE_BIRTH_PLAIN % {
        "day": date_format(day, long),
        "birth": date_format(world.own_patient.birth_date, long),
    }
    assert plain in response.content.decode()
    assert not DiaryEntry.objects.exists()


def test_a_day_that_does_not_exist_is_not_found(patient_client, world):
    """/portal/diary/2026-02-30/ is a 404."""
    assert patient_client.get("/portal/diary/2026-02-30/").status_code == 404


# --- staff entering a day -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinic_staff_enter_a_day_for_their_patient(client, world, role):
    """Clinicians and nurses enter a day for a patient of their clinic; the audit trail names them."""
    client.force_login(world.users[role])
    day = timezone.localdate() - timedelta(days=2)
    url = reverse("diary:patient_day", kwargs={"patient_id": world.same_clinic_patient.external_id, "day": day})
    assert client.get(url).status_code == 200
    response = client.post(url, _day())
    assert response.status_code == 302
    assert response.url == url
    entry = DiaryEntry.objects.get()
    assert (entry.patient, entry.date) == (world.same_clinic_patient, day)
    assert AuditEvent.objects.get(action=Action.CREATE).username == role
    assert "Saved: the diary of" in client.get(url).content.decode()


def test_staff_opening_todays_day_of_a_patient_read_the_day_not_todays_diary(client, world):
    """ "Today's diary" is the patient's own page: staff keeping today's day for a patient read its date."""
    client.force_login(world.users["nurse"])
    today = timezone.localdate()
    url = reverse("diary:patient_day", kwargs={"patient_id": world.same_clinic_patient.external_id, "day": today})
    page = client.get(url).content.decode()
    assert "Today&#x27;s diary" not in page
    assert "Today's diary" not in page
    assert f"Diary for {date_format(today, 'l j F Y')}" in page


def _loaded(html: str) -> str:
    """The ``loaded`` token a diary day's form carries."""
    found = re.search(r'<input type="hidden" name="loaded" value="([^"]*)"', html)
    assert found is not None, html
    return found.group(1)


def test_a_page_opened_before_a_nurses_entry_does_not_write_over_it(client, world):
    """The patient opens a day; a nurse then enters it from the paper diary; the patient's save from the page
    opened before is refused, saying so, and the nurse's entry stands. The page comes back with the patient's
    answers as typed and the nurse's entry shown above them; saved again from there, the answers go through."""
    patient = world.own_patient
    day = timezone.localdate() - timedelta(days=3)
    client.force_login(world.users["patient"])
    own_url = reverse("diary:edit", kwargs={"day": day})
    stale = _loaded(client.get(own_url).content.decode())
    nurse = Client()
    nurse.force_login(world.users["nurse"])
    staff_url = reverse("diary:patient_day", kwargs={"patient_id": patient.external_id, "day": day})
    nurse.post(
        staff_url,
        _day(
            hours_quick="8", notes="entered from the paper diary", loaded=_loaded(nurse.get(staff_url).content.decode())
        ),
    )
    response = client.post(own_url, _day(hours_quick="2", notes="slept badly", loaded=stale))
    assert response.status_code == 200
    entry = DiaryEntry.objects.get(patient=patient, date=day)
    assert (entry.headache_hours, entry.notes) == (Decimal(8), "entered from the paper diary")
    html = html_module.unescape(response.content.decode())
    assert str(views.DAY_CHANGED_ANSWERS_KEPT) in html
    changed = html[html.index('id="day-changed"') : html.index("</div>", html.index('id="day-changed"'))]
    assert "8 h headache, severe" in changed
    assert "entered from the paper diary" in changed
    assert re.search(r'<input type="radio" name="hours_quick" value="2"[^>]*checked', html)
    assert re.search(r"<textarea [^>]*>\s*slept badly</textarea>", html)
    assert _loaded(html) != stale
    client.post(own_url, _day(hours_quick="2", notes="slept badly", loaded=_loaded(html)))
    entry.refresh_from_db()
    assert entry.notes == "slept badly"


def test_the_same_day_sent_twice_from_one_page_is_saved_not_refused(patient_client, world):
    """A second tap on Save (forms.js enables it again after 10 s, on a slow phone) posts the page's answers again
    with its ``loaded`` token: the day holds them already, so it is "Saved" as the first was, not "your changes
    were not saved". Other answers from that page are still refused over the day saved since."""
    url = reverse("diary:today")
    page = _day(loaded=_loaded(patient_client.get(url).content.decode()), opened="today")
    saved = f"Saved: your diary for {date_format(timezone.localdate(), 'l j F Y')}."
    changed = "This day was saved by someone else, or from another page, since you opened it"
    patient_client.post(url, page, follow=True)
    again = patient_client.post(url, page, follow=True)
    html = html_module.unescape(again.content.decode())
    assert again.redirect_chain == [(url, 302)]
    assert saved in html
    assert changed not in html
    assert DiaryEntry.objects.get(patient=world.own_patient).headache_hours == Decimal(6)
    assert AuditEvent.objects.filter(object_type="diary_entry", action__in=(Action.CREATE, Action.UPDATE)).count() == 1
    other = patient_client.post(url, {**page, "hours_quick": "2"}, follow=True)
    html = html_module.unescape(other.content.decode())
    assert changed in html
    assert saved not in html
    assert DiaryEntry.objects.get(patient=world.own_patient).headache_hours == Decimal(6)


def test_todays_page_names_its_day_and_says_it_was_opened_as_today(patient_client, world):
    """Today's heading names the day ("Today, Tuesday 1 December 2026") and its form posts ``opened=today``; an
    earlier day's page, and today's day opened by staff, post no such thing."""
    today = timezone.localdate()
    html = patient_client.get(reverse("diary:today")).content.decode()
    assert f"<h1>Today, {date_format(today, 'l j F Y')}</h1>" in html
    assert '<input type="hidden" name="opened" value="today">' in html
    earlier = patient_client.get(reverse("diary:edit", kwargs={"day": today - timedelta(days=1)})).content.decode()
    assert 'name="opened"' not in earlier
    nurse = Client()
    nurse.force_login(world.users["nurse"])
    staff_url = reverse("diary:patient_day", kwargs={"patient_id": world.same_clinic_patient.external_id, "day": today})
    assert 'name="opened"' not in nurse.get(staff_url).content.decode()


def _at(day: date, hour: int, minute: int):
    """``timezone.now`` patched to ``hour:minute`` on ``day`` in London (the settings' time zone in these tests)."""
    from datetime import UTC, datetime
    from unittest import mock
    from zoneinfo import ZoneInfo

    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_todays_page_left_open_overnight_saves_nothing_on_the_day_before(patient_client, world, settings):
    """Today's page opened at 23:50 and saved at 00:10 is refused naming both days (its answers may be the new
    day's): nothing is written on either day, and the page comes back as the day before's with the answers, to
    save them there from its own page or record them today. Saved again from there, they go to the day before."""
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Europe/London"
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    evening = today - timedelta(days=1)
    url = reverse("diary:today")
    with _at(evening, 23, 50):
        opened = patient_client.get(url).content.decode()
    assert f"Today, {date_format(evening, 'l j F Y')}" in opened
    posted = _day(date=evening.isoformat(), loaded=_loaded(opened), opened="today")
    with _at(today, 0, 10):
        response = patient_client.post(url, posted)
    assert response.status_code == 200
    html = html_module.unescape(response.content.decode())
    named = {"opened": date_format(evening, "l j F Y"), "today": date_format(today, "l j F Y")}
    assert str(views.DAY_TURNED) % named in html
    assert not DiaryEntry.objects.exists()
    assert f"<h1>Diary for {named['opened']}</h1>" in html
    assert f'action="{url}?date={evening.isoformat()}"' in html
    assert 'name="opened"' not in html
    assert f'href="{url}" id="record-today"' in html
    assert re.search(r"<textarea [^>]*>\s*started at work</textarea>", html)
    with _at(today, 0, 12):
        saved = patient_client.post(f"{url}?date={evening.isoformat()}", {**posted, "opened": ""})
    assert saved.status_code == 302
    assert list(DiaryEntry.objects.values_list("date", flat=True)) == [evening]


@pytest.mark.parametrize("address", ["edit", "patient_day"])
def test_todays_day_opened_at_its_own_address_and_saved_after_midnight_saves_nothing(
    patient_client, world, settings, address
):
    """Today's day opened at its own address (the history's link, or the patient's record's) at 23:50 is today's
    page: saved at 00:10 it is refused naming both days, as the portal's today page is, and nothing is written;
    saved again from the page it comes back as, the answers go to the day before."""
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Europe/London"
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    evening = today - timedelta(days=1)
    if address == "edit":
        url = reverse("diary:edit", kwargs={"day": evening})
    else:
        url = reverse("diary:patient_day", kwargs={"patient_id": world.own_patient.external_id, "day": evening})
    with _at(evening, 23, 50):
        opened = patient_client.get(url).content.decode()
    assert f"<h1>Today, {date_format(evening, 'l j F Y')}</h1>" in opened
    assert '<input type="hidden" name="opened" value="today">' in opened
    posted = _day(date=evening.isoformat(), loaded=_loaded(opened), opened="today")
    with _at(today, 0, 10):
        response = patient_client.post(url, posted)
    assert response.status_code == 200
    html = html_module.unescape(response.content.decode())
    named = {"opened": date_format(evening, "l j F Y"), "today": date_format(today, "l j F Y")}
    assert str(views.DAY_TURNED) % named in html
    assert not DiaryEntry.objects.exists()
    assert 'name="opened"' not in html
    with _at(today, 0, 12):
        saved = patient_client.post(url, {**posted, "opened": ""})
    assert saved.status_code == 302
    assert list(DiaryEntry.objects.values_list("date", flat=True)) == [evening]


def test_an_earlier_days_page_saved_after_midnight_is_saved(patient_client, world, settings):
    """An earlier day's page (not opened as today) saved after midnight is saved to its day: only a page opened as
    today's is refused once the day has turned."""
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Europe/London"
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    day = today - timedelta(days=3)
    url = reverse("diary:edit", kwargs={"day": day})
    with _at(today - timedelta(days=1), 23, 50):
        opened = patient_client.get(url).content.decode()
    assert 'name="opened"' not in opened
    with _at(today, 0, 10):
        assert patient_client.post(url, _day(date=day.isoformat(), loaded=_loaded(opened))).status_code == 302
    assert list(DiaryEntry.objects.values_list("date", flat=True)) == [day]


def test_notes_too_long_and_the_diary_rules_are_refused_in_one_round(patient_client, world):
    """Notes over the limit and a headache day without its worst pain are both refused at the first save, each
    next to its field, and nothing is saved."""
    response = patient_client.post(reverse("diary:today"), _day(intensity="", notes="x" * 2001))
    assert response.status_code == 200
    html = html_module.unescape(response.content.decode())
    assert str(forms.TEXT_TOO_LONG) % {"limit_value": 2000, "show_value": 2001} in html
    assert str(forms.CHOOSE_PAIN) in html
    assert not DiaryEntry.objects.exists()


def test_hours_too_long_are_refused_in_plain_words_with_the_other_diary_rules(patient_client, world):
    """Nine characters typed as the hours are refused in plain words (not Django's "Ensure this value has at most 8
    characters") with a day after today refused at the same save; the pain, judged against the hours, is not."""
    later = timezone.localdate() + timedelta(days=2)
    response = patient_client.post(
        reverse("diary:today"), _day(date=later.isoformat(), hours_quick="", headache_hours="123456789", intensity="")
    )
    html = html_module.unescape(response.content.decode())
    assert str(forms.HOURS_TOO_LONG) % {"limit_value": 8, "show_value": 9} in html
    assert "Ensure this value" not in html
    assert str(forms.DAY_IN_FUTURE) % {"day": date_format(later, "l j F Y")} in html
    assert str(forms.CHOOSE_PAIN) not in html
    assert not DiaryEntry.objects.exists()


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("clinician", "other_clinic_patient"),
        ("nurse", "other_clinic_patient"),
        ("billing", "same_clinic_patient"),
        ("admin", "same_clinic_patient"),
        ("trainee", "same_clinic_patient"),
        ("patient", "same_clinic_patient"),
    ],
)
def test_no_one_else_reaches_a_patients_day(client, world, role, target):
    """Another clinic's patient, billing staff, admins, trainees and other patients get 404 and nothing is saved."""
    client.force_login(world.users[role])
    day = timezone.localdate() - timedelta(days=2)
    url = reverse("diary:patient_day", kwargs={"patient_id": getattr(world, target).external_id, "day": day})
    assert client.get(url).status_code == 404
    assert client.post(url, _day()).status_code == 404
    assert not DiaryEntry.objects.exists()
    assert AuditEvent.objects.filter(action=Action.DENIED).count() == 2


def test_staff_can_jump_to_another_day(client, world):
    """The staff page's 'open another day' box goes to that day's address."""
    client.force_login(world.users["nurse"])
    patient_id = world.same_clinic_patient.external_id
    today = timezone.localdate()
    url = reverse("diary:patient_day", kwargs={"patient_id": patient_id, "day": today})
    earlier = today - timedelta(days=10)
    response = client.get(url, {"go": earlier.isoformat()})
    assert response.url == reverse("diary:patient_day", kwargs={"patient_id": patient_id, "day": earlier})


# --- history --------------------------------------------------------------------------------------------------------


def test_history_shows_recorded_days_and_gaps(patient_client, world):
    """The newest period lists every day: recorded ones with a change link, the rest as 'not recorded'."""
    today = timezone.localdate()
    DiaryEntryFactory(
        patient=world.own_patient, date=today - timedelta(days=1), headache_hours=Decimal(5), intensity="severe"
    )
    response = patient_client.get(reverse("diary:history"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="gap"') == 27
    assert "5 h headache" in html
    assert reverse("diary:edit", kwargs={"day": today - timedelta(days=1)}) in html
    assert reverse("diary:edit", kwargs={"day": today}) not in html
    assert 'role="img"' in html
    assert "1 of 28 days recorded" in html
    assert AuditEvent.objects.filter(action=Action.READ, object_type="diary").exists()


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "gap"])
def test_todays_row_in_my_diary_opens_todays_page(patient_client, world, recorded):
    """Today's row of "My diary" (recorded or not) links to today's page, which checks a save after midnight, not to
    today's day by date; yesterday's row links to its day."""
    today = timezone.localdate()
    if recorded:
        DiaryEntryFactory(patient=world.own_patient, date=today, headache_hours=Decimal(2), intensity="mild")
    html = patient_client.get(reverse("diary:history")).content.decode()
    label = "Change" if recorded else "Add"
    row = f'href="{reverse("diary:today")}" aria-label="{label} {date_format(today, "l j F")}"'
    assert row in html
    assert reverse("diary:edit", kwargs={"day": today}) not in html
    assert reverse("diary:edit", kwargs={"day": today - timedelta(days=1)}) in html


def test_only_the_latest_period_asks_for_the_days_remembered(patient_client, world):
    """An incomplete period is said to be so on every page, but only the latest 28 days ask the patient to fill
    in the days they remember: months later a day is not remembered, and an old period may be the baseline the
    response is judged against."""
    today = timezone.localdate()
    for back in (1, 40):
        DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=back), headache_hours=Decimal(0))
    latest = patient_client.get(reverse("diary:history")).content.decode()
    older = patient_client.get(reverse("diary:history"), {"period": "2"}).content.decode()
    for page in (latest, older):
        assert "so this period is incomplete: the counts may be too low." in page
    assert "Fill in the days you remember." in latest
    assert "Fill in the days you remember." not in older


def test_a_treated_patients_pages_name_their_period_and_ask_for_the_days_still_remembered(patient_client, world):
    """Once treated, each page is named as the clinic counts it ("Period 2 after your first treatment", "Before
    treatment", week 24 marked); the running page asks for the days not recorded so far, and so does the period
    just ended, incomplete; the period before it, ended over 28 days ago, says it is incomplete without asking."""
    today = timezone.localdate()
    day0 = today - timedelta(days=40)  # period 2 (days 28-55) is running: 12 of its days have passed
    InjectionSessionFactory(patient=world.own_patient, date=day0, status=SessionStatus.RECORDED)
    for back in (0, 1, 2, 20):
        DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=back), headache_hours=Decimal(0))
    DiaryEntryFactory(patient=world.own_patient, date=day0 - timedelta(days=3), headache_hours=Decimal(0))
    running = patient_client.get(reverse("diary:history")).content.decode()
    assert "Period 2 after your first treatment: " in running
    assert "10 days so far are not recorded: fill in the days you remember." in running
    ended = patient_client.get(reverse("diary:history"), {"period": "2"}).content.decode()
    assert "Period 1 after your first treatment: " in ended
    assert "so this period is incomplete: the counts may be too low. Fill in the days you remember." in ended
    before = patient_client.get(reverse("diary:history"), {"period": "3"}).content.decode()
    assert "Before treatment: " in before
    assert "Fill in the days you remember." not in before


@pytest.mark.parametrize(
    ("stored", "shown"), [("4.50", "4.5"), ("10", "10"), ("0.25", "0.25"), ("24.00", "24")], ids=str
)
def test_history_shows_hours_without_trailing_zeros(patient_client, world, stored, shown):
    """A day's hours read as typed: 4.5 h, 10 h, 0.25 h (a stored 4.50 was shown as "4.50 h")."""
    DiaryEntryFactory(
        patient=world.own_patient,
        date=timezone.localdate() - timedelta(days=1),
        headache_hours=Decimal(stored),
        intensity="mild",
    )
    html = patient_client.get(reverse("diary:history")).content.decode()
    assert f">{shown} h headache" in " ".join(html.split()).replace("> ", ">")


def test_history_pages_by_28_day_period(patient_client, world):
    """?period=2 shows the 28 days before the newest period; asking beyond the diary shows its oldest period."""
    today = timezone.localdate()
    old = today - timedelta(days=40)
    DiaryEntryFactory(patient=world.own_patient, date=old, headache_hours=Decimal(3), intensity="mild")
    html = patient_client.get(reverse("diary:history"), {"period": "2"}).content.decode()
    assert reverse("diary:edit", kwargs={"day": old}) in html
    assert "Page 2 of 2" in html
    assert "Page 2 of 2" in patient_client.get(reverse("diary:history"), {"period": "9"}).content.decode()
    assert "Page 1 of 2" in patient_client.get(reverse("diary:history"), {"period": "x"}).content.decode()


def test_a_treated_patients_page_numbers_its_pages_not_as_the_clinic_numbers_its_periods(patient_client, world):
    """The heading names the clinic's period ("Period 9 after your first treatment"); the pager counts pages from
    the newest, in words that are not "Period": one card never shows two different period numbers."""
    today = timezone.localdate()
    first = today - timedelta(days=PERIOD_DAYS * 8 + 3)
    InjectionSessionFactory(patient=world.own_patient, date=first, status=SessionStatus.RECORDED)
    DiaryEntryFactory(patient=world.own_patient, date=first - timedelta(days=5), headache_hours=Decimal(0))
    html = " ".join(patient_client.get(reverse("diary:history")).content.decode().split())
    assert "Period 9 after your first treatment" in html
    assert "Page 1 of 10" in html
    assert re.search(r"Period \d+ of \d+", html) is None


def test_the_oldest_page_of_a_diary_reaching_year_1_opens(patient_client, world):
    """A diary day on 0001-01-01 does not break "My diary": its oldest page and the chart render (it was a 500)."""
    DiaryEntryFactory(patient=world.own_patient, date=date.min, headache_hours=Decimal(0), intensity="")
    response = patient_client.get(reverse("diary:history"), {"period": "999999"})
    assert response.status_code == 200
    assert 'role="img"' in response.content.decode()


def test_history_is_the_patients_own_only(client, world):
    """Staff have no 'my diary': the history page is a 404 for them."""
    client.force_login(world.users["clinician"])
    assert client.get(reverse("diary:history")).status_code == 404


# --- the chart and the next treatment -------------------------------------------------------------------------------


def _chart_rows(html: str) -> list[tuple[str, ...]]:
    """The rows of the headache-days chart's table ("Show the numbers as a table"): period, headache days, days
    recorded, sessions."""
    table = html.split("<th scope='col'>28-day period</th>", 1)[1].split("</tbody>", 1)[0]
    return [tuple(re.findall(r"<td[^>]*>(.*?)</td>", row)) for row in re.findall(r"<tr>(.*?)</tr>", table)]


def _span(start: date) -> str:
    """A 28-day period from ``start`` as the chart's table names it."""
    end = start + timedelta(days=PERIOD_DAYS - 1)
    return f"{date_format(start, 'j M')} \N{EN DASH} {date_format(end, 'j M')}"


def _treat(patient, *, day0: date, today: date, injector, baseline: int = 20, after: tuple = (12, 15)) -> None:
    """A diary with ``baseline`` headache days in the 28 days before ``day0``, then each period's count after it
    (the last cut at ``today``), and a session recorded on day 0 and 12 weeks later when that is past."""
    store(patient, course_rows(day0, baseline, *after), today=today)
    for day in (day0, day0 + timedelta(days=RETREATMENT_INTERVAL_DAYS)):
        if day <= today:
            record_preempt_session(patient, day, injector=injector, today=today)


def test_my_chart_has_the_clinicians_periods_from_the_first_injection(client, world):
    """A treated patient's chart and its table show the periods of the clinician's patient page (the baseline
    ending the day before the first injection, then periods from it), not 28-day periods counted back from today,
    which mixed days before and after the injection in one bar."""
    today = timezone.localdate()
    day0 = today - timedelta(days=100)  # 100 is no multiple of 28: today's periods would straddle day 0
    _treat(world.own_patient, day0=day0, today=today, injector=world.users["nurse"], after=(12, 15, 10, 8))
    client.force_login(world.users["patient"])
    page_text = client.get(reverse("diary:history")).content.decode()
    mine = _chart_rows(page_text)
    client.force_login(world.users["clinician"])
    page = client.get(reverse("patients:detail", kwargs={"external_id": world.own_patient.external_id}))
    theirs = _chart_rows(page.content.decode())
    spans = [_span(day0 + timedelta(days=PERIOD_DAYS * k)) for k in range(-1, 4)]
    assert [row[:2] for row in mine] == list(zip(spans, ("20", "12", "15", "10", "8"), strict=True))
    assert mine == theirs
    assert f"counted from your first treatment on {date_format(day0, 'j F Y')}" in page_text


def _next_treatment_text(html: str) -> str:
    return " ".join(html.split())


@pytest.mark.parametrize("page", ["diary:today", "diary:history"])
def test_a_booked_session_is_the_next_treatment(patient_client, world, page):
    """A patient with a session booked (here the first) reads its date as their next treatment, in the after-care
    sheet's words, on the Today page and on My diary."""
    booked = timezone.localdate() + timedelta(days=6)
    InjectionSessionFactory(patient=world.own_patient, date=booked, status=SessionStatus.BOOKED)
    html = _next_treatment_text(patient_client.get(reverse(page)).content.decode())
    assert 'class="card next-treatment"' in html
    assert f"Your next treatment is booked for {date_format(booked, 'l j F Y')}." in html


@pytest.mark.parametrize("page", ["diary:today", "diary:history"])
@pytest.mark.parametrize(
    ("days_ago", "status"),
    [(30, CycleStatus.NOT_YET_DUE), (88, CycleStatus.DUE), (100, CycleStatus.OVERDUE)],
    ids=["on-treatment", "due", "overdue"],
)
def test_once_treated_the_next_treatment_can_be_from_the_engines_due_date(
    patient_client, world, page, days_ago, status
):
    """Treated and nothing booked, the patient reads the engine's next due date (12 weeks after the last session)
    and that the clinic will book it, as the after-care sheet says it; once that day has passed (due, overdue),
    that it has been due since then and to contact the clinic, never a day gone by as the earliest."""
    today = timezone.localdate()
    last = today - timedelta(days=days_ago)
    InjectionSessionFactory(patient=world.own_patient, date=last, status=SessionStatus.RECORDED)
    schedule = schedule_status([last], today=today)
    assert schedule.status is status
    due = schedule.next_due
    html = _next_treatment_text(patient_client.get(reverse(page)).content.decode())
    if status is CycleStatus.NOT_YET_DUE:
        assert (
            f"Treatment is repeated every 12 weeks: your next one can be from {date_format(due, 'l j F Y')}. "
            "The clinic will book it with you."
        ) in html
    else:
        assert (
            f"Your next treatment has been due since {date_format(due, 'l j F Y')} and is not booked yet: please "
            "contact the clinic to book it."
        ) in html
        assert "can be from" not in html


@pytest.mark.parametrize("page", ["diary:today", "diary:history"])
def test_a_patient_never_treated_nor_booked_has_no_next_treatment(patient_client, world, page):
    """Before treatment with nothing booked there is no next treatment to name (a cancelled booking is none)."""
    DiaryEntryFactory(patient=world.own_patient, date=timezone.localdate())
    InjectionSessionFactory(
        patient=world.own_patient, date=timezone.localdate() + timedelta(days=3), status=SessionStatus.CANCELLED
    )
    response = patient_client.get(reverse(page))
    html = response.content.decode()
    assert response.status_code == 200
    assert "next-treatment" not in html


def test_no_next_treatment_is_promised_when_stopping_is_suggested(patient_client, world):
    """When NICE TA260 suggests stopping (no 30 % fewer headache days after two cycles), the patient is not told the
    clinic will book another; a booking the clinic makes all the same is shown."""
    today = timezone.localdate()
    day0 = today - timedelta(days=175)
    _treat(world.own_patient, day0=day0, today=today, injector=world.users["nurse"], after=(20,) * 7)
    assert patient_pathway_state(world.own_patient, today).state == PathwayState.STOP_SUGGESTED
    for page in ("diary:today", "diary:history"):
        assert "next-treatment" not in patient_client.get(reverse(page)).content.decode()
    booked = today + timedelta(days=2)
    InjectionSessionFactory(patient=world.own_patient, date=booked, status=SessionStatus.BOOKED)
    html = _next_treatment_text(patient_client.get(reverse("diary:history")).content.decode())
    assert f"Your next treatment is booked for {date_format(booked, 'l j F Y')}." in html


def test_no_next_treatment_is_promised_once_treatment_has_stopped(patient_client, world):
    """A clinician's decision to stop (demo Kingsley's story: a responder who chose to stop) ends the promise of a
    next treatment on the portal, though the engine's next due date passes and no stop is suggested; a booking the
    clinic still holds is shown (the clinic's worklist asks to cancel it)."""
    today = timezone.localdate()
    day0 = today - timedelta(days=100)
    _treat(world.own_patient, day0=day0, today=today, injector=world.users["nurse"], after=(12, 16, 12, 16))
    assert "next-treatment" in patient_client.get(reverse("diary:today")).content.decode()
    treatment_decision_record(
        user=world.users["clinician"],
        patient=world.own_patient,
        decision=Decision.STOP,
        reason="Moving abroad; treatment stops here",
        decided_on=today,
        today=today,
    )
    assert patient_pathway_state(world.own_patient, today).state == PathwayState.TREATMENT_STOPPED
    for page in ("diary:today", "diary:history"):
        assert "next-treatment" not in patient_client.get(reverse(page)).content.decode(), page
    booked = today + timedelta(days=2)
    InjectionSessionFactory(patient=world.own_patient, date=booked, status=SessionStatus.BOOKED)
    html = _next_treatment_text(patient_client.get(reverse("diary:today")).content.decode())
    assert f"Your next treatment is booked for {date_format(booked, 'l j F Y')}." in html


def test_the_legend_names_a_booked_session_only_when_the_chart_draws_one(patient_client, world):
    """The chart ends at today, so a session booked ahead is never drawn on it: its legend has no "booked" line
    then (the booking is the next treatment above it); a booking inside a charted period (one missed) is drawn
    and named."""
    today = timezone.localdate()
    DiaryEntryFactory(patient=world.own_patient, date=today - timedelta(days=20))
    booking = InjectionSessionFactory(
        patient=world.own_patient, date=today + timedelta(days=6), status=SessionStatus.BOOKED
    )
    html = patient_client.get(reverse("diary:history")).content.decode()
    assert "injection session booked" not in html
    assert 'data-status="booked"' not in html
    booking.date = today - timedelta(days=5)
    booking.save()
    html = patient_client.get(reverse("diary:history")).content.decode()
    assert 'data-status="booked"' in html
    assert "injection session booked" in html


# --- days before your first treatment ---------------------------------------------------------------------------------


def test_a_day_before_the_first_treatment_is_shown_to_the_patient_as_recorded_not_as_a_form(patient_client, world):
    """After the first session the patient's baseline day opens read only, saying why and whom to tell; a post
    anyway (a page opened before the session was recorded) is refused naming the day, and the day is unchanged."""
    patient, today = world.own_patient, timezone.localdate()
    first = today - timedelta(days=10)
    day = first - timedelta(days=3)
    DiaryEntryFactory(patient=patient, date=day, headache_hours=Decimal(5))
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    page = patient_client.get(reverse("diary:edit", kwargs={"day": day}))
    text = html_module.unescape(page.content.decode())
    assert "is before your first treatment" in text
    assert "tell the clinic" in text
    assert "This day is recorded as shown below." in text
    assert re.search(r'<fieldset class="bare" disabled>', text)
    assert 'class="save"' not in text
    sent = patient_client.post(reverse("diary:edit", kwargs={"day": day}), _day(date=day.isoformat()))
    assert sent.status_code == 200
    assert "is before your first treatment" in html_module.unescape(sent.content.decode())
    assert DiaryEntry.objects.get(patient=patient, date=day).headache_hours == Decimal(5)
    # the session's own day is treatment period 1: a form as ever
    on_first = patient_client.get(reverse("diary:edit", kwargs={"day": first})).content.decode()
    assert 'class="save"' in on_first
    assert "before your first treatment" not in on_first


def test_staff_open_a_day_before_the_first_treatment_as_a_form(client, world):
    """A nurse entering the paper diary: the baseline day is a form, saved under their name."""
    patient, today = world.own_patient, timezone.localdate()
    InjectionSessionFactory(patient=patient, date=today - timedelta(days=10), status=SessionStatus.RECORDED)
    client.force_login(world.users["nurse"])
    day = today - timedelta(days=13)
    url = reverse("diary:patient_day", kwargs={"patient_id": patient.external_id, "day": day})
    page = client.get(url).content.decode()
    assert 'class="save"' in page
    assert "before your first treatment" not in page
    assert 'id="day-baseline"' in page  # told it is the baseline the response is judged against
    client.post(url, _day(date=day.isoformat()))
    assert DiaryEntry.objects.get(patient=patient, date=day).headache_hours == Decimal(6)


def test_the_history_offers_to_view_not_change_the_days_before_the_first_treatment(patient_client, world):
    """The patient's diary list links a recorded baseline day as "View", offers no "Add" on a baseline gap, and
    still offers both after the first session. (The baseline is the page before the first period's.)"""
    patient, today = world.own_patient, timezone.localdate()
    first = today - timedelta(days=5)
    DiaryEntryFactory(patient=patient, date=first - timedelta(days=1), headache_hours=Decimal(2))
    DiaryEntryFactory(patient=patient, date=first + timedelta(days=1), headache_hours=Decimal(2))
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    html = patient_client.get(reverse("diary:history"), {"period": 2}).content.decode()
    html += patient_client.get(reverse("diary:history")).content.decode()
    label = date_format(first - timedelta(days=1), "l j F")
    assert f'aria-label="View {label}"' in html
    assert f'aria-label="Change {label}"' not in html
    assert f'aria-label="Add {date_format(first - timedelta(days=2), "l j F")}"' not in html
    assert f'aria-label="Change {date_format(first + timedelta(days=1), "l j F")}"' in html
    assert f'aria-label="Add {date_format(first + timedelta(days=2), "l j F")}"' in html
