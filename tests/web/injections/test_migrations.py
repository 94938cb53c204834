"""Injections migrations that change stored rows: 0004 leaves one open booking per patient before its constraint;
0005 moves fixed sites and unclicked extra sites stored on the site map's spots before b30771e to the spots drawn
since."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from onaboard.clinical import FIXED_SITES, Muscle, Side, preempt_plan
from onaboard.web.injections import selectors, sitemap
from tests.web.migrating import latest_migration, migrate_to

BEFORE = ("injections", "0003_side_effect_description_limit")
AFTER = ("injections", "0004_one_open_booking_per_patient")
BEFORE_SPOTS = AFTER
AFTER_SPOTS = ("injections", "0005_site_map_spots_moved")


@pytest.mark.django_db(transaction=True)
def test_0004_keeps_one_open_booking_per_patient_and_cancels_the_others_with_an_audit_event():
    """Before its constraint, 0004 leaves each patient one open booking: the earliest on or after today (a missed one
    and a later one are cancelled), or the latest when all have passed; the cancelled rows are kept with their
    version bumped and an audit event naming the booking kept. A patient's single booking and recorded sessions are
    untouched, and the constraint then refuses a second booking."""
    today = timezone.localdate()
    try:
        apps = migrate_to(BEFORE)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        patients = apps.get_model("patients", "Patient").objects
        doubled, missed, single = (
            patients.create(clinic=clinic, record_number=f"MRN{n}", birth_date=dt.date(1984, 5, 17)) for n in range(3)
        )
        sessions = apps.get_model("injections", "InjectionSession").objects

        def book(patient, days, status="booked"):
            return sessions.create(patient=patient, date=today + dt.timedelta(days=days), status=status)

        recorded, gone, ahead, after = (
            book(doubled, -60, "recorded"),
            book(doubled, -5),
            book(doubled, 9),
            book(doubled, 20),
        )
        first_missed, last_missed = book(missed, -30), book(missed, -10)
        alone = book(single, 30)

        apps = migrate_to(AFTER)
        sessions = apps.get_model("injections", "InjectionSession").objects
        states = {row.pk: (row.status, row.version) for row in sessions.all()}
        assert states == {
            recorded.pk: ("recorded", 1),
            gone.pk: ("cancelled", 2),
            ahead.pk: ("booked", 1),
            after.pk: ("cancelled", 2),
            first_missed.pk: ("cancelled", 2),
            last_missed.pk: ("booked", 1),
            alone.pk: ("booked", 1),
        }
        events = apps.get_model("audit", "AuditEvent").objects.filter(object_type="injection_session")
        assert sorted((event.object_id, event.patient_id, event.detail) for event in events) == sorted(
            (str(cancelled.external_id), patient.external_id, _detail(cancelled, kept))
            for cancelled, kept, patient in (
                (gone, ahead, doubled),
                (after, ahead, doubled),
                (first_missed, last_missed, missed),
            )
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            sessions.create(patient_id=single.pk, date=today + dt.timedelta(days=40), status="booked")
    finally:
        migrate_to(latest_migration("injections"))


def _detail(cancelled, kept) -> str:
    """The audit detail 0004 writes for a cancelled booking."""
    return (
        f"booking of {cancelled.date} cancelled by migration injections 0004: one open booking per patient (the "
        f"booking of {kept.date} is kept)"
    )


OLD_SPOTS = {
    (Muscle.FRONTALIS, 2): (380, 232),
    (Muscle.TEMPORALIS, 1): (322, 170),
    (Muscle.TEMPORALIS, 2): (292, 228),
    (Muscle.TEMPORALIS, 3): (338, 262),
    (Muscle.TEMPORALIS, 4): (300, 310),
    (Muscle.OCCIPITALIS, 1): (448, 500),
    (Muscle.OCCIPITALIS, 3): (334, 452),
    (Muscle.CERVICAL_PARASPINAL, 2): (452, 725),
}
"""The fixed sites b30771e moved, where the map drew them before it on the side drawn on the viewer's left (the
patient's right on the front view, the patient's left on the back), read from ``git show b30771e``."""


def _old_spot(muscle: Muscle, side: Side, index: int) -> tuple[str, int, int]:
    """Where the map drew a fixed site before b30771e (view, x, y): its spot now unless b30771e moved it."""
    point = sitemap.FIXED_POSITIONS[muscle, side, index]
    if (muscle, index) not in OLD_SPOTS:
        return point.view.value, point.x, point.y
    x, y = OLD_SPOTS[muscle, index]
    viewer_left = Side.RIGHT if point.view is sitemap.View.FRONT else Side.LEFT
    return point.view.value, (x if side is viewer_left else 1000 - x), y


def _spots_of(rows) -> dict[int, tuple[str, int | None, int | None]]:
    """Each site row's place on the map, by primary key."""
    return {row.pk: (row.view, row.x, row.y) for row in rows}


