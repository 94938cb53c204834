"""Sites stored on the site map's spots before b30771e move to the spots drawn since: fixed sites, and extra
(follow-the-pain) sites added from the form without a click.

Each site's view, x and y are stored with the session when it is recorded (``services._site_record``): a fixed site
on its drawing position (``sitemap.FIXED_POSITIONS``), an extra site where it was clicked in its muscle's area or,
added from the form, on its area's default spot for its number (``sitemap.follow_the_pain_default``). b30771e moved
eight fixed spots per side and the default spots of every area so that no two dots overlap, so a session recorded
before it still drew the old, overlapping dots: the session page, which numbers a fixed site by the spot it was drawn
on (``selectors.FIXED_SPOT_NUMBERS``), no longer recognised them (a session that left a site out was numbered in the
order given: temporalis left 1, 2, 3 instead of 1, 3, 4), and an extra site added from the form stayed on its old
default spot, over or beside a fixed dot (the demo's trapezius extra site at (320, 900), 48.8 map units from the
fixed trapezius site at (280, 872), less than ``sitemap.MIN_DOT_DISTANCE``).

This rewrites the view, x, y of every fixed site that sits exactly on an old fixed spot of its own muscle and side to
that site's new spot, and of every extra site that sits exactly on an old default spot of its own muscle and side to
the same default spot's new place (the n-th default spot before b30771e to the n-th since). A fixed site anywhere
else (already on a new spot, or placed by an import) and an extra site anywhere else (clicked by the clinician, or
placed by an import) stay. An extra site clicked exactly on an old default spot cannot be told from one added from
the form and moves too, within its own area. The tables are frozen here as b30771e changed them (``git show b30771e
-- src/onaboard/web/injections/sitemap.py``), not read from the sitemap module, so a later move of the spots does not
change what this migration did; a later move needs its own migration. The only later change to the default spots up
to this migration, fe72890, added occipitalis's third and fourth spots and moved none. A site is moved by the spot it
sits on, not by its number: an extra site past its area's old spots (drawn on the first spot again) moves with that
spot, where the site map before fe72890 drew it too.

Backwards nothing is changed: the code before this migration already draws and numbers sites on the new spots
(b30771e came first), so the rows moved are right for it too, and a row on a new spot cannot be told apart from one
recorded after b30771e.
"""

from django.db import migrations

MAP_SIZE = 1000
"""The map's 0..1000 coordinate space: the other side of a view is mirrored about x = 500."""

FRONT, BACK = "front", "back"
LEFT, RIGHT = "left", "right"

VIEWER_LEFT = {FRONT: RIGHT, BACK: LEFT}
"""The patient's side drawn on the viewer's left: the front view faces the viewer, the back view is seen from behind."""

MOVED = (
    # (muscle, view, old x, old y, new x, new y) for the side drawn on the viewer's left
    ("frontalis", FRONT, 380, 232, 394, 166),  # frontalis 2
    ("temporalis", FRONT, 322, 170, 326, 146),  # temporalis 1
    ("temporalis", FRONT, 292, 228, 300, 260),  # temporalis 2
    ("temporalis", FRONT, 338, 262, 366, 282),  # temporalis 3
    ("temporalis", FRONT, 300, 310, 300, 326),  # temporalis 4
    ("occipitalis", BACK, 448, 500, 454, 500),  # occipitalis 1
    ("occipitalis", BACK, 334, 452, 328, 452),  # occipitalis 3
    ("cervical_paraspinal", BACK, 452, 725, 452, 728),  # cervical paraspinal 2
)
"""The fixed spots b30771e moved, old and new. No new spot is an old spot of the same muscle and side, so the order
the rows are moved in does not matter."""

DEFAULTS_MOVED = (
    # (muscle, view, old x, old y, new x, new y) for the side drawn on the viewer's left; temporalis's first default
    # spot, (346, 212), did not move
    ("temporalis", FRONT, 278, 275, 366, 348),  # temporalis default spot 2
    ("occipitalis", BACK, 420, 444, 420, 418),  # occipitalis default spot 1
    ("occipitalis", BACK, 350, 510, 360, 388),  # occipitalis default spot 2
    ("trapezius", BACK, 320, 900, 320, 935),  # trapezius default spot 1
    ("trapezius", BACK, 240, 908, 240, 955),  # trapezius default spot 2
    ("trapezius", BACK, 400, 870, 400, 925),  # trapezius default spot 3
    ("trapezius", BACK, 150, 905, 160, 950),  # trapezius default spot 4
)
"""The default follow-the-pain spots b30771e moved, old and new (``FOLLOW_THE_PAIN_REGIONS``). No new spot is an
old default spot of the same muscle and side, so the order the rows are moved in does not matter."""


def _both_sides(table):
    """Each move of a table for both sides: (muscle, side, view, old x, old y, new x, new y)."""
    for muscle, view, old_x, old_y, new_x, new_y in table:
        near = VIEWER_LEFT[view]
        far = LEFT if near == RIGHT else RIGHT
        yield muscle, near, view, old_x, old_y, new_x, new_y
        yield muscle, far, view, MAP_SIZE - old_x, old_y, MAP_SIZE - new_x, new_y


def move_sites(apps, schema_editor):
    """Move every fixed site stored on an old fixed spot, and every extra site stored on an old default spot, of its
    muscle and side to the new spot (see the module docstring)."""
    InjectionSiteRecord = apps.get_model("injections", "InjectionSiteRecord")
    for follow_the_pain, table in ((False, MOVED), (True, DEFAULTS_MOVED)):
        for muscle, side, view, old_x, old_y, new_x, new_y in _both_sides(table):
            InjectionSiteRecord.objects.filter(
                follow_the_pain=follow_the_pain, muscle=muscle, side=side, view=view, x=old_x, y=old_y
            ).update(x=new_x, y=new_y)


class Migration(migrations.Migration):
    dependencies = [
        ("injections", "0004_one_open_booking_per_patient"),
    ]

    # Backwards nothing changes (the module docstring says why).
    operations = [
        migrations.RunPython(move_sites, migrations.RunPython.noop),
    ]
