"""When the audit row named by ONABOARD_CRASHPOINT_OBJECT is saved (inside its service's transaction), write the
file ONABOARD_CRASHPOINT_FILE and wait: the test then kills the server with the transaction still open."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save

HOLD_SECONDS = 120


def _hold(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    wanted = os.environ.get("ONABOARD_CRASHPOINT_OBJECT")
    marker = os.environ.get("ONABOARD_CRASHPOINT_FILE")
    if not (created and wanted and marker) or instance.object_type != wanted:
        return
    Path(marker).write_text(f"{instance.object_type} {instance.object_id}\n", encoding="utf-8")
    time.sleep(HOLD_SECONDS)


class CrashpointConfig(AppConfig):
    name = "tests.ops.crashpoint"
    label = "ops_crashpoint"

    def ready(self) -> None:
        from onaboard.web.audit.models import AuditEvent

        post_save.connect(_hold, sender=AuditEvent, dispatch_uid="ops_crashpoint")
