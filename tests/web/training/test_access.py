"""Who may do what in training: scheduling a live session needs a trainer of a clinic."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from onaboard.web.accounts.models import Role
from onaboard.web.training.access import may_schedule, require_scheduler
from tests.web.factories import UserFactory


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("clinician", True), ("admin", True), ("nurse", False), ("trainee", False), ("billing", False)],
)
def test_only_a_trainer_of_a_clinic_may_schedule(world, role, allowed):
    """Clinicians and administrators of a clinic may schedule a session; the same roles with no clinic may not, nor
    may nurses, trainees or billing staff with one."""
    user = world.users[role]
    assert may_schedule(user) is allowed
    without = UserFactory(username=f"{role}.noclinic", role=Role(role), clinic=None)
    assert may_schedule(without) is False
    with pytest.raises(PermissionDenied):
        require_scheduler(without)
    if allowed:
        require_scheduler(user)
