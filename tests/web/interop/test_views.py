"""The exchange pages (onaboard/web/interop/views.py): downloads, the diary CSV upload, my data, calendar feeds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from onaboard.clinical import write_diary
from onaboard.synthetic import Profile, synthetic_patient_days
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.clinic.selectors import PathwayState, pathway_states
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.interop.calendar import CLINIC_FEED_READ, CLINICIAN_SUMMARY, PATIENT_SUMMARY
from onaboard.web.interop.models import CalendarFeed
from onaboard.web.interop.services import OTHER_PATIENT, DiaryCsvInvalidError, diary_csv_import
from tests.builders import periods_back
from tests.web.clinic.diaries import CHRONIC, EPISODIC, engine_days

HEADER = "patient_id,date,headache_hours,intensity,nausea\n"
PARTIAL = "two sites only: the patient fainted"
"""The override reason of the sessions of a few sites here: a session that left fixed sites out departs from the
label."""


def _upload(client: Client, patient, text: str, *, check_only: bool = False):
    data = {
        "action": "upload",
        "kind": "diary",
        "file": SimpleUploadedFile("diary.csv", text.encode(), content_type="text/csv"),
    }
    if check_only:
        data["check_only"] = "on"
    return client.post(reverse("interop:patient", args=[patient.external_id]), data)


def test_an_uploaded_note_holding_a_nul_character_is_a_problem_of_its_row(world, client):
    """The record cannot store a NUL character (PostgreSQL text): the upload names the row's notes, saves nothing."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=1)
    response = _upload(
        client, patient, f"patient_id,date,headache_hours,notes\n{patient.record_number},{day},0,a\x00b\n"
    )
    assert [str(problem) for problem in response.context["problems"]] == [
        "line 2, column notes: notes must not contain the NUL character"
    ]
    assert not DiaryEntry.objects.filter(patient=patient).exists()


def test_the_upload_lists_every_problem_by_row_and_saves_nothing(world, client):
    """A file with three bad rows shows each (line, column, problem), the row of another patient too; its good rows
    are not saved."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    today = timezone.localdate()
    text = (
        HEADER
        + f"{patient.record_number},{today - dt.timedelta(days=2)},4,severe,yes\n"
        + f"{patient.record_number},{today - dt.timedelta(days=1)},25,severe,yes\n"
        + f"{patient.record_number},2026-02-30,0,,\n"
        + f"OTHER-1,{today - dt.timedelta(days=1)},0,,maybe\n"
    )
    response = _upload(client, patient, text)
    assert response.status_code == 200
    rows = [tuple(str(p) for p in (p.line, p.column, p.message)) for p in response.context["problems"]]
    assert rows == [
        ("3", "headache_hours", "headache hours must be a number from 0 to 24 (got '25')"),
        ("4", "date", "date 2026-02-30 does not exist"),
        ("5", "patient_id", OTHER_PATIENT.format(expected=patient.record_number, value="OTHER-1")),
        ("5", "nausea", "must be yes/no, y/n, true/false or 1/0 (got 'maybe')"),
    ]
    assert "headache hours must be a number from 0 to 24 (got &#x27;25&#x27;)" in response.content.decode()
    assert not DiaryEntry.objects.filter(patient=patient).exists()


def test_rows_for_another_patient_are_refused_by_line(world, client):
    """Every row of a patient's upload must be theirs; another record number is reported on its first line."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=1)
    text = HEADER + f"{patient.record_number},{day},0,,\n{world.own_patient.record_number},{day},0,,\n"
    problems = _upload(client, patient, text).context["problems"]
    message = OTHER_PATIENT.format(expected=patient.record_number, value=world.own_patient.record_number)
    assert [str(p) for p in problems] == [f"line 3, column patient_id: {message}"]
    assert not DiaryEntry.objects.filter(patient=patient).exists()


