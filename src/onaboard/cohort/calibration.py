"""The published figures a cohort is calibrated to and compared with, read from ``calibration.toml`` beside this module.

The file is the one place these numbers live: the synthetic generator (synth.py) aims at them, the calibration test
checks that a generated cohort lands near them, and the cohort report prints them beside a cohort's own figures.
Each figure carries its source in readable words (the report prints it), the section of shared/domain/clinical-facts.md
that holds it (``facts``, never printed) and its status there (CONFIRMED or UNCONFIRMED); the label's adverse-reaction
table is UNCONFIRMED and is shown as such wherever it appears.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

__all__ = ["AdverseReaction", "Calibration", "Target", "calibration"]

CALIBRATION_FILE = "calibration.toml"
BAD_PERCENT = "{file}: adverse reaction {event}: placebo_percent must be a number or a bound like '<1' (got {value!r})"


@dataclass(frozen=True, slots=True)
class Target:
    """One published figure: a value, or a range ``low..high`` when sources disagree, with its source and status.

    ``source`` is the citation readers see in the report (no file or section names); ``facts`` is the section of
    shared/domain/clinical-facts.md that records the figure and its status, for whoever checks it.
    """

    name: str
    description: str
    unit: str
    source: str
    status: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance: float | None = None
    facts: str = ""

    @property
    def centre(self) -> float:
        """The value, or the middle of the range."""
        if self.value is not None:
            return self.value
        low, high = self.bounds
        return (low + high) / 2

    @property
    def bounds(self) -> tuple[float, float]:
        """``low, high`` of a range target (a value target is its own range)."""
        if self.value is not None:
            return self.value, self.value
        if self.low is None or self.high is None:
            raise ValueError(f"target {self.name} has neither a value nor a range")
        return self.low, self.high

    @property
    def text(self) -> str:
        """The figure as people read it: ``19.9`` or ``44.8-47.1``."""
        if self.value is not None:
            return f"{self.value:g}"
        return f"{self.low:g}-{self.high:g}"

    def near(self, observed: float) -> bool:
        """Whether ``observed`` lies within ``tolerance`` of the value, or of the range."""
        tolerance = self.tolerance or 0.0
        if self.value is not None:
            return abs(observed - self.value) <= tolerance
        low, high = self.bounds
        return low - tolerance <= observed <= high + tolerance


@dataclass(frozen=True, slots=True)
class AdverseReaction:
    """One row of the label's chronic-migraine adverse-reaction table: the event code and the two arms' %.

    Where the label prints a bound instead of a figure (eyelid ptosis on placebo: "<1", clinical-facts.md 2.1),
    ``placebo_percent`` is None and ``placebo_text`` holds the bound: no made-up point value stands in for it.
    ``placebo_text`` is the placebo figure as the label prints it in every row ("3", "<1").
    """

    event: str
    name: str
    botox_percent: float
    placebo_percent: float | None
    placebo_text: str


@dataclass(frozen=True, slots=True)
class Calibration:
    """Every target by name, and the label's adverse-reaction table with its source, status and arm sizes."""

    targets: Mapping[str, Target]
    adverse_reactions: tuple[AdverseReaction, ...]
    adverse_reactions_source: str
    adverse_reactions_status: str
    adverse_reactions_facts: str
    botox_n: int
    placebo_n: int


_BOUND = re.compile(r"<\d+(\.\d+)?")
"""A percentage the label prints as an upper bound (``<1``)."""


def _placebo_percent(event: str, value: Any) -> float | None:
    """A row's placebo percentage: the number, or None where the label prints a bound (``"<1"``)."""
    if isinstance(value, str) and _BOUND.fullmatch(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise ValueError(BAD_PERCENT.format(file=CALIBRATION_FILE, event=event, value=value))


def _percent_text(value: int | float | str) -> str:
    """A percentage as the label prints it: ``3``, ``0.5`` or ``<1``."""
    return value if isinstance(value, str) else f"{value:g}"


def _target(name: str, entry: Mapping[str, Any]) -> Target:
    has_value = "value" in entry
    has_range = "low" in entry and "high" in entry
    if has_value == has_range:
        raise ValueError(f"{CALIBRATION_FILE}: target {name} needs either value or low and high")
    return Target(
        name=name,
        description=entry["description"],
        unit=entry["unit"],
        source=entry["source"],
        status=entry["status"],
        value=entry.get("value"),
        low=entry.get("low"),
        high=entry.get("high"),
        tolerance=entry.get("tolerance"),
        facts=entry.get("facts", ""),
    )


@cache
def calibration() -> Calibration:
    """The targets and the label's adverse-reaction table, read once from ``calibration.toml``."""
    data = tomllib.loads(files("onaboard.cohort").joinpath(CALIBRATION_FILE).read_text(encoding="utf-8"))
    reactions = data["adverse_reactions"]
    return Calibration(
        targets=MappingProxyType({name: _target(name, entry) for name, entry in data["targets"].items()}),
        adverse_reactions=tuple(
            AdverseReaction(
                event=row["event"],
                name=row["name"],
                botox_percent=float(row["botox_percent"]),
                placebo_percent=_placebo_percent(row["event"], row["placebo_percent"]),
                placebo_text=_percent_text(row["placebo_percent"]),
            )
            for row in reactions["rows"]
        ),
        adverse_reactions_source=reactions["source"],
        adverse_reactions_status=reactions["status"],
        adverse_reactions_facts=reactions.get("facts", ""),
        botox_n=int(reactions["botox_n"]),
        placebo_n=int(reactions["placebo_n"]),
    )
