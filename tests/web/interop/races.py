"""A race a single database connection cannot run, simulated for the import tests of the services and the commands."""

from __future__ import annotations


def registered_meanwhile(monkeypatch, *, for_good: bool = False) -> None:
    """Make the import's look for its patient find none, as when another import registered them after it looked (a
    race a single connection cannot run): they are seen again once the import has tried to register them, or never
    with ``for_good``."""
    from onaboard.web.interop import services

    lookup, create = services._stored_patient, services.patient_create
    blind = [True]

    def registering(**kwargs):
        blind[0] = for_good
        return create(**kwargs)

    monkeypatch.setattr(
        services, "_stored_patient", lambda clinic, number: None if blind[0] else lookup(clinic, number)
    )
    monkeypatch.setattr(services, "patient_create", registering)