def test_a_row_for_another_patient_is_listed_with_the_files_other_problems(world, client):
    """The page lists every problem at once: a row naming another patient is reported, in line order, beside the
    rows the diary contract refuses (it was reported only once those were mended)."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=3)
    mine, other = patient.record_number, world.own_patient.record_number
    text = (
        "patient_id,date,headache_hours,intensity,acute_medication\n"
        f"{mine},{day},25,severe,\n"
        f"{mine},{day + dt.timedelta(days=1)},4,,\n"
        f"{other},{day},0,,\n"
        f"{mine},{day + dt.timedelta(days=2)},0,,ibuprofen\n"
        f"{mine},2026-09-31,0,,\n"
    )
    problems = _upload(client, patient, text).context["problems"]
    assert [(p.line, p.column) for p in problems] == [
        (2, "headache_hours"),
        (3, "intensity"),
        (4, "patient_id"),
        (5, "acute_medication"),
        (6, "date"),
    ]
    assert problems[2].message == OTHER_PATIENT.format(expected=mine, value=other)
    assert not DiaryEntry.objects.filter(patient=patient).exists()


def test_check_only_saves_nothing_and_importing_twice_changes_nothing(world, client):
    """Check only reports what would happen; the import saves; the same file again creates and changes nothing."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=1)
    text = HEADER + f"{patient.record_number},{day},6,severe,yes\n"
    checked = _upload(client, patient, text, check_only=True)
    assert checked.context["summary"].lines() == ["diary days: 1 created, 0 updated, 0 unchanged"]
    assert not DiaryEntry.objects.filter(patient=patient).exists()
    _upload(client, patient, text)
    entry = DiaryEntry.objects.get(patient=patient)
    events = AuditEvent.objects.filter(patient_id=patient.external_id, object_type="diary_import").count()
    again = _upload(client, patient, text)
    assert again.context["summary"].lines() == ["diary days: 0 created, 0 updated, 1 unchanged"]
    assert DiaryEntry.objects.get(patient=patient).modified == entry.modified
    assert AuditEvent.objects.filter(patient_id=patient.external_id, object_type="diary_import").count() == events


def test_an_import_that_changes_stored_days_is_seen_by_the_worklist_at_once(world, client):
    """Re-importing days with other values stamps them as changed (``modified``), so the worklist's cached line
    for the patient is computed again: chronic days corrected to episodic ones end the eligible state."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    today = timezone.localdate()
    chronic = periods_back(patient.record_number, today, *([CHRONIC] * 3))
    _upload(client, patient, write_diary(engine_days(chronic, today=today)))
    assert pathway_states([patient], today=today)[patient.pk].state is PathwayState.ELIGIBLE
    before = {entry.date: entry.modified for entry in DiaryEntry.objects.filter(patient=patient)}
    episodic = periods_back(patient.record_number, today, EPISODIC, EPISODIC, EPISODIC)
    summary = _upload(client, patient, write_diary(engine_days(episodic, today=today))).context["summary"]
    assert summary.counts["diary days"][1] > 0  # days were updated, not created
    changed = [e for e in DiaryEntry.objects.filter(patient=patient, date__in=before) if e.modified > before[e.date]]
    assert changed
    assert pathway_states([patient], today=today)[patient.pk].state is PathwayState.NOT_ELIGIBLE


def test_an_import_committing_after_a_later_diary_save_is_still_seen_by_the_worklist(
    world, django_capture_on_commit_callbacks
):
    """A long import stamps its days when it writes them; a diary day saved meanwhile carries a later stamp and
    commits first, and the worklist caches that state. Once the import commits its days are stamped again, so the
    worklist sees the corrected diary (chronic days corrected to episodic: not eligible) at once."""
    from unittest import mock

    from onaboard.web.diary.services import diary_entry_save
    from onaboard.web.interop.services import diary_days_import

    patient, nurse = world.same_clinic_patient, world.users["nurse"]
    today = timezone.localdate()
    chronic = periods_back(patient.record_number, today, *([CHRONIC] * 3))
    diary_days_import(user=nurse, patient=patient, days=engine_days(chronic, today=today), source="first")
    import_started = timezone.now() - dt.timedelta(seconds=5)
    diary_entry_save(user=nurse, patient=patient, fields=dict(chronic[0]), today=today)  # commits first, stamped later
    assert pathway_states([patient], today=today)[patient.pk].state is PathwayState.ELIGIBLE
    episodic = periods_back(patient.record_number, today, EPISODIC, EPISODIC, EPISODIC)
    late_clock = mock.patch("onaboard.web.interop.services.timezone.now", return_value=import_started)
    with django_capture_on_commit_callbacks(execute=True), late_clock:  # the clock is restored before the commit
        diary_days_import(user=nurse, patient=patient, days=engine_days(episodic, today=today), source="late")
    assert pathway_states([patient], today=today)[patient.pk].state is PathwayState.NOT_ELIGIBLE


def test_sessions_an_import_changes_are_stamped_again_once_it_commits(world, django_capture_on_commit_callbacks):
    """A sessions import that records a booked session stamps it when it writes and again after its commit, so
    the change lands after anything saved while the import ran (the worklist's fingerprint reads the latest
    stamp)."""
    from unittest import mock

    from onaboard.web.interop.services import table_csv_import
    from tests.web.factories import InjectionSessionFactory

    patient, nurse = world.same_clinic_patient, world.users["nurse"]
    booking = InjectionSessionFactory(patient=patient, date=timezone.localdate(), status=SessionStatus.BOOKED)
    text = "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
    text += f"{patient.record_number},{booking.date},recorded,10,C1,2030-01-01,procerus:midline:5;frontalis:left:5,"
    text += f"{PARTIAL}\n"
    import_started = timezone.now() - dt.timedelta(seconds=5)
    with django_capture_on_commit_callbacks(execute=True), mock.patch("django.utils.timezone.now") as clock:
        clock.return_value = import_started
        table_csv_import(
            user=nurse, clinic=patient.clinic, kind="sessions", source=text, today=booking.date, patient=patient
        )
        assert InjectionSession.objects.get(pk=booking.pk).modified == import_started
    assert InjectionSession.objects.get(pk=booking.pk).modified > import_started


def test_hours_finer_than_stored_keep_their_days_classification_and_reimport_unchanged(world, client):
    """The contract allows any decimals; the record keeps hundredths. 3.999 h is stored as 3.99 (still under four
    hours, not 4.00), 0.001 h as 0.01 (still a headache day, not 0.00), and the same file again changes nothing."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    today = timezone.localdate()
    one, two = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    text = HEADER + f"{patient.record_number},{one},3.999,mild,no\n{patient.record_number},{two},0.001,mild,no\n"
    _upload(client, patient, text)
    stored = dict(DiaryEntry.objects.filter(patient=patient).values_list("date", "headache_hours"))
    assert stored == {one: Decimal("3.99"), two: Decimal("0.01")}
    again = _upload(client, patient, text)
    assert again.context["summary"].lines() == ["diary days: 0 created, 0 updated, 2 unchanged"]


