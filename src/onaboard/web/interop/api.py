"""API operations of the interop app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["interop"])
