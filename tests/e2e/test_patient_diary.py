"""A patient keeps today's diary on a phone: sign in, tap the answers, save, see it saved."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from onaboard.web.diary.models import DiaryEntry
from tests.e2e.browsing import Browsing, tab_until_focused, tap_choice
from tests.web.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_patient_enters_todays_diary_on_a_phone(browsing: Browsing, world: World) -> None:
    """A patient signs in on a phone, taps hours, pain, features and a medicine, saves, and the day is stored."""
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")

    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Today, "))).to_be_visible()
    menu = page.locator("header.top nav a, header.top nav button")
    heights = [box["height"] for box in (menu.nth(i).bounding_box() for i in range(menu.count())) if box]
    assert heights
    assert min(heights) >= 44, heights  # the menu's links are a thumb's target on a phone
    save = page.get_by_role("button", name="Save", exact=True)
    tab_until_focused(page, save)
    browsing.shot(page, "today-blank")

    tap_choice(page, "radio", "4")
    tap_choice(page, "radio", "moderate: it got in the way")
    browsing.shot(page, "hours-and-pain")
    for feature in ("throbbing or pulsing", "felt sick (nausea)", "light bothered me"):
        tap_choice(page, "checkbox", feature)
    tap_choice(page, "checkbox", "triptan (sumatriptan, rizatriptan, zolmitriptan…)")
    tap_choice(page, "checkbox", "the medicine helped")
    browsing.shot(page, "answers-tapped")

    with page.expect_navigation():
        save.tap()
    expect(page.get_by_text("Saved: your diary for")).to_be_visible()
    expect(page.get_by_role("radio", name="4", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="felt sick (nausea)")).to_be_checked()
    browsing.shot(page, "saved")

    entry = DiaryEntry.objects.get(patient=world.own_patient, date=timezone.localdate())
    assert entry.headache_hours == Decimal(4)
    assert entry.intensity == "moderate"
    assert (entry.pulsating, entry.nausea, entry.photophobia) == (True, True, True)
    assert (entry.unilateral, entry.worse_with_activity, entry.vomiting, entry.phonophobia, entry.aura) == (
        False,
        False,
        False,
        False,
        False,
    )
    assert entry.acute_medication == "triptan"
    assert entry.acute_relief is True

    with page.expect_navigation():
        page.get_by_role("link", name="My diary and chart").tap()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    browsing.shot(page, "my-diary")


def test_changing_the_day_asks_before_unsaved_answers_are_replaced(browsing: Browsing, world: World) -> None:
    """With answers filled in, picking another day asks first: declining keeps the answers and the day; accepting
    shows the other day, whose date is then in the address (a reload stays on it)."""
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")
    tap_choice(page, "radio", "4")
    page.get_by_label("Notes (optional)").fill("typed, not saved")
    yesterday = timezone.localdate() - timedelta(days=1)
    day = page.locator("#day-picker input[name=date]")

    page.once("dialog", lambda dialog: dialog.dismiss())
    day.fill(yesterday.isoformat())
    expect(day).to_have_value(timezone.localdate().isoformat())
    expect(page.get_by_label("Notes (optional)")).to_have_value("typed, not saved")
    expect(page.get_by_role("radio", name="4", exact=True)).to_be_checked()

    page.once("dialog", lambda dialog: dialog.accept())
    day.fill(yesterday.isoformat())
    expect(page).to_have_url(re.compile(rf"date={yesterday.isoformat()}"))
    expect(page.get_by_label("Notes (optional)")).to_have_value("")
    page.reload()
    expect(page.locator("#day-picker input[name=date]")).to_have_value(yesterday.isoformat())
    assert page.evaluate("window.localStorage.getItem('htmx-history-cache')") is None  # no copy of the diary kept


PROBE_JS = """
() => { const probe = document.createElement('input'); probe.type = 'date'; probe.id = 'date-order-probe';
  probe.setAttribute('aria-label', 'probe'); document.body.append(probe); }