def test_a_10000_day_diary_lands_whole_in_one_request(world, client):
    """Ten thousand days uploaded at once are all stored, and the audit trail holds one import event."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    start = timezone.localdate() - dt.timedelta(days=9999)
    days = synthetic_patient_days(
        patient.record_number, start=start, days=10_000, profile=Profile.CHRONIC, seed=7, completeness=1.0
    )
    assert len(days) == 10_000
    response = _upload(client, patient, write_diary(days))
    assert response.context["summary"].lines() == ["diary days: 10000 created, 0 updated, 0 unchanged"]
    assert DiaryEntry.objects.filter(patient=patient).count() == 10_000
    assert AuditEvent.objects.filter(patient_id=patient.external_id, object_type="diary_import").count() == 1


def test_billing_staff_and_other_clinics_cannot_reach_the_exchange_page(world, client):
    """The page, the FHIR and the CSV downloads are 404 without the clinical view of the patient."""
    for role, patient in (("billing", world.same_clinic_patient), ("nurse", world.other_clinic_patient)):
        client.force_login(world.users[role])
        for name in ("interop:patient", "interop:patient_fhir", "interop:patient_diary_csv"):
            assert client.get(reverse(name, args=[patient.external_id])).status_code == 404


def test_staff_downloads_are_the_contract_csv_and_a_fhir_bundle_and_are_audited(world, charted, client):
    """The CSV download is the diary contract with the record number; the FHIR download is a transaction Bundle."""
    client.force_login(world.users["clinician"])
    csv = client.get(reverse("interop:patient_diary_csv", args=[charted.external_id]))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("patient_id,date,headache_hours,intensity")
    assert len(lines) == 4
    assert all(line.startswith(charted.record_number + ",") for line in lines[1:])
    fhir = client.get(reverse("interop:patient_fhir", args=[charted.external_id]))
    assert json.loads(fhir.content)["type"] == "transaction"
    exports = AuditEvent.objects.filter(action=Action.EXPORT, patient_id=charted.external_id, username="clinician")
    assert sorted(exports.values_list("object_type", flat=True)) == ["diary_csv", "fhir_bundle"]


def test_a_patient_downloads_all_their_own_data_audited(world, charted, client):
    """My data offers the FHIR Bundle and the diary CSV of the signed-in patient only, saying the coverage records
    are not in them; both downloads are audited."""
    client.force_login(world.users["patient"])
    page = client.get(reverse("interop:my_data"))
    assert page.status_code == 200
    assert reverse("interop:my_fhir") in page.content.decode()
    assert (
        "Your insurance details and the clinic's requests to your insurer are not in these files"
        in page.content.decode()
    )
    document = json.loads(client.get(reverse("interop:my_fhir")).content)
    patients = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [str(charted.external_id)]
    assert client.get(reverse("interop:my_diary_csv")).content.decode().count("\n") == 4
    assert (
        AuditEvent.objects.filter(
            action=Action.EXPORT, patient_id=charted.external_id, username="patient", detail__contains="own download"
        ).count()
        == 2
    )
    client.force_login(world.users["nurse"])
    assert client.get(reverse("interop:my_data")).status_code == 404


def test_opening_my_data_is_an_audited_read_of_the_patients_own_record(world, charted, client):
    """The patient's "My data" page names them and lists their calendar feeds: opening it writes one READ event by
    the patient naming their own record, as the staff's exchange page and every other portal page do (it wrote
    none)."""
    client.force_login(world.users["patient"])
    before = AuditEvent.objects.count()
    assert client.get(reverse("interop:my_data")).status_code == 200
    (event,) = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.object_type, event.object_id, event.patient_id, event.username) == (
        Action.READ,
        "patient",
        str(charted.external_id),
        charted.external_id,
        "patient",
    )


def test_a_patients_downloads_by_their_records_address_are_their_own_download(world, charted, client):
    """A patient's own record's download addresses answer them audited as their own download, not staff's."""
    client.force_login(world.users["patient"])
    assert client.get(reverse("interop:patient_csv", args=[charted.external_id, "sessions"])).status_code == 200
    assert client.get(reverse("interop:patient_fhir", args=[charted.external_id])).status_code == 200
    details = AuditEvent.objects.filter(action=Action.EXPORT, patient_id=charted.external_id, username="patient")
    assert sorted(details.values_list("detail", flat=True)) == ["patient's own download"] * 2