def _spots_after_moving() -> dict[int, tuple[str, int | None, int | None]]:
    """Every stored site's place once migration 0005 has run (``AFTER_SPOTS``)."""
    apps = migrate_to(AFTER_SPOTS)
    return _spots_of(apps.get_model("injections", "InjectionSiteRecord").objects.all())


def _fixed_sites() -> list[tuple[Muscle, Side, int]]:
    """Every fixed site as (muscle, side, number within muscle and side), in PREEMPT order."""
    listed = []
    for muscle, sides in FIXED_SITES.items():
        seen: dict[Side, int] = {}
        for side in sides:
            seen[side] = seen.get(side, 0) + 1
            listed.append((muscle, side, seen[side]))
    return listed


@pytest.mark.django_db(transaction=True)
def test_0005_moves_fixed_sites_stored_on_the_old_spots_to_the_new_ones():
    """A session recorded before b30771e (every fixed site but temporalis left 2 on the old spots, both sides)
    reads back on today's spots, numbered by them (temporalis left 1, 3, 4, not 1, 2, 3); a follow-the-pain site on
    an old spot, a fixed site already on its new spot, one of another muscle or of the other side on an old spot,
    and one without a point are left as they were."""
    try:
        apps = migrate_to(BEFORE_SPOTS)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        patient = apps.get_model("patients", "Patient").objects.create(
            clinic=clinic, record_number="MRN1", birth_date=dt.date(1984, 5, 17)
        )
        sessions = apps.get_model("injections", "InjectionSession").objects
        old, new = (sessions.create(patient=patient, date=dt.date(2026, day, 1), status="recorded") for day in (3, 6))
        sites = apps.get_model("injections", "InjectionSiteRecord").objects

        def site(session, muscle, side, view, x, y, *, extra=False):
            return sites.create(
                session=session, muscle=muscle, side=side, units=5, follow_the_pain=extra, view=view, x=x, y=y
            )

        skipped = (Muscle.TEMPORALIS, Side.LEFT, 2)
        moved = {
            (muscle, side, index): site(old, muscle, side, *_old_spot(muscle, side, index))
            for muscle, side, index in _fixed_sites()
            if (muscle, side, index) != skipped
        }
        kept = [
            site(old, "occipitalis", "left", "back", 334, 452, extra=True),
            site(new, "temporalis", "right", "front", 326, 146),
            site(new, "cervical_paraspinal", "left", "back", 448, 500),
            site(new, "temporalis", "left", "front", 322, 170),
            site(new, "trapezius", "left", "back", None, None),
        ]
        before = _spots_of(kept)

        spots = _spots_after_moving()
        for (muscle, side, index), row in moved.items():
            point = sitemap.FIXED_POSITIONS[muscle, side, index]
            assert spots[row.pk] == (point.view.value, point.x, point.y), (muscle, side, index)
        assert {pk: spots[pk] for pk in before} == before  # untouched

        migrate_to(latest_migration("injections"))
        from onaboard.web.injections.models import InjectionSession

        drawn = selectors.session_map_sites(InjectionSession.objects.get(pk=old.pk))
        spots_now = sitemap.FIXED_POSITIONS
        temporalis_left = [(s.index, s.x, s.y) for s in drawn if (s.muscle, s.side) == (Muscle.TEMPORALIS, Side.LEFT)]
        assert temporalis_left == [
            (n, spots_now[Muscle.TEMPORALIS, Side.LEFT, n].x, spots_now[Muscle.TEMPORALIS, Side.LEFT, n].y)
            for n in (1, 3, 4)
        ]
        fixed = {(s.muscle, s.side, s.index): (s.view, s.x, s.y) for s in drawn if not s.follow_the_pain}
        assert fixed == {
            key: (point.view, point.x, point.y) for key, point in sitemap.FIXED_POSITIONS.items() if key != skipped
        }
    finally:
        migrate_to(latest_migration("injections"))


