"""Patient API operations; each goes through patients/access.py."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["patients"])
