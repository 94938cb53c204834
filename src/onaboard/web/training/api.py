"""API operations of the training app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["training"])