OLD_DEFAULTS = {
    Muscle.TEMPORALIS: ((346, 212), (278, 275)),
    Muscle.OCCIPITALIS: ((420, 444), (350, 510)),
    Muscle.TRAPEZIUS: ((320, 900), (240, 908), (400, 870), (150, 905)),
}
"""The default follow-the-pain spots before b30771e (where an extra site added from the form was drawn, in turn), on
the side drawn on the viewer's left, read from ``git show 322e416:src/onaboard/web/injections/sitemap.py``."""

DEMO_FOLLOW_THE_PAIN = {"temporalis": 2, "trapezius": 2}
"""The most extra sites of a demo patient's session at 322e416 (``clinic.demo``)."""


def _old_default(muscle: Muscle, side: Side, number: int) -> tuple[str, int, int]:
    """Where the map drew the ``number``-th extra site of a muscle and side added from the form before b30771e."""
    region = sitemap.region_for(muscle, side)
    assert region is not None
    x, y = OLD_DEFAULTS[muscle][number - 1]
    viewer_left = Side.RIGHT if region.view is sitemap.View.FRONT else Side.LEFT
    return region.view.value, (x if side is viewer_left else 1000 - x), y


def _too_close(sites) -> list[tuple[str, str, float]]:
    """Every two dots of one view (``(key, view, x, y)``) closer than ``sitemap.MIN_DOT_DISTANCE``."""
    listed = list(sites)
    return [
        (key, other, round(math.hypot(x - ox, y - oy), 1))
        for number, (key, view, x, y) in enumerate(listed)
        for other, other_view, ox, oy in listed[number + 1 :]
        if view == other_view and math.hypot(x - ox, y - oy) < sitemap.MIN_DOT_DISTANCE
    ]