"""


def date_field_order(page: Page) -> list[str]:
    """The order of a date field's parts in this browser (the browser's own language sets it, not the page's
    locale): a probe field added to the page is typed 01, 02, 2003, read back and removed."""
    page.evaluate(PROBE_JS)
    probe = page.locator("#date-order-probe")
    probe.focus()
    for key in "01022003":
        page.keyboard.press(key)
    value = probe.input_value()
    probe.evaluate("(el) => el.remove()")
    orders = {"2003-01-02": ["month", "day", "year"], "2003-02-01": ["day", "month", "year"]}
    assert value in orders, f"a date field whose parts come in an order not handled here: {value!r}"
    return orders[value]


def type_date(page: Page, day: date, order: list[str]) -> None:
    """Type ``day`` into the focused date field key by key, its parts in ``order``, as a person typing it does."""
    digits = {"day": f"{day:%d}", "month": f"{day:%m}", "year": f"{day:%Y}"}
    for part in order:
        for key in digits[part]:
            page.keyboard.press(key)


def day_requests(page: Page) -> list[str]:
    """The dates asked for with ``?date=`` from now on, one item a request, in order."""
    asked: list[str] = []
    page.on(
        "request",
        lambda request: asked.extend(value for key, value in parse_qsl(urlsplit(request.url).query) if key == "date"),
    )
    return asked


@pytest.mark.parametrize("leave", ["Tab", "Enter"])
def test_a_date_typed_with_the_keyboard_opens_that_day_once(browsing: Browsing, world: World, leave: str) -> None:
    """Typing a date key by key in the day field asks for no day while it is typed (each part typed used to load a
    day: 2026-01-30, then 2026-12-30, ending on a day not yet come, the focus lost), then once for the whole date
    when the field is left with Tab or Enter; after Tab the focus is on the "Show day" button, after Enter still
    on the field."""
    day = timezone.localdate() - timedelta(days=40)
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")
    order = date_field_order(page)
    asked = day_requests(page)
    page.reload()
    field = page.get_by_label("Day", exact=True)
    tab_until_focused(page, field)
    type_date(page, day, order)
    expect(field).to_have_value(day.isoformat())
    assert asked == []
    page.keyboard.press(leave)
    for _ in range(3):  # Tab moves on through the field's own stops (its parts, the calendar button) first
        if leave != "Tab" or not field.evaluate("(el) => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    heading = f"Diary for {day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}"))
    browsing.shot(page, f"typed-{leave}")
    assert asked == [day.isoformat()]
    focused = page.get_by_role("button", name="Show day") if leave == "Tab" else page.get_by_label("Day", exact=True)
    expect(focused).to_be_focused()
    expect(page.locator("#diary-form")).to_be_visible()


def test_a_date_typed_over_unsaved_answers_asks_once(browsing: Browsing, world: World) -> None:
    """With answers not saved, a date typed key by key asks once, when the field is left, not at each key; accepting
    opens the typed day."""
    day = timezone.localdate() - timedelta(days=12)
    page = browsing.open("desktop")
    browsing.sign_in(page, "patient")
    order = date_field_order(page)
    page.get_by_label("Notes (optional)").fill("typed, not saved")
    asked = day_requests(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    field = page.get_by_label("Day", exact=True)
    field.focus()
    type_date(page, day, order)
    assert dialogs == []
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}"))
    expect(page.get_by_label("Notes (optional)")).to_have_value("")
    assert len(dialogs) == 1
    assert asked == [day.isoformat()]


def test_the_show_day_button_opens_the_day_without_javascript(browsing: Browsing, world: World) -> None:
    """With JavaScript off, the day field and its "Show day" button open the chosen day's page (a plain GET)."""
    day = timezone.localdate() - timedelta(days=6)
    context = browsing.browser.new_context(base_url=browsing.base_url, locale="en-GB", java_script_enabled=False)
    browsing.contexts.append(context)
    page = context.new_page()
    browsing.sign_in(page, "patient")
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Show day").click()
    assert urlsplit(page.url).query == f"date={day.isoformat()}"
    heading = f"Diary for {day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def test_answers_come_back_with_an_error_and_changing_the_day_still_asks(browsing: Browsing, world: World) -> None:
    """A save refused for its errors shows the answers again, not saved: picking another day then asks first."""
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")
    page.get_by_label("Or type the exact hours").fill("30")
    page.get_by_label("Notes (optional)").fill("kept after the error")
    with page.expect_navigation():
        page.locator("button.save").click()
    expect(page.get_by_label("Notes (optional)")).to_have_value("kept after the error")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    day = page.locator("#day-picker input[name=date]")
    day.fill((timezone.localdate() - timedelta(days=1)).isoformat())
    expect(page.get_by_label("Notes (optional)")).to_have_value("kept after the error")
    assert asked


def _migraine_day(world: World, days_ago: int) -> DiaryEntry:
    """A stored 10-hour moderate day, throbbing, with nausea and light bothering: a migraine day."""
    return DiaryEntry.objects.create(
        patient=world.own_patient,
        date=timezone.localdate() - timedelta(days=days_ago),
        headache_hours=Decimal(10),
        intensity="moderate",
        pulsating=True,
        nausea=True,
        photophobia=True,
    )


