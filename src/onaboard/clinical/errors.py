"""Errors the engine raises for input it refuses.

Every problem carries its place (line and column for files) so the person who made the file can mend it, and
every message is a module constant so tests assert it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.column is None:
            return f"line {self.line}: {self.message}"
        return f"line {self.line}, column {self.column}: {self.message}"


class InvalidInputError(ValueError):
    """Input refused as a whole; ``problems`` lists every reason, in file order."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class RefusedError(ValueError):
    """A request the engine refuses (a plan, a schedule, a questionnaire); ``problems`` lists every reason."""

    def __init__(self, *problems: str) -> None:
        self.problems: tuple[str, ...] = problems
        super().__init__("\n".join(problems))


class DiaryError(InvalidInputError):
    """A headache diary file that breaks the diary CSV contract (shared/spec/diary-csv.md)."""
