"""One open booking per patient (``one_open_booking_per_patient``).

Recordings of one patient at the same moment on PostgreSQL each booked a next session, and an import could add a
second booking, so a database may hold patients with several open bookings. Before the constraint is added, each such
patient keeps one: the earliest on or after the day of the migration (the one the worklist and the coverage page plan
the next session on, ``coverage.selectors.booking_ahead``), or, when every one has passed (missed), the latest. The
others are cancelled, not deleted (clinical records are never deleted; a cancelled booking stays on the calendar feed
as cancelled), each with an audit event naming the booking kept, so staff can see what happened and move the kept
booking if another day was the one agreed with the patient. Refusing to migrate instead would leave a clinic unable
to upgrade until someone edited the database by hand; cancelling keeps every row and says so.
"""

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

BOOKED, CANCELLED = "booked", "cancelled"


def _kept(bookings, today):
    """The booking a patient keeps of ``bookings`` (in date order): the first on or after ``today``, else the last."""
    return next((booking for booking in bookings if booking.date >= today), bookings[-1])


def cancel_duplicate_bookings(apps, schema_editor):
    """Cancel every open booking of a patient but the one ``_kept``, auditing each (see the module docstring)."""
    InjectionSession = apps.get_model("injections", "InjectionSession")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    today = timezone.localdate()
    doubled = (
        InjectionSession.objects.filter(status=BOOKED)
        .values("patient_id")
        .annotate(count=models.Count("id"))
        .filter(count__gt=1)
        .values_list("patient_id", flat=True)
    )
    for patient_id in list(doubled):
        bookings = list(
            InjectionSession.objects.select_related("patient")
            .filter(patient_id=patient_id, status=BOOKED)
            .order_by("date", "id")
        )
        kept = _kept(bookings, today)
        for booking in bookings:
            if booking.pk == kept.pk:
                continue
            InjectionSession.objects.filter(pk=booking.pk).update(
                status=CANCELLED, version=models.F("version") + 1, modified=timezone.now()
            )
            AuditEvent.objects.create(
                action="update",
                object_type="injection_session",
                object_id=str(booking.external_id),
                patient_id=kept.patient.external_id,
                detail=(
                    f"booking of {booking.date} cancelled by migration injections 0004: one open booking per "
                    f"patient (the booking of {kept.date} is kept)"
                ),
            )


class Migration(migrations.Migration):

    dependencies = [
        ("injections", "0003_side_effect_description_limit"),
        ("audit", "0003_user_protected"),
        ("patients", "0003_cardiovascular_disease"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Backwards the constraint is removed and the cancelled bookings stay cancelled (their audit events say why).
    operations = [
        migrations.RunPython(cancel_duplicate_bookings, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="injectionsession",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "booked")),
                fields=("patient",),
                name="one_open_booking_per_patient",
            ),
        ),
    ]