MIGRAINE_FEATURES = ("throbbing or pulsing", "felt sick (nausea)", "light bothered me")


@pytest.mark.parametrize("typed", ["7 1/2", ",5", "30", ""], ids=["fraction", "leading-comma", "too-many", "cleared"])
def test_hours_the_server_refuses_keep_the_pain_answers(browsing: Browsing, world: World, typed: str) -> None:
    """Hours typed wrong (or cleared) leave the worst pain and the pain features in the save: the refused page
    shows them still chosen, and once the hours are fixed the day is saved with them (they were dropped, so a
    migraine day was saved without its features)."""
    entry = _migraine_day(world, days_ago=3)
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")
    page.goto(f"/portal/diary/{entry.date.isoformat()}/")
    details = page.locator("#pain-details")
    expect(details).to_be_visible()

    page.get_by_label("Or type the exact hours").fill(typed)
    if typed:
        expect(details).to_be_visible()  # text the server cannot read is not "no headache"
    for name in ("intensity", "pulsating", "nausea", "photophobia"):
        expect(page.locator(f"#pain-details input[name={name}]").first).to_be_enabled()
    with page.expect_navigation():
        page.locator("button.save").click()
    browsing.shot(page, "refused")
    expect(page.get_by_text("Please check the answers marked below.")).to_be_visible()
    page.get_by_label("Or type the exact hours").fill("7.5")
    for feature in MIGRAINE_FEATURES:
        expect(page.get_by_role("checkbox", name=feature)).to_be_checked()
    expect(page.get_by_role("radio", name="moderate: it got in the way")).to_be_checked()
    tap_choice(page, "radio", "severe: I had to stop or lie down")
    with page.expect_navigation():
        page.locator("button.save").click()
    expect(page.get_by_text("Saved: your diary for")).to_be_visible()
    entry.refresh_from_db()
    assert (entry.headache_hours, entry.intensity) == (Decimal("7.5"), "severe")
    assert (entry.pulsating, entry.nausea, entry.photophobia) == (True, True, True)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("0", False), ("0,0", False), (" 00.0 ", False), ("2,5", True), ("5 1/2", True), ("-0", True)],
)
def test_the_pain_questions_hide_only_for_hours_read_as_zero(
    browsing: Browsing, world: World, typed: str, shown: bool
) -> None:
    """The worst pain and the pain features are hidden and left out of the save only when the exact hours read as 0,
    as the server reads them ("0,0" is 0); any other text, readable or not, keeps them shown and sent."""
    entry = _migraine_day(world, days_ago=2)
    page = browsing.open("desktop")
    browsing.sign_in(page, "patient")
    page.goto(f"/portal/diary/{entry.date.isoformat()}/")
    page.get_by_label("Or type the exact hours").fill(typed)
    details = page.locator("#pain-details")
    if shown:
        expect(details).to_be_visible()
        expect(page.get_by_role("checkbox", name="felt sick (nausea)")).to_be_enabled()
    else:
        expect(details).to_be_hidden()
        expect(page.locator("#pain-details input[name=nausea]")).to_be_disabled()


def test_a_refused_save_of_another_day_comes_back_as_that_days_page(browsing: Browsing, world: World) -> None:
    """A day picked on today's page and refused on saving comes back as that day's page: its heading, its date in
    the address, and its day before and after (it came back headed "Today's diary", linking around today)."""
    day = timezone.localdate() - timedelta(days=10)
    page = browsing.open("phone")
    browsing.sign_in(page, "patient")
    page.locator("#day-picker input[name=date]").fill(day.isoformat())
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}"))
    page.get_by_label("Or type the exact hours").fill("3")
    with page.expect_navigation():
        page.locator("button.save").click()
    browsing.shot(page, "refused")
    # the error summary's link, and the message at the field itself
    expect(page.get_by_role("link", name="Choose how bad the worst pain was.")).to_be_visible()
    expect(
        page.get_by_role("group", name="Worst pain").get_by_text("Choose how bad the worst pain was.")
    ).to_be_visible()
    heading = f"Diary for {day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page).to_have_url(re.compile(rf"date={day.isoformat()}"))
    expect(page.locator("#day-picker input[name=date]")).to_have_value(day.isoformat())
    before = (day - timedelta(days=1)).isoformat()
    expect(page.get_by_role("link", name="← Day before")).to_have_attribute("href", f"/portal/diary/{before}/")