def test_the_exchange_page_is_not_found_for_a_patient_even_on_their_own_record(world, charted, client):
    """The exchange page is the staff's (their CSV import, in their words): a patient opening it on their own record,
    or posting a diary or sessions file to it, gets 404, each refusal audited as staff-only, and nothing is
    imported; their own data is on "My data"."""
    client.force_login(world.users["patient"])
    before = DiaryEntry.objects.filter(patient=charted).count()
    assert client.get(reverse("interop:patient", args=[charted.external_id])).status_code == 404
    day = timezone.localdate() - dt.timedelta(days=1)
    assert _upload(client, charted, f"{HEADER}{charted.record_number},{day},3,mild,yes\n").status_code == 404
    sessions = SimpleUploadedFile(
        "sessions.csv", f"patient_id,date,status\n{charted.record_number},{day},booked\n".encode()
    )
    url = reverse("interop:patient", args=[charted.external_id])
    assert client.post(url, {"action": "upload", "kind": "sessions", "file": sessions}).status_code == 404
    assert DiaryEntry.objects.filter(patient=charted).count() == before
    assert not InjectionSession.objects.filter(patient=charted, date=day).exists()
    denied = AuditEvent.objects.filter(action=Action.DENIED, username="patient", patient_id=charted.external_id)
    assert denied.count() == 3
    assert all(detail.endswith("staff only") for detail in denied.values_list("detail", flat=True))
    assert client.get(reverse("interop:my_data")).status_code == 200


def _feed_address(response) -> str:
    return response.context["new_feed"]


