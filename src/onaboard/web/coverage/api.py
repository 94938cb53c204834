"""API operations of the coverage app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["coverage"])
