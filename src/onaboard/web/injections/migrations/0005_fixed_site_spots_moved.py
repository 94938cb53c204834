"""Fixed sites stored on the site map's spots before b30771e move to the spots drawn since.

Each site's view, x and y are stored with the session when it is recorded (``services._site_record``: a fixed site
on its drawing position, ``sitemap.FIXED_POSITIONS``). b30771e moved eight fixed spots per side so that no two dots
overlap, so a session recorded before it still drew the old, overlapping dots, and the session page, which numbers
a fixed site by the spot it was drawn on (``selectors.FIXED_SPOT_NUMBERS``), no longer recognised them: a session
that left a site out was numbered in the order given (temporalis left 1, 2, 3 instead of 1, 3, 4).

This rewrites the view, x, y of every fixed (not follow-the-pain) site that sits exactly on an old spot of its own
muscle and side to that site's new spot. A follow-the-pain site is never touched (it stays where it was clicked or
placed), nor is a fixed site anywhere else (already on a new spot, or placed by an import). The table is frozen here
as b30771e changed it (``git show b30771e -- src/onaboard/web/injections/sitemap.py``), not read from the sitemap
module, so a later move of the spots does not change what this migration did; a later move needs its own migration.

Backwards nothing is changed: the code before this migration already draws and numbers fixed sites on the new spots
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


def _both_sides():
    """Each move of ``MOVED`` for both sides: (muscle, side, view, old x, old y, new x, new y)."""
    for muscle, view, old_x, old_y, new_x, new_y in MOVED:
        near = VIEWER_LEFT[view]
        far = LEFT if near == RIGHT else RIGHT
        yield muscle, near, view, old_x, old_y, new_x, new_y
        yield muscle, far, view, MAP_SIZE - old_x, old_y, MAP_SIZE - new_x, new_y


def move_fixed_sites(apps, schema_editor):
    """Move every fixed site stored on an old spot of its muscle and side to the new spot (see the docstring)."""
    InjectionSiteRecord = apps.get_model("injections", "InjectionSiteRecord")
    for muscle, side, view, old_x, old_y, new_x, new_y in _both_sides():
        InjectionSiteRecord.objects.filter(
            follow_the_pain=False, muscle=muscle, side=side, view=view, x=old_x, y=old_y
        ).update(x=new_x, y=new_y)


class Migration(migrations.Migration):
    dependencies = [
        ("injections", "0004_one_open_booking_per_patient"),
    ]

    # Backwards nothing changes (the module docstring says why).
    operations = [
        migrations.RunPython(move_fixed_sites, migrations.RunPython.noop),
    ]