def test_a_patient_feed_shows_the_booking_without_a_name_and_stops_when_revoked(world, charted, client):
    """The patient's feed is one all-day event without their name; a revoked feed's address is 404."""
    client.force_login(world.users["patient"])
    address = _feed_address(client.post(reverse("interop:my_data"), {"action": "feed_create"}))
    calendar_text = Client().get(address)
    assert calendar_text["Content-Type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(calendar_text.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [PATIENT_SUMMARY]
    assert events[0]["dtstart"].dt == timezone.localdate() + dt.timedelta(days=14)
    assert charted.family_name not in calendar_text.content.decode()
    assert AuditEvent.objects.filter(object_type="calendar_feed", action=Action.READ).count() == 1
    feed = CalendarFeed.objects.get(owner=world.users["patient"])
    client.post(reverse("interop:my_data"), {"action": "feed_revoke", "feed": str(feed.external_id)})
    assert Client().get(address).status_code == 404


def test_a_clinician_feed_lists_the_clinics_bookings_by_record_number(world, charted, client):
    """The clinician's feed holds every booked session of their clinic, titled by record number only."""
    client.force_login(world.users["clinician"])
    address = _feed_address(client.post(reverse("interop:calendar"), {"action": "feed_create"}))
    events = Calendar.from_ical(Client().get(address).content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [CLINICIAN_SUMMARY.format(record_number=charted.record_number)]
    world.users["clinician"].is_active = False
    world.users["clinician"].save()
    assert Client().get(address).status_code == 404


def test_a_clinic_feed_fetch_is_in_each_listed_patients_trail(world, charted, client):
    """A clinic-wide feed sends each booked or cancelled patient's record number and date to the calendar
    provider, so a fetch writes a READ event for each distinct patient listed (one for a booking and a cancelled
    one of one patient, none for another clinic's), besides the feed's own event: each patient's trail shows their
    booking left the clinic."""
    same, far = world.same_clinic_patient, world.other_clinic_patient
    today = timezone.localdate()
    InjectionSession.objects.create(patient=charted, date=today + dt.timedelta(days=7), status=SessionStatus.CANCELLED)
    InjectionSession.objects.create(patient=same, date=today + dt.timedelta(days=7), status=SessionStatus.BOOKED)
    InjectionSession.objects.create(patient=far, date=today + dt.timedelta(days=7), status=SessionStatus.BOOKED)
    client.force_login(world.users["clinician"])
    address = _feed_address(client.post(reverse("interop:calendar"), {"action": "feed_create"}))
    before = AuditEvent.objects.count()
    assert len(Calendar.from_ical(Client().get(address).content).walk("VEVENT")) == 3
    fetched = AuditEvent.objects.order_by("id")[before:]
    reads = [(event.patient_id, event.object_id, event.detail) for event in fetched if event.patient_id]
    assert sorted(reads, key=str) == sorted(
        [(patient.external_id, str(patient.external_id), CLINIC_FEED_READ) for patient in (charted, same)],
        key=str,
    )
    assert all((event.action, event.username) == (Action.READ, "clinician") for event in fetched)
    assert [event.object_type for event in fetched if not event.patient_id] == ["calendar_feed"]


def test_a_head_request_gets_the_feeds_headers_without_content_or_audit(world, charted, client):
    """A calendar app's HEAD is answered (not 405) with the GET's type and length and no content; nothing left,
    so neither the trail nor the feed's last fetch records it. A revoked feed's HEAD is 404."""
    client.force_login(world.users["patient"])
    address = _feed_address(client.post(reverse("interop:my_data"), {"action": "feed_create"}))
    before = AuditEvent.objects.count()
    head = Client().head(address)
    assert (head.status_code, head["Content-Type"], head.content) == (200, "text/calendar; charset=utf-8", b"")
    assert AuditEvent.objects.count() == before
    assert CalendarFeed.objects.get(owner=world.users["patient"]).last_used is None
    assert head["Content-Length"] == str(len(Client().get(address).content))
    feed = CalendarFeed.objects.get(owner=world.users["patient"])
    client.post(reverse("interop:my_data"), {"action": "feed_revoke", "feed": str(feed.external_id)})
    assert Client().head(address).status_code == 404


def test_the_staff_help_on_a_patients_feed_says_what_its_events_hold(world, charted, client):
    """The help beside a patient's feed on the staff exchange page quotes the title its events have and names the
    clinic as their place; the feed holds no record number, and the help says so and that it is the patient's."""
    client.force_login(world.users["clinician"])
    response = client.post(reverse("interop:patient", args=[charted.external_id]), {"action": "feed_create"})
    page = response.content.decode()
    feed_text = Client().get(_feed_address(response)).content
    (event,) = Calendar.from_ical(feed_text).walk("VEVENT")
    assert f"titled “{event['summary']}” with the clinic as its place" in page
    assert str(event["location"]) == world.clinic.name
    assert charted.record_number not in feed_text.decode()
    assert "no name and no record number" in page
    assert "for the patient" in page


def test_the_clinic_feed_page_says_the_record_number_leaves_for_the_calendar_service(world, client):
    """The clinic feed's help says the record number identifies the patient and goes, with the date and treatment,
    to whichever calendar service subscribes, asks for a calendar the clinic's data-protection rules allow, and
    gives the feed's window; it no longer suggests the feed is anonymous."""
    client.force_login(world.users["clinician"])
    page = client.get(reverse("interop:calendar")).content.decode()
    assert "The record number identifies the patient" in page
    assert "the date and the treatment are copied to the servers of whichever calendar service subscribes" in page
    assert "data-protection rules allow" in page
    assert "from 90 days ago to 2 years ahead" in page
    assert "never the name" not in page


def test_a_made_up_feed_address_is_404(db):
    """Guessing a feed address finds nothing."""
    assert Client().get(reverse("interop:feed", args=["cal_made-up"])).status_code == 404


def test_preventives_and_sessions_upload_and_download_round_trip(world, client):
    """A preventive history and sessions uploaded are stored; downloaded and uploaded again they change nothing."""
    from onaboard.web.patients.models import PreventiveTrial

    client.force_login(world.users["clinician"])
    patient = world.same_clinic_patient
    number = patient.record_number
    preventives = (
        "patient_id,drug,drug_class,start,stop,stop_reason\n"
        f"{number},propranolol,beta_blocker,2024-01-01,2024-04-01,ineffective\n"
    )
    sessions = (
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
        f"{number},2026-01-05,recorded,10,C1,2027-01-01,procerus:midline:5;temporalis:left:5:ftp,{PARTIAL}\n"
    )
    url = reverse("interop:patient", args=[patient.external_id])
    for kind, text in (("preventives", preventives), ("sessions", sessions)):
        upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")
        response = client.post(url, {"action": "upload", "kind": kind, "file": upload})
        assert response.context["summary"].lines() == [f"{kind}: 1 created, 0 updated, 0 unchanged"]
    assert PreventiveTrial.objects.get(patient=patient).drug == "propranolol"
    session = InjectionSession.objects.get(patient=patient)
    assert [(s.muscle, s.units, s.follow_the_pain) for s in session.sites.all()] == [
        ("procerus", 5, False),
        ("temporalis", 5, True),
    ]
    for kind in ("preventives", "sessions"):
        text = client.get(reverse("interop:patient_csv", args=[patient.external_id, kind])).content
        upload = SimpleUploadedFile(f"{kind}.csv", text, content_type="text/csv")
        response = client.post(url, {"action": "upload", "kind": kind, "file": upload})
        assert response.context["summary"].lines() == [f"{kind}: 0 created, 0 updated, 1 unchanged"]


def test_a_sessions_file_may_not_undo_or_rewrite_a_recorded_session(world, client):
    """A recorded session stays as recorded: a row turning it back into a booking, or changing its lot, is a problem
    of that row's date (nothing is written), as the session pages refuse to edit it. The line is the changing row's,
    not a cancelled booking's of the same day, and two changed sessions are two problems."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    number = patient.record_number
    url = reverse("interop:patient", args=[patient.external_id])
    recorded = (
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
        f"{number},2026-01-05,recorded,10,C1,2027-01-01,procerus:midline:5;temporalis:left:5:ftp,{PARTIAL}\n"
    )

    def upload(text: str):
        file = SimpleUploadedFile("sessions.csv", text.encode(), content_type="text/csv")
        return client.post(url, {"action": "upload", "kind": "sessions", "file": file})

    upload(recorded)
    session = InjectionSession.objects.get(patient=patient)
    cancelled_first = f"patient_id,date,status\n{number},2026-01-05,cancelled\n{number},2026-01-05,booked\n"
    for text, line, fields in (
        (
            f"patient_id,date,status\n{number},2026-01-05,booked\n",
            2,
            "status, units, lot, expiry, override reason, sites",
        ),
        (recorded.replace(",10,C1,", ",10,C2,"), 2, "lot"),
        (cancelled_first, 3, "status, units, lot, expiry, override reason, sites"),
    ):
        (problem,) = [str(problem) for problem in upload(text).context["problems"]]
        assert problem == (
            f"line {line}, column date: the session of 2026-01-05 is recorded, and the import would change its "
            f"{fields}; an import adds and books sessions but does not change one already recorded"
        )
    session.refresh_from_db()
    assert (session.status, session.product_lot, session.sites.count(), session.version) == ("recorded", "C1", 2, 1)
    second = recorded.splitlines()[1].replace("2026-01-05", "2026-04-06")
    upload(f"{recorded}{second}\n")
    both = f"{recorded}{second}\n".replace(",C1,", ",C9,")
    assert [(p.line, p.column) for p in upload(both).context["problems"]] == [(2, "date"), (3, "date")]


def test_a_session_recorded_after_today_is_refused_by_the_upload(world, client):
    """A sessions file recording a session on a day to come is refused at that row's date: it is booked instead."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    text = (
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
        f"{patient.record_number},{tomorrow},recorded,5,C1,2099-01-01,procerus:midline:5,{PARTIAL}\n"
    )
    file = SimpleUploadedFile("sessions.csv", text.encode(), content_type="text/csv")
    response = client.post(
        reverse("interop:patient", args=[patient.external_id]), {"action": "upload", "kind": "sessions", "file": file}
    )
    (problem,) = [str(p) for p in response.context["problems"]]
    assert problem == (
        f"line 2, column date: a recorded session on {tomorrow} is after today ({timezone.localdate()}): only what "
        "has happened is imported"
    )
    assert not InjectionSession.objects.filter(patient=patient).exists()


def test_only_checking_a_diary_file_names_the_stored_answers_it_would_replace(world, client):
    """ "Only check the file" of a diary CSV without the nausea column names the stored day whose nausea it would set
    to no, and saves nothing (the page said only "1 updated")."""
    from onaboard.web.interop.services import DIARY_DAY_CHANGES, DIARY_DAYS_CHANGED

    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = timezone.localdate() - dt.timedelta(days=1)
    DiaryEntry.objects.create(patient=patient, date=day, headache_hours=6, intensity="severe", nausea=True)
    text = f"patient_id,date,headache_hours,intensity\n{patient.record_number},{day},6,severe\n"
    response = _upload(client, patient, text, check_only=True)
    line = DIARY_DAYS_CHANGED.format(
        record_number=patient.record_number, count=1, days=DIARY_DAY_CHANGES.format(day=day, fields="nausea")
    )
    assert response.context["summary"].lines() == ["diary days: 0 created, 1 updated, 0 unchanged", line]
    assert f"<li>{line}</li>" in response.content.decode()
    assert DiaryEntry.objects.get(patient=patient, date=day).nausea


def test_a_patient_importing_their_own_diary_keeps_the_days_before_their_first_treatment(world, client):
    """A patient's own diary import (the command line's: the exchange page is the staff's) names each day before
    their first treatment by line and writes nothing; the same file uploaded by a nurse (the paper diary) is
    imported."""
    patient = world.own_patient
    today = timezone.localdate()
    first = today - dt.timedelta(days=10)
    InjectionSession.objects.create(patient=patient, date=first, status=SessionStatus.RECORDED)
    text = (
        HEADER
        + f"{patient.record_number},{first - dt.timedelta(days=1)},4,severe,yes\n"
        + f"{patient.record_number},{first + dt.timedelta(days=1)},0,,\n"
    )
    with pytest.raises(DiaryCsvInvalidError) as refused:
        diary_csv_import(user=world.users["patient"], clinic=patient.clinic, source=text, today=today, patient=patient)
    rows = [(p.line, p.column) for p in refused.value.problems]
    assert rows == [(2, "date")]
    assert "before your first treatment" in refused.value.problems[0].message
    assert not DiaryEntry.objects.filter(patient=patient).exists()
    client.force_login(world.users["nurse"])
    _upload(client, patient, text)
    assert DiaryEntry.objects.filter(patient=patient).count() == 2
