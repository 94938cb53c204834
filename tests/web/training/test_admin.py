"""The training records' admin (training/admin.py): certificates are listed with the clinic that issued them and
can be revoked there, and nothing else about them can be changed."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from onaboard.web.accounts.models import Role
from onaboard.web.training.models import Certificate
from tests.web.factories import UserFactory


def _certificate(world) -> Certificate:
    return Certificate.objects.create(
        trainee=world.users["trainee"],
        holder_name="Tam Oyelaran",
        issued_by="North Headache Clinic",
        issued_on=dt.date(2026, 6, 1),
    )


def test_the_certificate_list_names_the_issuing_clinic_and_finds_it(client, superuser, world):
    """The certificate list shows the clinic that issued each certificate, and a search on the clinic finds it."""
    issued = _certificate(world)
    client.force_login(superuser)
    listing = client.get(reverse("admin:training_certificate_changelist"), {"q": "North Headache"})
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "North Headache Clinic" in html
    assert issued.code in html


def test_revoking_a_certificate_keeps_its_holder_clinic_and_date(client, superuser, world):
    """The change form revokes a certificate; the holder, the issuing clinic, the date and the code are shown
    read-only and a posted change to them is ignored."""
    issued = _certificate(world)
    client.force_login(superuser)
    address = reverse("admin:training_certificate_change", args=[issued.pk])
    assert "North Headache Clinic" in client.get(address).content.decode()
    response = client.post(address, {"revoked": "on", "issued_by": "Elsewhere", "holder_name": "Someone Else"})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert (issued.revoked, issued.issued_by, issued.holder_name) == (True, "North Headache Clinic", "Tam Oyelaran")


def test_a_clinics_administrator_reaches_only_their_own_clinics_training_records(client, superuser, world):
    """An administrator of a clinic lists and can revoke only certificates of their own clinic's trainees; another
    clinic's certificate is neither listed nor revoked by a posted change, and the operator (of no clinic) sees both."""
    own = _certificate(world)
    far_trainee = UserFactory(username="far.trainee", role=Role.TRAINEE, clinic=world.other_clinic)
    far = Certificate.objects.create(
        trainee=far_trainee, holder_name="Far Trainee", issued_by="Far Clinic", issued_on=dt.date(2026, 6, 2)
    )
    client.force_login(superuser)
    listing = client.get(reverse("admin:training_certificate_changelist")).content.decode()
    assert own.code in listing
    assert far.code not in listing
    client.post(reverse("admin:training_certificate_change", args=[far.pk]), {"revoked": "on"})
    far.refresh_from_db()
    assert not far.revoked
    type(superuser).objects.filter(pk=superuser.pk).update(clinic=None)
    client.force_login(type(superuser).objects.get(pk=superuser.pk))
    assert far.code in client.get(reverse("admin:training_certificate_changelist")).content.decode()
