"""The base every onaboard model stands on: a public UUID and created/modified times."""

from __future__ import annotations

import uuid

from django.db import models


class BaseModel(models.Model):
    """Public ids are UUIDs (``external_id``); integer keys never leave the server."""

    external_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