@pytest.mark.django_db(transaction=True)
def test_0005_moves_extra_sites_on_the_old_default_spots_to_the_new_ones():
    """An extra site added from the form before b30771e sits on an old default spot of its muscle and side (the
    demo's trapezius sites at (320, 900) and (680, 900), 48.8 from the fixed trapezius site at (280, 872)); 0005 moves
    it to that spot's new place, every old spot of every area on both sides, so the demo's session at 322e416 draws no
    two dots closer than MIN_DOT_DISTANCE. A clicked extra site elsewhere, a fixed site or another muscle's extra site
    on an old default spot, an extra site of the other side on the unmirrored spot, and one without a point stay."""
    try:
        apps = migrate_to(BEFORE_SPOTS)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        patient = apps.get_model("patients", "Patient").objects.create(
            clinic=clinic, record_number="MRN1", birth_date=dt.date(1984, 5, 17)
        )
        sessions = apps.get_model("injections", "InjectionSession").objects
        every, demo, other = (
            sessions.create(patient=patient, date=dt.date(2026, month, 1), status="recorded") for month in (3, 6, 9)
        )
        sites = apps.get_model("injections", "InjectionSiteRecord").objects

        def site(session, muscle, side, view, x, y, *, extra=True):
            return sites.create(
                session=session, muscle=muscle, side=side, units=5, follow_the_pain=extra, view=view, x=x, y=y
            )

        moved = {
            (region.muscle, region.side, number): site(
                every, region.muscle, region.side, *_old_default(region.muscle, region.side, number)
            )
            for region in sitemap.FOLLOW_THE_PAIN_REGIONS
            for number in range(1, len(OLD_DEFAULTS[region.muscle]) + 1)
        }
        old_demo = [
            (
                drawn.key,
                *(
                    _old_default(drawn.muscle, drawn.side, drawn.index)
                    if drawn.follow_the_pain
                    else _old_spot(drawn.muscle, drawn.side, drawn.index)
                ),
            )
            for drawn in sitemap.plan_map_sites(preempt_plan(follow_the_pain=DEMO_FOLLOW_THE_PAIN))
        ]
        assert _too_close(old_demo)  # the overlap the reviewer saw
        for key, view, x, y in old_demo:
            muscle, side = key.removeprefix("ftp-").split("-")[:2]
            site(demo, muscle, side, view, x, y, extra=key.startswith("ftp-"))
        kept = [
            site(other, "trapezius", "left", "back", 300, 905),
            site(other, "trapezius", "left", "back", 320, 900, extra=False),
            site(other, "occipitalis", "left", "back", 320, 900),
            site(other, "trapezius", "right", "back", 320, 900),
            site(other, "temporalis", "left", "front", 278, 275),
            site(other, "trapezius", "left", "back", None, None),
        ]
        before = _spots_of(kept)

        spots = _spots_after_moving()
        for (muscle, side, number), row in moved.items():
            point = sitemap.follow_the_pain_default(muscle, side, number)
            assert spots[row.pk] == (point.view.value, point.x, point.y), (muscle, side, number)
        assert {pk: spots[pk] for pk in before} == before  # untouched

        migrate_to(latest_migration("injections"))
        from onaboard.web.injections.models import InjectionSession

        drawn = selectors.session_map_sites(InjectionSession.objects.get(pk=demo.pk))
        fresh = sitemap.plan_map_sites(preempt_plan(follow_the_pain=DEMO_FOLLOW_THE_PAIN))
        assert sorted((s.key, s.view, s.x, s.y) for s in drawn) == sorted((s.key, s.view, s.x, s.y) for s in fresh)
        assert _too_close((s.key, s.view, s.x, s.y) for s in drawn) == []
    finally:
        migrate_to(latest_migration("injections"))


BEFORE_SUBMISSION = AFTER_SPOTS
AFTER_SUBMISSION = ("injections", "0006_side_effect_submission")


@pytest.mark.django_db(transaction=True)
def test_0006_keeps_reports_without_a_token_and_refuses_a_second_with_one():
    """Side effects reported before 0006 keep no submission token (two identical ones stay two reports); after it
    the database refuses a second report of one patient with the same token, but not another patient's."""
    try:
        apps = migrate_to(BEFORE_SUBMISSION)
        clinic = apps.get_model("accounts", "Clinic").objects.create(name="North Headache Clinic")
        patients = apps.get_model("patients", "Patient").objects
        one, two = (
            patients.create(clinic=clinic, record_number=f"MRN{n}", birth_date=dt.date(1984, 5, 17)) for n in range(2)
        )
        answers = {"kind": "myalgia", "onset": dt.date(2026, 3, 1), "severity": "mild"}
        side_effects = apps.get_model("injections", "SideEffect").objects
        old = [side_effects.create(patient=one, **answers) for _ in range(2)]

        apps = migrate_to(AFTER_SUBMISSION)
        side_effects = apps.get_model("injections", "SideEffect").objects
        assert sorted(side_effects.values_list("pk", "submission")) == sorted((row.pk, None) for row in old)
        side_effects.create(patient_id=one.pk, **answers)  # still none: any number
        token = uuid.uuid4()
        side_effects.create(patient_id=one.pk, submission=token, **answers)
        side_effects.create(patient_id=two.pk, submission=token, **answers)
        with pytest.raises(IntegrityError), transaction.atomic():
            side_effects.create(patient_id=one.pk, submission=token, **answers)
        assert side_effects.filter(patient_id=one.pk).count() == 4
    finally:
        migrate_to(latest_migration("injections"))
