"""The coverage policies shipped with onaboard, one TOML file each, read with ``onaboard.clinical.load_policy``.

Each file's name is its policy id (``nice-ta260.toml`` holds ``id = "nice-ta260"``). docs/policies.md describes the
schema, how a clinic adds or edits a policy, and what each shipped policy's sources confirm. The engine itself does
no I/O: this package reads the files and hands their text to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType

from onaboard.clinical.coverage import CoveragePolicy, PolicyError, load_policy

__all__ = ["FILE_NAME_MISMATCH", "UNKNOWN_POLICY", "load_policy_file", "shipped_policies", "shipped_policy"]

FILE_NAME_MISMATCH = "id: must match the file name {expected} (got {got})"
UNKNOWN_POLICY = "no shipped policy {policy_id!r}; shipped: {known}"


@cache
def shipped_policies() -> Mapping[str, CoveragePolicy]:
    """Every shipped policy, loaded and validated, keyed by id in file-name order.

    Raises ``PolicyError`` for a file that breaks the schema or whose id differs from its file name.
    """
    policies: dict[str, CoveragePolicy] = {}
    files = sorted(
        (entry for entry in resources.files(__package__).iterdir() if entry.name.endswith(".toml")),
        key=lambda entry: entry.name,
    )
    for entry in files:
        policy = load_policy_file(entry.name, entry.read_text(encoding="utf-8"))
        policies[policy.id] = policy
    return MappingProxyType(policies)


def load_policy_file(name: str, text: str) -> CoveragePolicy:
    """One policy file's text, validated, whose id must be its file name without ``.toml``."""
    policy = load_policy(text, source=name)
    expected = name.removesuffix(".toml")
    if policy.id != expected:
        raise PolicyError(name, [FILE_NAME_MISMATCH.format(expected=f'"{expected}"', got=f'"{policy.id}"')])
    return policy


def shipped_policy(policy_id: str) -> CoveragePolicy:
    """One shipped policy by id; ``KeyError`` naming the shipped ids when there is none."""
    policies = shipped_policies()
    if policy_id not in policies:
        raise KeyError(UNKNOWN_POLICY.format(policy_id=policy_id, known=", ".join(policies)))
    return policies[policy_id]
