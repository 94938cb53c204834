"""The course: Markdown modules with a front matter block, read from ``training/content/*.md``.

A module file starts with a block between two ``---`` lines of ``key: value`` pairs:

- ``id`` (letters, digits and hyphens), ``title``;
- ``level``: ``new`` (new to the treatment), ``practising`` or ``trainer``;
- ``order``: a whole number; modules unlock in level order, then in this order;
- ``pass_mark``: the percentage of quiz questions needed to pass (1-100);
- ``questions``: how many questions one quiz attempt draws;
- ``quiz``: comma-separated question kinds (see ``onaboard.training.quiz.KINDS``).

The body below the block is the module's text in Markdown. A bad file is refused naming the file and the field.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "CONTENT_PACKAGE",
    "ContentError",
    "Level",
    "Module",
    "load_course",
    "parse_module",
]

CONTENT_PACKAGE = "onaboard.training.content"

REQUIRED_FIELDS = ("id", "title", "level", "order", "pass_mark", "questions", "quiz")

NO_FRONT_MATTER = "{name}: the file must start with a front matter block between two '---' lines"
BAD_LINE = "{name}: front matter line {line} is not 'key: value'"
MISSING_FIELD = "{name}: front matter field '{field}' is missing"
UNKNOWN_FIELD = "{name}: unknown front matter field '{field}'"
BAD_ID = "{name}: id must be lower-case letters, digits and hyphens, got {value!r}"
BAD_LEVEL = "{name}: level must be new, practising or trainer, got {value!r}"
BAD_NUMBER = "{name}: {field} must be a whole number, got {value!r}"
BAD_PASS_MARK = "{name}: pass_mark must be from 1 to 100, got {value}"  # noqa: S105 - a message, not a secret
BAD_QUESTIONS = "{name}: questions must be at least 1, got {value}"
BAD_KIND = "{name}: unknown quiz kind {value!r} (known: {known})"
EMPTY_BODY = "{name}: the module has no text"
DUPLICATE_ID = "{name}: id {value!r} is used by another module"
DUPLICATE_ORDER = "{name}: order {value} is used by another module of level {level}"

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class ContentError(ValueError):
    """Course content refused; ``problems`` lists every reason."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Level(enum.StrEnum):
    """Who a module is for, in the order a trainee meets them."""

    NEW = "new"
    PRACTISING = "practising"
    TRAINER = "trainer"


@dataclass(frozen=True, slots=True)
class Module:
    """One course module: its place in the course, its quiz and its text (Markdown)."""

    id: str
    title: str
    level: Level
    order: int
    pass_mark: int
    questions: int
    quiz: tuple[str, ...]
    body: str

    @property
    def sort_key(self) -> tuple[int, int]:
        return (list(Level).index(self.level), self.order)


def _front_matter(name: str, text: str) -> tuple[dict[str, str], str]:
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ContentError(NO_FRONT_MATTER.format(name=name))
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise ContentError(NO_FRONT_MATTER.format(name=name)) from None
    fields: dict[str, str] = {}
    problems = []
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            problems.append(BAD_LINE.format(name=name, line=number))
            continue
        fields[key.strip()] = value.strip()
    if problems:
        raise ContentError(*problems)
    return fields, "\n".join(lines[end + 1 :]).strip() + "\n"


def _whole(name: str, field: str, value: str, problems: list[str]) -> int:
    if not re.fullmatch(r"[0-9]+", value):
        problems.append(BAD_NUMBER.format(name=name, field=field, value=value))
        return 0
    return int(value)


def parse_module(name: str, text: str, *, known_kinds: Iterable[str]) -> Module:
    """One module from its file's text; ``name`` names the file in messages. Raises ``ContentError``."""
    fields, body = _front_matter(name, text)
    problems = [MISSING_FIELD.format(name=name, field=field) for field in REQUIRED_FIELDS if field not in fields]
    problems += [UNKNOWN_FIELD.format(name=name, field=field) for field in fields if field not in REQUIRED_FIELDS]
    if problems:
        raise ContentError(*problems)
    if not _ID.fullmatch(fields["id"]):
        problems.append(BAD_ID.format(name=name, value=fields["id"]))
    try:
        level = Level(fields["level"])
    except ValueError:
        problems.append(BAD_LEVEL.format(name=name, value=fields["level"]))
        level = Level.NEW
    order = _whole(name, "order", fields["order"], problems)
    pass_mark = _whole(name, "pass_mark", fields["pass_mark"], problems)
    if "pass_mark" not in " ".join(problems) and not 1 <= pass_mark <= 100:
        problems.append(BAD_PASS_MARK.format(name=name, value=pass_mark))
    questions = _whole(name, "questions", fields["questions"], problems)
    if "questions must be a whole" not in " ".join(problems) and questions < 1:
        problems.append(BAD_QUESTIONS.format(name=name, value=questions))
    known = tuple(known_kinds)
    kinds = tuple(kind.strip() for kind in fields["quiz"].split(",") if kind.strip())
    problems += [BAD_KIND.format(name=name, value=kind, known=", ".join(known)) for kind in kinds if kind not in known]
    if not kinds:
        problems.append(BAD_KIND.format(name=name, value="", known=", ".join(known)))
    if not body.strip():
        problems.append(EMPTY_BODY.format(name=name))
    if problems:
        raise ContentError(*problems)
    return Module(fields["id"], fields["title"], level, order, pass_mark, questions, kinds, body)


def load_course(files: Iterable[tuple[str, str]] | None = None) -> tuple[Module, ...]:
    """Every module, in course order (level, then order). ``files`` are ``(name, text)`` pairs; by default the
    Markdown files shipped in ``onaboard/training/content``. Raises ``ContentError`` listing every problem."""
    from onaboard.training.quiz import KINDS

    if files is None:
        folder = resources.files(CONTENT_PACKAGE)
        files = sorted(
            (entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir() if entry.name.endswith(".md")
        )
    modules: list[Module] = []
    problems: list[str] = []
    for name, text in files:
        try:
            modules.append(parse_module(name, text, known_kinds=KINDS))
        except ContentError as error:
            problems.extend(error.problems)
    seen_ids: set[str] = set()
    seen_orders: set[tuple[Level, int]] = set()
    for module in modules:
        if module.id in seen_ids:
            problems.append(DUPLICATE_ID.format(name=module.title, value=module.id))
        if (module.level, module.order) in seen_orders:
            problems.append(DUPLICATE_ORDER.format(name=module.id, value=module.order, level=module.level))
        seen_ids.add(module.id)
        seen_orders.add((module.level, module.order))
    if problems:
        raise ContentError(*problems)
    return tuple(sorted(modules, key=lambda module: module.sort_key))
